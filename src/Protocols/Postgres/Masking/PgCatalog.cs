using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// The gateway's own view of one upstream database's catalog: relation OIDs resolved to schema.table.column,
/// queried on the gateway's own connection (never the client's, whose search_path and transaction it does
/// not own), cached for every session of the database, dropped on DDL seen through the gateway and after
/// <see cref="MaxAge"/> for DDL made elsewhere. Lookups use OIDs as integer literals: nothing a client sent
/// is ever part of these queries.
/// </summary>
internal sealed class PgCatalog : IAsyncDisposable
{
    /// <summary>How long an entry is trusted when DDL may happen behind the gateway's back.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan QueryTimeout = TimeSpan.FromSeconds(10);
    private const int MaxRounds = 8; // views over views: deeper nesting than this is masked whole

    private readonly ConcurrentDictionary<uint, PgRelation> _relations = new();
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly PgUpstreamConnector _connector;
    private readonly PgUpstreamOptions _options;
    private readonly string _database;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private PgCatalogConnection? _connection;
    private long _filledAt;
    private volatile PgFunctionNames? _functions;

    public PgCatalog(PgUpstreamConnector connector, PgUpstreamOptions options, string database, TimeProvider time, ILogger logger)
    {
        _connector = connector;
        _options = options;
        _database = database;
        _time = time;
        _logger = logger;
        _filledAt = time.GetTimestamp();
    }

    /// <summary>Bumped whenever the cache is dropped, so sessions know their own per-column decisions are stale.</summary>
    public int Generation { get; private set; }

    public bool TryGet(uint oid, out PgRelation relation)
    {
        if (_time.GetElapsedTime(_filledAt) > MaxAge)
        {
            Invalidate();
        }

        return _relations.TryGetValue(oid, out relation!);
    }

    /// <summary>The names of the database's own functions; false until loaded, and after a failed load.</summary>
    public bool TryGetFunctions(out PgFunctionNames names)
    {
        if (_time.GetElapsedTime(_filledAt) > MaxAge)
        {
            Invalidate();
        }

        names = _functions!;
        return names is not null;
    }

