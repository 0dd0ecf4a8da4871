using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy.Core.Policy;

/// <summary>Statement policy log events (3200-3299). Statement text never appears: only its fingerprint.</summary>
internal static partial class PolicyLog
{
    [LoggerMessage(3200, LogLevel.Warning, "Session {SessionId}: {Subject} on {Upstream}: statement {Fingerprint} refused ({Decision}) by rule {Rule}: kind {Kind}, risks {Risks}, objects [{Objects}]")]
    public static partial void Refused(ILogger logger, string sessionId, string subject, string upstream, string fingerprint, string decision, string rule, string kind, string risks, string objects);

    [LoggerMessage(3201, LogLevel.Debug, "Session {SessionId}: {Subject} on {Upstream}: statement {Fingerprint} allowed by rule {Rule}: kind {Kind}, risks {Risks}")]
    public static partial void Allowed(ILogger logger, string sessionId, string subject, string upstream, string fingerprint, string rule, string kind, string risks);
}
