using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Proxy.Core.Identity;

/// <summary>
/// Trusted signing keys by <c>kid</c>: fixed development keys plus a remote set refreshed on a schedule.
/// </summary>
/// <remarks>
/// Written here rather than on <c>ConfigurationManager&lt;T&gt;</c> because DESIGN §2 needs three things it does
/// not give: after its first fetch it refreshes in the background, so a login carrying a freshly rotated
/// <c>kid</c> would fail instead of waiting for the refresh it triggered; it serves its last configuration forever,
/// so a maximum staleness cannot be enforced; and its clock cannot be injected, so neither can be tested.
/// Fetches are single-flight. Two budgets of one fetch per <see cref="IdentityOptions.JwksMinRefreshInterval"/>:
/// one for fetches caused by unknown kids (tracked separately, so a rotation just after a scheduled fetch is still
/// picked up at once, as ConfigurationManager's RequestRefresh does) and one for scheduled or missing-key fetches.
/// Tokens with made-up kids therefore cannot turn the gateway into a load generator against the IdP.
/// </remarks>
internal sealed class SigningKeyStore : IDisposable
{
    // Bounds one fetch so a hung IdP cannot hold logins for the HttpClient's own timeout.
    private static readonly TimeSpan FetchTimeout = TimeSpan.FromSeconds(15);

    private readonly ISigningKeySource? _source;
    private readonly IReadOnlyDictionary<string, JsonWebKey[]> _fixedKeys;
    private readonly TimeSpan _minRefreshInterval;
    private readonly TimeSpan _refreshInterval;
    private readonly TimeSpan _maxStaleness;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly CancellationTokenSource _disposed = new();

    private Snapshot? _snapshot;
    private DateTimeOffset? _lastAttempt;
    private DateTimeOffset? _lastUnknownKeyAttempt;
    private Task _fetch = Task.CompletedTask;

    public SigningKeyStore(
        ISigningKeySource? source,
        IReadOnlyDictionary<string, JsonWebKey[]> fixedKeys,
        IdentityOptions options,
        TimeProvider time,
        ILogger logger)
    {
        _source = source;
        _fixedKeys = fixedKeys;
        _minRefreshInterval = options.JwksMinRefreshInterval;
        _refreshInterval = options.JwksRefreshInterval;
        _maxStaleness = options.JwksMaxStaleness;
        _time = time;
        _logger = logger;
    }

    /// <summary>Finds the keys for <paramref name="kid"/>, fetching when the set is missing, due, or lacks the kid.</summary>
    public async ValueTask<KeyLookup> FindAsync(string kid, CancellationToken cancellationToken)
    {
        if (_fixedKeys.TryGetValue(kid, out var keys))
        {
            return new KeyLookup(KeyLookupStatus.Found, keys);
        }

        if (_source is null)
        {
            return KeyLookup.Unknown;
        }

        var snapshot = Volatile.Read(ref _snapshot);
        var fetched = false;
        if (!IsUsable(snapshot))
        {
            // Nothing fresh enough to answer from: wait for a fetch (if the rate limit allows one).
            fetched = await RefreshAsync(unknownKey: false, cancellationToken).ConfigureAwait(false);
            snapshot = Volatile.Read(ref _snapshot);
            if (!IsUsable(snapshot))
            {
                IdentityLog.SigningKeysUnavailable(_logger, snapshot?.FetchedAt);
                return KeyLookup.Unavailable;
            }
        }
        else if (_time.GetUtcNow() - snapshot.FetchedAt >= _refreshInterval)
        {
            // Routine refresh: start it, but answer this login from the current set rather than make it wait.
            _ = RefreshAsync(unknownKey: false, CancellationToken.None);
        }

        if (snapshot.Keys.TryGetValue(kid, out keys))
        {
            return new KeyLookup(KeyLookupStatus.Found, keys);
        }

        // An unknown kid may mean the IdP rotated keys: one rate-limited refresh, awaited so this login can succeed,
        // unless this call has just waited for a fetch anyway.
        if (!fetched
            && await RefreshAsync(unknownKey: true, cancellationToken).ConfigureAwait(false)
            && Volatile.Read(ref _snapshot) is { } refreshed
            && IsUsable(refreshed)
            && refreshed.Keys.TryGetValue(kid, out keys))
        {
            return new KeyLookup(KeyLookupStatus.Found, keys);
        }

        return KeyLookup.Unknown;
    }

    /// <summary>The keys for <paramref name="kid"/> from what is already held; never fetches.</summary>
    public JsonWebKey[] Current(string kid)
    {
        if (_fixedKeys.TryGetValue(kid, out var keys))
        {
            return keys;
        }

        return Volatile.Read(ref _snapshot) is { } snapshot && IsUsable(snapshot) && snapshot.Keys.TryGetValue(kid, out keys)
            ? keys
            : [];
    }

    /// <summary>Joins the fetch in flight, or starts one if the rate limit allows; false when neither happened.</summary>
    private async Task<bool> RefreshAsync(bool unknownKey, CancellationToken cancellationToken)
    {
        Task fetch;
        lock (_gate)
        {
            var now = _time.GetUtcNow();
            var last = unknownKey ? _lastUnknownKeyAttempt : _lastAttempt;
            if (!_fetch.IsCompleted)
            {
                fetch = _fetch;
            }
            else if (last is { } previous && now - previous < _minRefreshInterval)
            {
                return false;
            }
            else
            {
                _lastAttempt = now;
                if (unknownKey)
                {
                    _lastUnknownKeyAttempt = now;
                }

                fetch = _fetch = FetchAsync();
            }
        }

        await fetch.WaitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    private async Task FetchAsync()
    {
        // Yield first so the fetch never runs under the caller's lock.
        await Task.Yield();
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token);
            timeout.CancelAfter(FetchTimeout);
            var set = await _source!.FetchAsync(timeout.Token).ConfigureAwait(false);
            var keys = SigningKeys.Index(set.Keys, _logger);
            if (keys.Count == 0)
            {
                // An empty set would lock everyone out at once; treat it as a failed fetch and keep the last good one.
                throw new InvalidDataException("The key set holds no usable signing keys.");
            }

            Volatile.Write(ref _snapshot, new Snapshot(keys, _time.GetUtcNow()));
            IdentityLog.SigningKeysRefreshed(_logger, keys.Count);
        }
        catch (Exception) when (_disposed.IsCancellationRequested)
        {
            // Shutting down: nothing to report.
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Keep the last good set until it is too stale; the failure is the operator's to see, not the client's.
            IdentityLog.SigningKeyFetchFailed(_logger, ex);
        }
    }

    private int _disposeCalled;

    private bool IsUsable([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] Snapshot? snapshot) =>
        snapshot is not null && _time.GetUtcNow() - snapshot.FetchedAt <= _maxStaleness;

    public void Dispose()
    {
        // Idempotent: a host container and its owner may both dispose it.
        if (Interlocked.Exchange(ref _disposeCalled, 1) != 0)
        {
            return;
        }

        _disposed.Cancel();
        _source?.Dispose();
        _disposed.Dispose();
    }

    private sealed record Snapshot(Dictionary<string, JsonWebKey[]> Keys, DateTimeOffset FetchedAt);
}
