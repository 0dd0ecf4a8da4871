using System.Buffers;
using System.Buffers.Binary;
using Gatehouse.Protocols.Masking;
using Gatehouse.Proxy.Core.Relay;
using static Gatehouse.Protocols.Masking.ServerMessageMasking;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// An ErrorResponse or NoticeResponse in a masked session (see <see cref="ServerMessageMasking"/>). A data
/// exception (SQLSTATE class 22) quotes the value it could not take: that value is masked in the message,
/// and its detail and context (a JSON error's "line 1: …") are withheld. An integrity violation (class 23)
/// shows the row or key in its detail, which is withheld. Any text field in which a detector finds a value
/// (a RAISE that prints one) is withheld whole. Code, position and the names of schema, table, column,
/// type and constraint pass unchanged. The fields are judged where they lie in the message; only a message
/// that changes is written anew.
/// </summary>
internal static class PgServerMessageMasker
{
    private const byte Quote = (byte)'"';

    public static RewriteDecision Mask(byte type, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        // First the SQLSTATE, wherever its field stands: it decides how the texts before it are judged.
        var sqlState = ReadOnlySpan<byte>.Empty;
        var fields = new FieldReader(body);
        while (fields.Next(out var code, out var value))
        {
            if (!System.Text.Unicode.Utf8.IsValid(value))
            {
                return Malformed("error or notice");
            }

            sqlState = code == (byte)'C' ? value : sqlState;
        }

        if (!fields.AtEnd)
        {
            return Malformed("error or notice");
        }

        var dataError = sqlState.StartsWith("22"u8);
        var integrityError = sqlState.StartsWith("23"u8);
        var length = 4 + 1;
        var changed = false;
        for (fields = new FieldReader(body); fields.Next(out var code, out var value);)
        {
            var verdict = Judge(code, value, dataError, integrityError);
            changed |= verdict != Verdict.Keep;
            length += 1 + ServerMessageMasking.Length(value, verdict, Quote) + 1;
        }

        if (!changed)
        {
            return RewriteDecision.Pass;
        }

        // Rare (a data error, or a text that shows a value): judged again rather than remembered.
        var span = output.GetSpan(1 + length);
        span[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], length);
        var at = 5;
        for (fields = new FieldReader(body); fields.Next(out var code, out var value);)
        {
            span[at++] = code;
            at += Write(value, Judge(code, value, dataError, integrityError), Quote, span[at..]);
            span[at++] = 0;
        }

        span[at++] = 0;
        output.Advance(at);
        return RewriteDecision.Replace;
    }

    /// <summary>
    /// A NotificationResponse: its payload is whatever another session passed to NOTIFY (an application's, an
    /// exempt one's), so a payload in which a detector finds a value is withheld; process id and channel stay.
    /// </summary>
    public static RewriteDecision MaskNotification(ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        var channelEnd = body.Length < 4 ? -1 : body[4..].IndexOf((byte)0);
        var payloadEnd = channelEnd < 0 ? -1 : body[(5 + channelEnd)..].IndexOf((byte)0);
        if (payloadEnd < 0)
        {
            return Malformed("NotificationResponse");
        }

        var channel = body.Slice(4, channelEnd);
        var payload = body.Slice(5 + channelEnd, payloadEnd);
        if (!System.Text.Unicode.Utf8.IsValid(channel) || !System.Text.Unicode.Utf8.IsValid(payload))
        {
            return Malformed("NotificationResponse");
        }

        if (!ShowsValue(payload))
        {
            return RewriteDecision.Pass;
        }

        var length = 4 + 4 + channel.Length + 1 + WithheldUtf8.Length + 1;
        var span = output.GetSpan(1 + length);
        span[0] = (byte)BackendCode.NotificationResponse;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], length);
        body[..4].CopyTo(span[5..]); // the process id
        channel.CopyTo(span[9..]);
        span[9 + channel.Length] = 0;
        WithheldUtf8.CopyTo(span[(10 + channel.Length)..]);
        span[length] = 0;
        output.Advance(1 + length);
        return RewriteDecision.Replace;
    }

    private static RewriteDecision Malformed(string what) => RewriteDecision.End(SessionEndReason.ProtocolViolation, $"malformed {what} from the upstream");

    /// <summary>What the client may see of one field.</summary>
    private static Verdict Judge(byte code, ReadOnlySpan<byte> value, bool dataError, bool integrityError) => code switch
    {
        (byte)'M' when dataError => JudgeQuoting(value, Quote),
        (byte)'D' or (byte)'W' or (byte)'q' when dataError || integrityError => Verdict.Withhold,
        (byte)'M' or (byte)'D' or (byte)'H' or (byte)'W' or (byte)'q' => JudgeText(value),
        _ => Verdict.Keep, // severity, code, position, file, line, routine, and names of objects
    };

    /// <summary>The fields of an ErrorResponse or NoticeResponse body: a code byte and a NUL-terminated UTF-8 text each, then a zero.</summary>
    private ref struct FieldReader(ReadOnlySpan<byte> body)
    {
        private ReadOnlySpan<byte> _rest = body;

        /// <summary>Whether the fields read so far ended at the final zero (anything after it is ignored, as before).</summary>
        public readonly bool AtEnd => !_rest.IsEmpty && _rest[0] == 0;

        /// <summary>The next field; false at the final zero and at anything malformed (<see cref="AtEnd"/> tells them apart).</summary>
        public bool Next(out byte code, out ReadOnlySpan<byte> value)
        {
            value = default;
            code = _rest.IsEmpty ? (byte)0 : _rest[0];
            var end = code == 0 ? -1 : _rest[1..].IndexOf((byte)0);
            if (end < 0)
            {
                return false;
            }

            value = _rest.Slice(1, end);
            _rest = _rest[(end + 2)..];
            return true;
        }
    }
}
