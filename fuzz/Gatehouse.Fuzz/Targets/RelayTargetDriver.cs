using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Fuzz.Targets;

/// <summary>
/// Shared driver of the relay targets. Input: an <see cref="InputPlan"/> byte, an options byte, then the
/// stream of messages. Options: bits 0-1 the frontend statement cap, bits 2-3 the relay's inspection
/// limit, bits 4-5 the rewriter (0 the Postgres session rewriter, 1 <see cref="ScriptedRewriter"/> (replace,
/// inject, reply; with bit 6, hold too), 2 inspect everything, 3 inspect everything and drop one type).
/// </summary>
internal static class RelayTargetDriver
{
    private static readonly int[] StatementCaps = [16 * 1024 * 1024, 4096, 64, 5];
    private static readonly long[] InspectLimits = [16 * 1024 * 1024, 4096, 256, 16];

    public static void Run(Direction direction, ReadOnlySpan<byte> input, byte dropType)
    {
        var plan = InputPlan.Read(input, out var rest);
        var options = rest.IsEmpty ? (byte)0 : rest[0];
        var data = rest.IsEmpty ? [] : rest[1..].ToArray();

        IFrameDecoder decoder = direction == Direction.ClientToUpstream
            ? PgFrameDecoder.ForFrontend(StatementCaps[options & 3])
            : PgFrameDecoder.Backend;
        var limits = new RelayLimits { MaxInspectedFrame = InspectLimits[(options >> 2) & 3] };
        var hold = (options & 0x40) != 0;
        (IFrameRewriter rewriter, IFrameRewriter model) = ((options >> 4) & 3) switch
        {
            1 => (new ScriptedRewriter(dropType, hold), new ScriptedRewriter(dropType, hold: false)),
            2 => (new ModelRewriter(null), new ModelRewriter(null)),
            3 => (new ModelRewriter(dropType), new ModelRewriter(dropType)),
            _ => ((IFrameRewriter)new PgSessionRewriter(), (IFrameRewriter)new PgSessionRewriter()),
        };

        var expected = RelayModel.Expect(direction, decoder, model, limits, data);
        var actual = InMemoryRelay.RunAsync(direction, decoder, rewriter, limits, data, plan.ChunkSizes(data.Length), plan.BlockSize)
            .GetAwaiter().GetResult();
        RelayModel.AssertSame(expected, actual, $"{direction} relay, {plan}, options 0x{options:X2}");
        var name = direction == Direction.ClientToUpstream ? "pg-frontend-frames" : "pg-backend-frames";
        FuzzCounters.Hit($"{name}.{actual.Outcome.Reason}");
        if (actual.Frames >= 3)
        {
            FuzzCounters.Hit($"{name}.frames>=3");
        }
    }
}
