using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Fuzz.Targets;

/// <summary>
/// The database-to-client relay: <see cref="Proxy.Core.Relay.FrameRelay"/> with the Postgres backend decoder and
/// the session rewriter (which inspects ParameterStatus), over the input delivered in input-chosen writes
/// and segments; checked against <see cref="Support.RelayModel"/> like the frontend target.
/// </summary>
internal sealed class PgBackendFramesTarget : IFuzzTarget
{
    public static string Name => "pg-backend-frames";

    public static void Run(ReadOnlySpan<byte> input) => RelayTargetDriver.Run(Direction.UpstreamToClient, input, (byte)'N');
}
