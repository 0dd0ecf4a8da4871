namespace Gatehouse.Proxy.Core.Relay;

/// <summary>Why a session ended; every session records exactly one.</summary>
public enum SessionEndReason : byte
{
    /// <summary>The client closed its connection or sent Terminate.</summary>
    ClientClosed,
    /// <summary>The database closed its connection.</summary>
    UpstreamClosed,
    /// <summary>Either side broke the wire protocol.</summary>
    ProtocolViolation,
    /// <summary>The client's credentials were refused.</summary>
    AuthFailed,
    /// <summary>The gateway is shutting down.</summary>
    Shutdown,
    /// <summary>The login did not finish before its deadline.</summary>
    LoginTimeout,
    /// <summary>The session was idle for longer than allowed.</summary>
    IdleTimeout,
    /// <summary>The session reached its maximum lifetime.</summary>
    SessionExpired,
    /// <summary>The database could not be reached or refused the gateway's own login.</summary>
    UpstreamUnavailable,
    /// <summary>A rewriter (policy, recording) ended the session.</summary>
    Enforced,
    /// <summary>A transport error (reset, TLS failure) on either side.</summary>
    TransportError,
    /// <summary>The session's recording failed: nothing unrecorded is forwarded, so the session ends.</summary>
    RecordingFailed,
    /// <summary>A configuration reload withdrew the subject's access to the session's upstream.</summary>
    AccessWithdrawn,
}
