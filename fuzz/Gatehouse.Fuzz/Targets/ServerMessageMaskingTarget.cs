using System.Buffers;
using System.Buffers.Binary;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.Masking;
using Gatehouse.Protocols.MySql.Masking;
using Gatehouse.Protocols.Postgres.Masking;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Fuzz.Targets;

/// <summary>
/// A masked session's error and notice maskers fed hostile server messages. Input: a kind byte (low 2 bits:
/// PostgreSQL ErrorResponse, NoticeResponse, NotificationResponse, MySQL ERR payload), then the message body.
/// Nothing may throw. A malformed message must end the session, and only a malformed one (checked by this
/// target's own reading of the format). What reaches the client, passed or rewritten, must be well formed,
/// keep every field's code (and the MySQL code, SQLSTATE and sequence id), and show no value a content
/// detector finds in any text the maskers judge.
/// </summary>
internal sealed class ServerMessageMaskingTarget : IFuzzTarget
{
    public static string Name => "server-message-masking";

    public static void Run(ReadOnlySpan<byte> input)
    {
        var kind = input.IsEmpty ? 0 : input[0] & 3;
        var body = input.IsEmpty ? input : input[1..];
        var output = new ArrayBufferWriter<byte>();
        switch (kind)
        {
            case 0 or 1:
                var type = kind == 0 ? (byte)'E' : (byte)'N';
                var decision = PgServerMessageMasker.Mask(type, body, output);
                Check(decision, output, ReadPgFields(body) is null, "error or notice");
                if (decision.Action == RewriteAction.Pass)
                {
                    CheckPgFields(ReadPgFields(body)!, ReadPgFields(body)!);
                }
                else if (decision.Action == RewriteAction.Replace)
                {
                    var message = output.WrittenSpan;
                    if (message[0] != type || BinaryPrimitives.ReadInt32BigEndian(message[1..]) != message.Length - 1)
                    {
                        throw new FuzzInvariantException("a rewritten error or notice with the wrong type or length");
                    }

                    CheckPgFields(ReadPgFields(body)!, ReadPgFields(message[5..]) ?? throw new FuzzInvariantException("a rewritten error or notice is malformed"));
                }

                break;
            case 2:
                var notification = PgServerMessageMasker.MaskNotification(body, output);
                Check(notification, output, !IsNotification(body), "notification");
                if (notification.Action != RewriteAction.End)
                {
                    var sent = notification.Action == RewriteAction.Pass ? body : output.WrittenSpan[5..];
                    if (!IsNotification(sent) || !sent[..4].SequenceEqual(body[..4]) || ShowsValue(PayloadOf(sent)))
                    {
                        throw new FuzzInvariantException("a notification reaches the client malformed, changed in its process or showing a value");
                    }
                }

                break;
            default:
                var err = MySqlErrorMasker.Mask(7, body, output);
                Check(err, output, body.Length < 3, "ERR packet");
                if (err.Action == RewriteAction.Pass && ShowsValue(MySqlMessage(body)))
                {
                    throw new FuzzInvariantException("an ERR message that shows a value passed");
                }

                if (err.Action == RewriteAction.Replace)
                {
                    var packet = output.WrittenSpan;
                    var payload = packet[4..];
                    if ((packet[0] | (packet[1] << 8) | (packet[2] << 16)) != payload.Length || packet[3] != 7 || payload[0] != 0xFF
                        || !payload.Slice(1, 2).SequenceEqual(body.Slice(1, 2)) || ShowsValue(MySqlMessage(payload)))
                    {
                        throw new FuzzInvariantException("a rewritten ERR packet is malformed, changed in its code or sequence, or shows a value");
                    }
                }

                break;
        }
    }

    private static void Check(RewriteDecision decision, ArrayBufferWriter<byte> output, bool malformed, string what)
    {
        FuzzCounters.Hit($"{Name}.{decision.Action}");
        if ((decision.Action == RewriteAction.End) != malformed)
        {
            throw new FuzzInvariantException(malformed ? $"a malformed {what} was not refused" : $"a well-formed {what} ended the session");
        }

        if ((decision.Action == RewriteAction.Replace) != (output.WrittenCount > 0))
        {
            throw new FuzzInvariantException($"{decision.Action} with {output.WrittenCount} bytes written");
        }
    }

    /// <summary>The fields (code, text) of an ErrorResponse or NoticeResponse body; null when malformed.</summary>
    private static List<(byte Code, byte[] Text)>? ReadPgFields(ReadOnlySpan<byte> body)
    {
        var fields = new List<(byte, byte[])>();
        while (!body.IsEmpty && body[0] != 0)
        {
            var end = body[1..].IndexOf((byte)0);
            if (end < 0 || !System.Text.Unicode.Utf8.IsValid(body.Slice(1, end)))
            {
                return null;
            }

            fields.Add((body[0], body.Slice(1, end).ToArray()));
            body = body[(end + 2)..];
        }

        return body.IsEmpty ? null : fields;
    }

    private static void CheckPgFields(List<(byte Code, byte[] Text)> received, List<(byte Code, byte[] Text)> sent)
    {
        if (received.Count != sent.Count)
        {
            throw new FuzzInvariantException($"{received.Count} fields received, {sent.Count} sent");
        }

        for (var i = 0; i < sent.Count; i++)
        {
            if (sent[i].Code != received[i].Code)
            {
                throw new FuzzInvariantException($"field {i}'s code changed");
            }

            if (sent[i].Code is (byte)'M' or (byte)'D' or (byte)'H' or (byte)'W' or (byte)'q' && ShowsValue(sent[i].Text))
            {
                throw new FuzzInvariantException($"field {(char)sent[i].Code} reaches the client showing a value");
            }

            if (!sent[i].Text.AsSpan().SequenceEqual(received[i].Text))
            {
                FuzzCounters.Hit($"{Name}.field-changed");
            }
        }
    }

    private static bool IsNotification(ReadOnlySpan<byte> body)
    {
        var channelEnd = body.Length < 4 ? -1 : body[4..].IndexOf((byte)0);
        return channelEnd >= 0 && body[(5 + channelEnd)..].IndexOf((byte)0) >= 0 && System.Text.Unicode.Utf8.IsValid(body.Slice(4, channelEnd))
            && System.Text.Unicode.Utf8.IsValid(PayloadOf(body));
    }

    private static ReadOnlySpan<byte> PayloadOf(ReadOnlySpan<byte> body)
    {
        var rest = body[(5 + body[4..].IndexOf((byte)0))..];
        return rest[..rest.IndexOf((byte)0)];
    }

    private static ReadOnlySpan<byte> MySqlMessage(ReadOnlySpan<byte> payload)
        => payload.Length >= 9 && payload[3] == (byte)'#' ? payload[9..] : payload[3..];

    private static bool ShowsValue(ReadOnlySpan<byte> text) => ContentDetector.Detect(text, ContentKinds.All) != ContentKinds.None;
}
