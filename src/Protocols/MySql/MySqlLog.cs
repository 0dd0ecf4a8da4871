using Microsoft.Extensions.Logging;

namespace Gatehouse.Protocols.MySql;

/// <summary>MySQL path logging; event ids 2100-2199.</summary>
internal static partial class MySqlLog
{
    [LoggerMessage(2100, LogLevel.Information, "Session {SessionId} on {Listener}: {Subject} logged in from {Remote} (tls={Tls}, roles={Roles}) to {Upstream}/{Database}")]
    public static partial void SessionStarted(ILogger logger, string sessionId, string listener, string subject, string? remote, bool tls, string roles, string upstream, string database);

    [LoggerMessage(2101, LogLevel.Information, "Session {SessionId} ended: {Reason}{Detail}; {ClientPackets} packets/{ClientBytes} bytes from the client, {UpstreamPackets} packets/{UpstreamBytes} bytes from the upstream")]
    public static partial void SessionEnded(ILogger logger, string sessionId, string reason, string? detail, long clientPackets, long clientBytes, long upstreamPackets, long upstreamBytes);

    [LoggerMessage(2102, LogLevel.Warning, "Connection {SessionId} on {Listener} from {Remote} refused: {Reason} ({Kind})")]
    public static partial void LoginRefused(ILogger logger, string sessionId, string listener, string? remote, string reason, string kind);

    [LoggerMessage(2103, LogLevel.Warning, "Connection {SessionId} on {Listener} from {Remote}: protocol violation: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, string sessionId, string listener, string? remote, string reason);

    [LoggerMessage(2104, LogLevel.Error, "Session {SessionId}: upstream {Upstream} unavailable: {Reason}")]
    public static partial void UpstreamUnavailable(ILogger logger, string sessionId, string upstream, string reason);

    [LoggerMessage(2105, LogLevel.Debug, "Connection {SessionId}: transport error: {Reason}")]
    public static partial void TransportError(ILogger logger, string sessionId, string reason);

    [LoggerMessage(2106, LogLevel.Warning, "Masking catalog of upstream {Upstream} unavailable: {Reason}; columns it cannot resolve are masked whole")]
    public static partial void CatalogUnavailable(ILogger logger, string upstream, string reason);

    [LoggerMessage(2107, LogLevel.Error, "Session {SessionId}: recording unavailable, nothing more is relayed for it: {Reason}")]
    public static partial void RecordingUnavailable(ILogger logger, string sessionId, string reason);
}
