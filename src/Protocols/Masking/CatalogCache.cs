using System.Collections.Concurrent;

namespace Gatehouse.Protocols.Masking;

/// <summary>
/// What both upstreams' masking catalogs share: one connection of the gateway's own, used by one lookup at a
/// time; entries trusted for <see cref="MaxAge"/> (DDL made behind the gateway's back) and dropped at once on
/// DDL seen through it (<see cref="Invalidate"/>); a failed lookup logged, its connection dropped, and what it
/// would have loaded left missing, so the masker masks what it cannot resolve. Also the names of the
/// upstream's own functions, which strict mode needs (a call to one may read tables itself). A lookup that DDL
/// overtook keeps nothing it loaded (<see cref="Publish"/>): what it read may predate the DDL.
/// </summary>
internal abstract class CatalogCache<TConnection>(TimeProvider time) : IAsyncDisposable
    where TConnection : class, IAsyncDisposable
{
    /// <summary>How long an entry is trusted when DDL may happen behind the gateway's back.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _lock = new(1, 1);
    private TConnection? _connection;
    private long _filledAt = time.GetTimestamp();
    private volatile IReadOnlySet<string>? _functions;
    private Task? _functionsLoading;

    private int _generation;

    /// <summary>Bumped whenever the cache is dropped, so sessions know their own per-column decisions are stale.</summary>
    public int Generation => Volatile.Read(ref _generation);

    public void Invalidate()
    {
        // Bumped before the drop, so a lookup in flight cannot store what predates it unseen, and again after it,
        // so a session that sees the new generation finds the old entries gone. Sessions invalidate
        // concurrently: no bump may be lost.
        Interlocked.Increment(ref _generation);
        _functions = null;
        ClearEntries();
        _filledAt = time.GetTimestamp();
        Interlocked.Increment(ref _generation);
    }

    /// <summary>
    /// The names of the upstream's own functions (PostgreSQL: outside pg_catalog and information_schema;
    /// MySQL: stored functions, compared case-insensitively); false until loaded, and after a failed load.
    /// </summary>
    public bool TryGetFunctions(out IReadOnlySet<string> names)
    {
        ExpireIfOld();
        names = _functions!;
        return names is not null;
    }

    /// <summary>The function names when loaded; else null, and they start loading for the statements after this one.</summary>
    public IReadOnlySet<string>? FunctionsOrStartLoading()
    {
        if (TryGetFunctions(out var names))
        {
            return names;
        }

        _ = LoadFunctionsAsync();
        return null;
    }

    /// <summary>
    /// Loads <see cref="TryGetFunctions"/>'s names, or joins the load in flight: sessions starting, statements
    /// judged and results planned while the names are unknown share one, so a dead catalog connection is not
    /// asked once per caller. Never throws.
    /// </summary>
    public Task LoadFunctionsAsync()
    {
        if (Volatile.Read(ref _functionsLoading) is { IsCompleted: false } loading)
        {
            return loading;
        }

        var load = QueryAndStoreFunctionsAsync();
        Volatile.Write(ref _functionsLoading, load);
        return load;
    }

    private Task QueryAndStoreFunctionsAsync() => UseAsync(async (connection, ct) =>
    {
        var generation = Generation;
        var names = await QueryFunctionNamesAsync(connection, ct).ConfigureAwait(false);
        if (Generation == generation)
        {
            _functions ??= names;
            Interlocked.MemoryBarrier(); // the store before the second look, which a drop that raced it then sees
            if (Generation != generation)
            {
                _functions = null; // dropped meanwhile (DDL): these may predate it; not loaded, so strict fails closed
            }
        }

        return true;
    });

    /// <summary>
    /// Stores what a lookup that began at <paramref name="generation"/> loaded, unless the cache was dropped
    /// meanwhile (DDL): those entries may predate it, so they count as not loaded and the masker masks what
    /// they would have resolved. False when dropped. Lookups run one at a time, so entries taken back after a
    /// drop that raced the store can only be this lookup's own.
    /// </summary>
    protected bool Publish<TKey, TValue>(ConcurrentDictionary<TKey, TValue> entries, IReadOnlyList<KeyValuePair<TKey, TValue>> loaded, int generation)
        where TKey : notnull
    {
        if (Generation != generation)
        {
            return false;
        }

        foreach (var (key, value) in loaded)
        {
            entries[key] = value;
        }

        Interlocked.MemoryBarrier();
        if (Generation == generation)
        {
            return true;
        }

        foreach (var (key, _) in loaded)
        {
            entries.TryRemove(key, out _);
        }

        return false;
    }

    /// <summary>Drops everything once it is older than <see cref="MaxAge"/>; call before reading an entry.</summary>
    protected void ExpireIfOld()
    {
        if (time.GetElapsedTime(_filledAt) > MaxAge)
        {
            Invalidate();
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the catalog connection, one lookup at a time; default when it fails, after
    /// logging why and dropping the connection (unless <paramref name="keepConnection"/> says the failure was the
    /// statement's, not the connection's).
    /// </summary>
    protected async Task<T?> UseAsync<T>(Func<TConnection, CancellationToken, Task<T>> work, Func<Exception, bool>? keepConnection = null)
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            using var timeout = new CancellationTokenSource(QueryTimeout);
            _connection ??= await OpenAsync(timeout.Token).ConfigureAwait(false);
            return await work(_connection, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogUnavailable(ex.Message);
            if (keepConnection?.Invoke(ex) != true && _connection is { } broken)
            {
                _connection = null;
                await broken.DisposeAsync().ConfigureAwait(false);
            }

            return default;
        }
        finally
        {
            _lock.Release();
        }
    }

    protected abstract Task<TConnection> OpenAsync(CancellationToken ct);

    protected abstract Task<IReadOnlySet<string>> QueryFunctionNamesAsync(TConnection connection, CancellationToken ct);

    /// <summary>Forgets the subclass's own entries (relations, views).</summary>
    protected abstract void ClearEntries();

    protected abstract void LogUnavailable(string reason);

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } c)
        {
            await c.DisposeAsync().ConfigureAwait(false);
        }

        _lock.Dispose();
    }
}
