using Microsoft.Extensions.Logging;

namespace Gatehouse.Proxy.Core.Identity;

/// <summary>Identity log messages; event ids 3100–3199. Tokens are never logged, kids only truncated.</summary>
internal static partial class IdentityLog
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Debug, Message = "Token rejected: {Reason} (kid {KeyId})")]
    public static partial void TokenRejected(ILogger logger, TokenRejection reason, string? keyId);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Signing keys refreshed: {KeyIdCount} key ids")]
    public static partial void SigningKeysRefreshed(ILogger logger, int keyIdCount);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Fetching signing keys failed; keeping the last good set")]
    public static partial void SigningKeyFetchFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Error, Message = "No sufficiently fresh signing keys (last fetched {FetchedAt}); logins fail closed")]
    public static partial void SigningKeysUnavailable(ILogger logger, DateTimeOffset? fetchedAt);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Warning, Message = "Skipped a published key that cannot verify signatures (kid {KeyId}, kty {KeyType})")]
    public static partial void SigningKeySkipped(ILogger logger, string? keyId, string? keyType);

    [LoggerMessage(EventId = 3105, Level = LogLevel.Information, Message = "Trusting the development signing key {KeyId}; do not use in production")]
    public static partial void DevelopmentKeyTrusted(ILogger logger, string keyId);
}
