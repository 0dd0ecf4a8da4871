using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Fuzz.Targets;

/// <summary>
/// The client-to-database MySQL relay: <see cref="Proxy.Core.Relay.FrameRelay"/> with the client decoder
/// (commands at sequence 0, continuations, the cap) and, by default, the session rewriter (KILL rewriting,
/// refused commands answered with ERR). Must end with an outcome, agree with <see cref="Support.RelayModel"/>,
/// and answer only with ERR packets.
/// </summary>
internal sealed class MySqlClientFramesTarget : IFuzzTarget
{
    public static string Name => "mysql-client-frames";

    public static void Run(ReadOnlySpan<byte> input) => MySqlRelayTargetDriver.Run(Direction.ClientToUpstream, Name, input, 0x03);
}
