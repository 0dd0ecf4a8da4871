namespace Gatehouse.Proxy.Core.Relay;

/// <summary>Per-session bounds of the relay.</summary>
public sealed record RelayLimits
{
    /// <summary>
    /// The largest frame a rewriter may ask to see whole. Frames nobody inspects stream and have no such
    /// bound. 16 MiB covers any realistic query text while keeping one hostile session's memory bounded.
    /// </summary>
    public long MaxInspectedFrame { get; init; } = 16 * 1024 * 1024;
}
