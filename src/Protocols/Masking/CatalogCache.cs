using System.Collections.Concurrent;

namespace Gatehouse.Protocols.Masking;

/// <summary>
/// What both upstreams' masking catalogs share: one connection of the gateway's own, used by one lookup at a
/// time; entries trusted for <see cref="MaxAge"/> (DDL made behind the gateway's back) and dropped at once on
/// DDL seen through it (<see cref="Invalidate"/>); a failed lookup logged, its connection dropped, and what it
/// would have loaded left missing, so the masker masks what it cannot resolve. Also what strict mode needs to
/// read statement text: the names of the upstream's own functions (a call to one may read tables itself) and
/// its views (a view's column may show a sensitive one under another name), loaded together. A lookup that
/// DDL overtook keeps nothing it loaded (<see cref="Publish"/>): what it read may predate the DDL.
/// </summary>
/// <typeparam name="TView">How the upstream names a view: PostgreSQL by OID, MySQL by schema and name.</typeparam>
internal abstract class CatalogCache<TConnection, TView>(TimeProvider time) : IAsyncDisposable
    where TConnection : class, IAsyncDisposable
{
    /// <summary>How long an entry is trusted when DDL may happen behind the gateway's back.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim _lock = new(1, 1);
    private TConnection? _connection;
    private long _filledAt = time.GetTimestamp();
    private volatile IReadOnlySet<string>? _functions;
    private volatile IReadOnlyList<TView>? _views;
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
        _views = null;
        ClearEntries();
        _filledAt = time.GetTimestamp();
        Interlocked.Increment(ref _generation);
    }

    /// <summary>
    /// The names of the upstream's own functions (PostgreSQL: outside pg_catalog and information_schema;
    /// MySQL: stored functions, compared case-insensitively); false until loaded, and after a failed load.
    /// Loaded after the views (<see cref="LoadViewsAsync"/>) in the same lookup: while they are there, so are the views.
    /// </summary>
    public bool TryGetFunctions(out IReadOnlySet<string> names)
    {
        ExpireIfOld();
        names = _functions!;
        return names is not null;
    }

    /// <summary>
    /// Every view of the upstream outside its system schemas, loaded (<see cref="LoadViewsAsync"/>) with what
    /// they read; null until loaded with the function names, and after a failed load.
    /// </summary>
    public IReadOnlyList<TView>? Views
    {
        get
        {
            ExpireIfOld();
            return _views;
        }
    }

    /// <summary>Whether what strict mode reads statement text against is loaded: the function names and the views.</summary>
    public bool NamesKnown
    {
        get
        {
            ExpireIfOld(); // once: asked before every statement of a masked session
            return _functions is not null && _views is not null;
        }
    }

    /// <summary>Fills the names strict mode reads against without a connection: for benchmarks and tests.</summary>
    internal void SeedNames(IReadOnlySet<string> functions, IReadOnlyList<TView> views)
    {
        _views = views;
        _functions = functions;
    }

    /// <summary>The load of the function names and views when they are not loaded (see <see cref="LoadFunctionsAsync"/>); else null.</summary>
    public Task? NamesLoading() => NamesKnown ? null : LoadFunctionsAsync();

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
        if (await LoadViewsAsync(connection, generation, ct).ConfigureAwait(false) is not { } views)
        {
            return true; // DDL overtook it: nothing is known, and strict mode fails closed until the next load
        }

        var names = await QueryFunctionNamesAsync(connection, ct).ConfigureAwait(false);
        if (Generation == generation)
        {
            _views ??= views;
            _functions ??= names;
            Interlocked.MemoryBarrier(); // the stores before the second look, which a drop that raced them then sees
            if (Generation != generation)
            {
                _functions = null; // dropped meanwhile (DDL): these may predate it; not loaded, so strict fails closed
                _views = null;
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

    /// <summary>
    /// Loads every view of the upstream (outside its system schemas) with what it reads, and returns their
    /// list (<see cref="Views"/>); null when DDL overtook the lookup. A failure throws (the load fails).
    /// </summary>
    protected abstract Task<IReadOnlyList<TView>?> LoadViewsAsync(TConnection connection, int generation, CancellationToken ct);

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
