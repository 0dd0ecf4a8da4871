using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Fuzz.Targets;

/// <summary>
/// The client-to-database relay: <see cref="Proxy.Core.Relay.FrameRelay"/> with the Postgres frontend decoder over the
/// input delivered in input-chosen writes and segments. The relay must end with an outcome (never throw),
/// and its output, outcome and counters must match <see cref="Support.RelayModel"/> on the contiguous input.
/// </summary>
internal sealed class PgFrontendFramesTarget : IFuzzTarget
{
    public static string Name => "pg-frontend-frames";

    public static void Run(ReadOnlySpan<byte> input) => RelayTargetDriver.Run(Direction.ClientToUpstream, input, (byte)'Q');
}
