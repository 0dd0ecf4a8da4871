using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Gatehouse.Protocols.Masking;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// An ErrorResponse or NoticeResponse in a masked session (see <see cref="ServerMessageMasking"/>). A data
/// exception (SQLSTATE class 22) quotes the value it could not take: that value is masked in the message,
/// and its detail and context (a JSON error's "line 1: …") are withheld. An integrity violation (class 23)
/// shows the row or key in its detail, which is withheld. Any text field in which a detector finds a value
/// (a RAISE that prints one) is withheld whole. Code, position and the names of schema, table, column,
/// type and constraint pass unchanged.
/// </summary>
internal static class PgServerMessageMasker
{
    public static RewriteDecision Mask(byte type, ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        var fields = new List<(byte Code, string Value)>();
        var reader = new PgSpanReader(body);
        string sqlState = "";
        while (true)
        {
            if (!reader.TryReadByte(out var code))
            {
                return RewriteDecision.End(SessionEndReason.ProtocolViolation, "malformed error or notice from the upstream");
            }

            if (code == 0)
            {
                break;
            }

            if (!reader.TryReadCString(out var value))
            {
                return RewriteDecision.End(SessionEndReason.ProtocolViolation, "malformed error or notice from the upstream");
            }

            fields.Add((code, value));
            sqlState = code == (byte)'C' ? value : sqlState;
        }

        var changed = false;
        for (var i = 0; i < fields.Count; i++)
        {
            var (code, value) = fields[i];
            var masked = Field(code, value, sqlState);
            if (!ReferenceEquals(masked, value))
            {
                fields[i] = (code, masked);
                changed = true;
            }
        }

        if (!changed)
        {
            return RewriteDecision.Pass;
        }

        var length = 4 + 1 + fields.Sum(f => 1 + Encoding.UTF8.GetByteCount(f.Value) + 1);
        var span = output.GetSpan(1 + length);
        span[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], length);
        var at = 5;
        foreach (var (code, value) in fields)
        {
            span[at++] = code;
            at += Encoding.UTF8.GetBytes(value, span[at..]);
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
        var reader = new PgSpanReader(body);
        if (!reader.TryReadInt32(out var process) || !reader.TryReadCString(out var channel) || !reader.TryReadCString(out var payload))
        {
            return RewriteDecision.End(SessionEndReason.ProtocolViolation, "malformed NotificationResponse from the upstream");
        }

        if (!ServerMessageMasking.ShowsValue(payload))
        {
            return RewriteDecision.Pass;
        }

        var channelBytes = Encoding.UTF8.GetBytes(channel);
        var withheld = Encoding.UTF8.GetBytes(ServerMessageMasking.Withheld);
        var length = 4 + 4 + channelBytes.Length + 1 + withheld.Length + 1;
        var span = output.GetSpan(1 + length);
        span[0] = (byte)BackendCode.NotificationResponse;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], length);
        BinaryPrimitives.WriteInt32BigEndian(span[5..], process);
        channelBytes.CopyTo(span[9..]);
        span[9 + channelBytes.Length] = 0;
        withheld.CopyTo(span[(10 + channelBytes.Length)..]);
        span[length] = 0;
        output.Advance(1 + length);
        return RewriteDecision.Replace;
    }

    /// <summary>The field as the client may see it: the same string when nothing changes.</summary>
    private static string Field(byte code, string value, string sqlState)
    {
        var dataError = sqlState.StartsWith("22", StringComparison.Ordinal);
        switch (code)
        {
            case (byte)'M' when dataError:
                var masked = ServerMessageMasking.MaskQuoted(value, '"');
                return ServerMessageMasking.ShowsValue(masked) ? ServerMessageMasking.Withheld : masked;
            case (byte)'D' or (byte)'W' or (byte)'q' when dataError || sqlState.StartsWith("23", StringComparison.Ordinal):
                return ServerMessageMasking.Withheld;
            case (byte)'M' or (byte)'D' or (byte)'H' or (byte)'W' or (byte)'q':
                return ServerMessageMasking.ShowsValue(value) ? ServerMessageMasking.Withheld : value;
            default:
                return value; // severity, code, position, file, line, routine, and names of objects
        }
    }
}
