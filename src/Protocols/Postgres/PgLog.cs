using Microsoft.Extensions.Logging;

namespace Gatehouse.Protocols.Postgres;

/// <summary>PostgreSQL path logging; event ids 2000-2099 (MySqlConnector <c>Log.cs</c> + <c>EventIds.cs</c>).</summary>
internal static partial class PgLog
{
    [LoggerMessage(2000, LogLevel.Information, "Session {SessionId} on {Listener}: {Subject} logged in from {Remote} (tls={Tls}, roles={Roles}) to {Upstream}/{Database}")]
    public static partial void SessionStarted(ILogger logger, string sessionId, string listener, string subject, string? remote, bool tls, string roles, string upstream, string database);

    [LoggerMessage(2001, LogLevel.Information, "Session {SessionId} ended: {Reason}{Detail}; {ClientMessages} messages/{ClientBytes} bytes from the client, {UpstreamMessages} messages/{UpstreamBytes} bytes from the upstream")]
    public static partial void SessionEnded(ILogger logger, string sessionId, string reason, string? detail, long clientMessages, long clientBytes, long upstreamMessages, long upstreamBytes);

    [LoggerMessage(2002, LogLevel.Warning, "Connection {SessionId} on {Listener} from {Remote} refused: {Reason} ({Kind})")]
    public static partial void LoginRefused(ILogger logger, string sessionId, string listener, string? remote, string reason, string kind);

    [LoggerMessage(2003, LogLevel.Warning, "Connection {SessionId} on {Listener} from {Remote}: protocol violation: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, string sessionId, string listener, string? remote, string reason);

    [LoggerMessage(2004, LogLevel.Error, "Session {SessionId}: upstream {Upstream} unavailable: {Reason}")]
    public static partial void UpstreamUnavailable(ILogger logger, string sessionId, string upstream, string reason);

    [LoggerMessage(2005, LogLevel.Information, "Cancel request for a minted key forwarded to {Upstream}")]
    public static partial void CancelForwarded(ILogger logger, string upstream);

    [LoggerMessage(2006, LogLevel.Warning, "Cancel request for an unknown key from {Remote} ignored")]
    public static partial void CancelUnknown(ILogger logger, string? remote);

    [LoggerMessage(2007, LogLevel.Debug, "Connection {SessionId}: transport error during login: {Reason}")]
    public static partial void TransportError(ILogger logger, string sessionId, string reason);

    [LoggerMessage(2020, LogLevel.Error, "Masking catalog of {Upstream}/{Database} unavailable, columns it cannot resolve are masked whole: {Reason}")]
    public static partial void CatalogUnavailable(ILogger logger, string upstream, string database, string reason);

    [LoggerMessage(2021, LogLevel.Error, "Session {SessionId}: recording unavailable, nothing more is relayed for it: {Reason}")]
    public static partial void RecordingUnavailable(ILogger logger, string sessionId, string reason);
}
