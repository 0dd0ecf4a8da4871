namespace Gatehouse.Proxy.Core.Relay;

/// <summary>Which way a frame travels.</summary>
public enum Direction : byte
{
    /// <summary>From the client toward the database.</summary>
    ClientToUpstream,
    /// <summary>From the database toward the client.</summary>
    UpstreamToClient,
}
