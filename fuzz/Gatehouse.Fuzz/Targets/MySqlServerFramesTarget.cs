using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Fuzz.Targets;

/// <summary>
/// The database-to-client MySQL relay: <see cref="Proxy.Core.Relay.FrameRelay"/> with the server decoder
/// (responses from sequence 1, continuations, the cap) and, by default, the session rewriter, which ends
/// the session on a LOCAL INFILE request opening a response. Checked against <see cref="Support.RelayModel"/>.
/// </summary>
internal sealed class MySqlServerFramesTarget : IFuzzTarget
{
    public static string Name => "mysql-server-frames";

    public static void Run(ReadOnlySpan<byte> input) => MySqlRelayTargetDriver.Run(Direction.UpstreamToClient, Name, input, 0xFB);
}
