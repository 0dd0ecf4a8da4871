using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Gatehouse.Protocols.Masking;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Protocols.MySql.Masking;

/// <summary>
/// An ERR packet in a masked session (see <see cref="ServerMessageMasking"/>). The errors that quote the value
/// they could not take (XPATH syntax errors, truncated or incorrect values, duplicate entries, invalid JSON)
/// have that value masked; any message in which a detector finds a value is withheld whole. Code, SQLSTATE
/// and sequence id stay as the server sent them.
/// </summary>
internal static class MySqlErrorMasker
{
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
        var rest = payload[3..];
        var sqlState = "HY000";
        if (rest.Length >= 6 && rest[0] == (byte)'#')
        {
            sqlState = Encoding.ASCII.GetString(rest.Slice(1, 5));
            rest = rest[6..];
        }

        var message = Encoding.UTF8.GetString(rest);
        var masked = QuotesValues.Contains(code) ? ServerMessageMasking.MaskQuoted(message, '\'') : message;
        masked = ServerMessageMasking.ShowsValue(masked) ? ServerMessageMasking.Withheld : masked;
        if (ReferenceEquals(masked, message))
        {
            return RewriteDecision.Pass;
        }

        MySqlPacketWriter.Error(output, sequence, code, sqlState, masked);
        return RewriteDecision.Replace;
    }
}
