namespace Gatehouse.Proxy.Core.Relay;

/// <summary>Per-session bounds of the relay.</summary>
public sealed record RelayLimits
{
    /// <summary>
    /// The largest frame a rewriter may ask to see whole. Frames nobody inspects stream and have no such
    /// bound. 16 MiB covers any realistic query text while keeping one hostile session's memory bounded.
    /// </summary>
    public long MaxInspectedFrame { get; init; } = 16 * 1024 * 1024;

    /// <summary>A session with no bytes in either direction for this long is ended; null = never.</summary>
    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>
    /// A session older than this is ended, however busy: the login's token was checked once, so its
    /// authority must not outlive the policy's idea of a session (DESIGN §2); null = never.
    /// </summary>
    public TimeSpan? MaxSessionDuration { get; init; }
}
