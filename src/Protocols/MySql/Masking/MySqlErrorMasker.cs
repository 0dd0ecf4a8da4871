using System.Buffers;
using System.Buffers.Binary;
using Gatehouse.Protocols.Masking;
using Gatehouse.Proxy.Core.Relay;
using static Gatehouse.Protocols.Masking.ServerMessageMasking;

namespace Gatehouse.Protocols.MySql.Masking;

/// <summary>
/// An ERR packet in a masked session (see <see cref="ServerMessageMasking"/>). The errors that quote the value
/// they could not take (XPATH syntax errors, truncated or incorrect values, duplicate entries, invalid JSON)
/// have that value masked; any message in which a detector finds a value is withheld whole. Code, SQLSTATE
/// and sequence id stay as the server sent them. The message is judged as the bytes it came in; only a
/// packet that changes is written anew.
/// </summary>
internal static class MySqlErrorMasker
{
    private const byte Quote = (byte)'\'';

    // ER_DUP_ENTRY, ER_UNKNOWN_ERROR (XPATH syntax error), ER_TRUNCATED_WRONG_VALUE, ER_TRUNCATED_WRONG_VALUE_FOR_FIELD,
    // ER_ILLEGAL_VALUE_FOR_TYPE, ER_WRONG_VALUE_FOR_TYPE, ER_WRONG_VALUE, ER_DUP_ENTRY_WITH_KEY_NAME,
    // ER_DATA_OVERFLOW-like conversions, ER_INVALID_JSON_TEXT, MariaDB's JSON syntax errors.
    private static readonly HashSet<ushort> QuotesValues = [1062, 1105, 1292, 1366, 1367, 1411, 1525, 1586, 1918, 3140, 4038];

    /// <param name="payload">The ERR packet's payload (0xFF, code, '#' and SQLSTATE, message).</param>
    public static RewriteDecision Mask(byte sequence, ReadOnlySpan<byte> payload, IBufferWriter<byte> output)
    {
        if (payload.Length < 3)
        {
            return RewriteDecision.End(SessionEndReason.ProtocolViolation, "malformed ERR packet from the upstream");
        }

        var code = BinaryPrimitives.ReadUInt16LittleEndian(payload[1..]);
        var message = payload[3..];
        var sqlState = "HY000"u8;
        if (message.Length >= 6 && message[0] == (byte)'#')
        {
            sqlState = message.Slice(1, 5);
            message = message[6..];
        }

        var verdict = QuotesValues.Contains(code) ? JudgeQuoting(message, Quote) : JudgeText(message);
        if (verdict == Verdict.Keep)
        {
            return RewriteDecision.Pass;
        }

        const int Head = 1 + 2 + 1 + 5; // 0xFF, code, '#', SQLSTATE
        var length = Head + ServerMessageMasking.Length(message, verdict, Quote);
        if (length >= MySqlFrameDecoder.MaxPayload) // exactly 0xFFFFFF would announce a continuation
        {
            verdict = Verdict.Withhold; // "[masked]" made a message of the largest size too large for one packet
            length = Head + WithheldUtf8.Length;
        }

        var span = output.GetSpan(4 + length);
        MySqlPacketWriter.Header(span, length, sequence);
        span[4] = 0xFF;
        BinaryPrimitives.WriteUInt16LittleEndian(span[5..], code);
        span[7] = (byte)'#';
        sqlState.CopyTo(span[8..]);
        Write(message, verdict, Quote, span[(4 + Head)..]);
        output.Advance(4 + length);
        return RewriteDecision.Replace;
    }
}