    /// <summary>Loads <see cref="TryGetFunctions"/>'s names; never throws (what could not be loaded stays missing).</summary>
    public async Task LoadFunctionsAsync()
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_functions is not null)
            {
                return;
            }

            using var timeout = new CancellationTokenSource(QueryTimeout);
            _connection ??= await PgCatalogConnection.OpenAsync(_connector, _options, _database, timeout.Token).ConfigureAwait(false);
            var rows = await _connection.QueryAsync(
                "SELECT DISTINCT p.proname FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
                + "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')", timeout.Token).ConfigureAwait(false);
            _functions = new PgFunctionNames(rows.Select(r => r[0]!).ToHashSet(StringComparer.Ordinal));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            await DropConnectionAsync(ex).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    public void Invalidate()
    {
        _relations.Clear();
        _functions = null;
        _filledAt = _time.GetTimestamp();
        Generation++;
    }

    /// <summary>
    /// Loads the relations and, for views, everything they read, transitively. Never throws: what could not be
    /// loaded stays missing, and the masker masks columns it cannot resolve whole.
    /// </summary>
    public async Task LoadAsync(IReadOnlyCollection<uint> oids)
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            using var timeout = new CancellationTokenSource(QueryTimeout);
            var wanted = oids.Where(o => !_relations.ContainsKey(o)).ToHashSet();
            for (var round = 0; round < MaxRounds && wanted.Count > 0; round++)
            {
                _connection ??= await PgCatalogConnection.OpenAsync(_connector, _options, _database, timeout.Token).ConfigureAwait(false);
                var loaded = await LoadRoundAsync(_connection, wanted, timeout.Token).ConfigureAwait(false);
                wanted = loaded.SelectMany(r => r.Origins.Concat(r.Reads)).Select(c => c.Relation)
                    .Where(o => o != 0 && !_relations.ContainsKey(o)).ToHashSet();
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            await DropConnectionAsync(ex).ConfigureAwait(false);
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>
    /// The result columns <paramref name="sql"/> would have, described (not run) on the gateway's connection;
    /// null when it cannot be described there (a temporary table, another search_path, a broken connection).
    /// </summary>
    public async Task<PgField[]?> DescribeAsync(string sql)
    {
        await _lock.WaitAsync().ConfigureAwait(false);
        try
        {
            using var timeout = new CancellationTokenSource(QueryTimeout);
            _connection ??= await PgCatalogConnection.OpenAsync(_connector, _options, _database, timeout.Token).ConfigureAwait(false);
            return await _connection.DescribeAsync(sql, timeout.Token).ConfigureAwait(false);
        }
        catch (PgUpstreamException ex) when (_connection is not null && ex.Message.StartsWith("describe failed", StringComparison.Ordinal))
        {
            PgLog.CatalogUnavailable(_logger, _options.Name, _database, ex.Message);
            return null; // the statement, not the connection, failed: keep the connection
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            await DropConnectionAsync(ex).ConfigureAwait(false);

            return null;
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Logs why the catalog could not answer and drops its connection, which a failed query may have left mid-message.</summary>
    private async Task DropConnectionAsync(Exception ex)
    {
        PgLog.CatalogUnavailable(_logger, _options.Name, _database, ex.Message);
        if (_connection is { } broken)
        {
            _connection = null;
            await broken.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<List<PgRelation>> LoadRoundAsync(PgCatalogConnection connection, HashSet<uint> oids, CancellationToken ct)
    {
        var list = string.Join(",", oids.Select(o => o.ToString(CultureInfo.InvariantCulture)));
        var columns = await connection.QueryAsync(
            "SELECT c.oid, n.nspname, c.relname, c.relkind, a.attnum, a.attname FROM pg_catalog.pg_class c "
            + "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            + "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
            + $"WHERE c.oid IN ({list})", ct).ConfigureAwait(false);
        var byOid = columns.GroupBy(r => uint.Parse(r[0]!, CultureInfo.InvariantCulture)).ToList();
        var views = byOid.Where(g => g.First()[3] is "v" or "m").Select(g => g.Key).ToList();
        Dictionary<uint, string> rules = [];
        ILookup<uint, PgColumnRef> reads = Array.Empty<PgColumnRef>().ToLookup(_ => 0u);
        if (views.Count > 0)
        {
            var viewList = string.Join(",", views.Select(o => o.ToString(CultureInfo.InvariantCulture)));
            rules = (await connection.QueryAsync(
                $"SELECT r.ev_class, r.ev_action FROM pg_catalog.pg_rewrite r WHERE r.ev_class IN ({viewList}) AND r.rulename = '_RETURN'", ct).ConfigureAwait(false))
                .ToDictionary(r => uint.Parse(r[0]!, CultureInfo.InvariantCulture), r => r[1] ?? "");
            reads = (await connection.QueryAsync(
                "SELECT DISTINCT r.ev_class, d.refobjid, d.refobjsubid FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_depend d "
                + "ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass "
                + $"WHERE r.ev_class IN ({viewList}) AND d.refobjid <> r.ev_class", ct).ConfigureAwait(false))
                .ToLookup(r => uint.Parse(r[0]!, CultureInfo.InvariantCulture),
                    r => new PgColumnRef(uint.Parse(r[1]!, CultureInfo.InvariantCulture), short.Parse(r[2]!, CultureInfo.InvariantCulture)));
        }

        var loaded = new List<PgRelation>();
        foreach (var group in byOid)
        {
            var first = group.First();
            var names = new string?[1 + group.Max(r => r[4] is null ? 0 : short.Parse(r[4]!, CultureInfo.InvariantCulture))];
            foreach (var row in group.Where(r => r[4] is not null))
            {
                names[short.Parse(row[4]!, CultureInfo.InvariantCulture)] = row[5];
            }

            var kind = first[3]![0];
            PgColumnRef[] origins = [];
            if (kind is 'v' or 'm')
            {
                // A view whose rule cannot be read gets no origins: every column of it then counts as an expression.
                origins = rules.TryGetValue(group.Key, out var tree) ? PgViewOrigins.Parse(tree, names.Length - 1) ?? [] : [];
            }

            var relation = new PgRelation
            {
                Oid = group.Key, Schema = first[1]!, Name = first[2]!, Kind = kind, Columns = names,
                Origins = origins, Reads = reads[group.Key].ToArray(),
            };
            _relations[group.Key] = relation;
            loaded.Add(relation);
        }

        return loaded;
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is { } c)
        {
            await c.DisposeAsync().ConfigureAwait(false);
        }

        _lock.Dispose();
    }
}

/// <summary>
/// The names of one database's own functions, outside pg_catalog and information_schema (a user's, an
/// extension's): a call to one may read tables itself.
/// </summary>
internal sealed record PgFunctionNames(IReadOnlySet<string> Own);
