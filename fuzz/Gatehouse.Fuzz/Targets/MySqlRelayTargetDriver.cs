using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.MySql;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Fuzz.Targets;

/// <summary>
/// Shared driver of the MySQL relay targets: <see cref="FrameRelay"/> with <see cref="MySqlFrameDecoder"/>
/// over the input in input-chosen writes and segments, checked against <see cref="RelayModel"/> run with a
/// fresh decoder and rewriter (both are stateful, so the model never shares an instance with the relay).
/// Input: an <see cref="InputPlan"/> byte, an options byte, then the packets. Options: bits 0-1 the decoder's
/// cap on a reassembled packet; bits 2-3 the relay's inspection limit; bits 4-5 the rewriter (0
/// <see cref="MySqlSessionRewriter"/>, 1 inspect everything, 2 inspect everything and drop one type, 3 pass
/// everything); bits 6-7, for the server direction, how many client commands the session rewriter saw
/// before the stream (each expects a response whose first packet may be a LOCAL INFILE request).
/// </summary>
internal static class MySqlRelayTargetDriver
{
    private static readonly long[] Caps = [MySqlFrameDecoder.MaxLogicalPacket, MySqlFrameDecoder.MaxPayload + 64L, 4096, 5];
    private static readonly long[] InspectLimits = [MySqlFrameDecoder.MaxPayload + 4L, 4096, 64, 8];

    public static void Run(Direction direction, string name, ReadOnlySpan<byte> input, byte dropType)
    {
        var plan = InputPlan.Read(input, out var rest);
        var options = rest.IsEmpty ? (byte)0 : rest[0];
        var data = rest.IsEmpty ? [] : rest[1..].ToArray();
        var cap = Caps[options & 3];
        var limits = new RelayLimits { MaxInspectedFrame = InspectLimits[(options >> 2) & 3] };
        var kind = (options >> 4) & 3;
        var pending = (options >> 6) & 3;

        var expected = RelayModel.Expect(direction, Decoder(direction, cap), Rewriter(kind, dropType, pending), limits, data);
        var actual = InMemoryRelay.RunAsync(direction, Decoder(direction, cap), Rewriter(kind, dropType, pending), limits, data, plan.ChunkSizes(data.Length), plan.BlockSize)
            .GetAwaiter().GetResult();
        RelayModel.AssertSame(expected, actual, $"{direction} relay, {plan}, options 0x{options:X2}");

        if (kind == 0 && direction == Direction.ClientToUpstream)
        {
            CheckReplies(actual.Reply);
        }

        FuzzCounters.Hit($"{name}.{actual.Outcome.Reason}");
        if (actual.Frames >= 3)
        {
            FuzzCounters.Hit($"{name}.frames>=3");
        }

        if (actual.Reply.Length > 0)
        {
            FuzzCounters.Hit($"{name}.refused");
        }

        if (actual.Outcome.Detail?.Contains("packet of more than", StringComparison.Ordinal) == true)
        {
            FuzzCounters.Hit($"{name}.over-cap");
        }
    }

    private static MySqlFrameDecoder Decoder(Direction direction, long cap)
        => direction == Direction.ClientToUpstream ? MySqlFrameDecoder.ForClient(cap) : MySqlFrameDecoder.ForServer(cap);

    private static IFrameRewriter Rewriter(int kind, byte dropType, int pending)
    {
        switch (kind)
        {
            case 1:
                return new MySqlModelRewriter(null);
            case 2:
                return new MySqlModelRewriter(dropType);
            case 3:
                return PassThroughRewriter.Instance;
            default:
                var rewriter = new MySqlSessionRewriter(new MySqlConnectionRegistry(), "subject", "upstream");
                for (var i = 0; i < pending; i++)
                {
                    // COM_QUERY without KILL: a response is expected.
                    rewriter.OnHeader(Direction.ClientToUpstream, new FrameHeader(0x0E, 4, 5));
                }

                return rewriter;
        }
    }

    /// <summary>Everything the session rewriter answers a client with is whole ERR packets at sequence 1.</summary>
    private static void CheckReplies(ReadOnlySpan<byte> reply)
    {
        while (!reply.IsEmpty)
        {
            if (reply.Length < 5)
            {
                throw new FuzzInvariantException($"a reply of {reply.Length} bytes is not a packet");
            }

            var length = reply[0] | (reply[1] << 8) | (reply[2] << 16);
            if (reply.Length < 4 + length || reply[3] != 1 || reply[4] != 0xFF || length < 9 || reply[7] != (byte)'#')
            {
                throw new FuzzInvariantException($"the reply {Convert.ToHexString(reply[..Math.Min(reply.Length, 16)])} is not an ERR packet at sequence 1");
            }

            reply = reply[(4 + length)..];
        }
    }
}
