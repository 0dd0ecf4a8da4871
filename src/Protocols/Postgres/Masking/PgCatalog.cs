using System.Collections.Concurrent;
using System.Globalization;
using Gatehouse.Protocols.Masking;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// The gateway's own view of one upstream database's catalog: relation OIDs resolved to schema.table.column,
/// queried on the gateway's own connection (never the client's, whose search_path and transaction it does
/// not own), cached for every session of the database, dropped on DDL seen through the gateway and after
/// <see cref="MaxAge"/> for DDL made elsewhere. Lookups use OIDs as integer literals: nothing a client sent
/// is ever part of these queries.
/// </summary>
internal sealed class PgCatalog(PgUpstreamConnector connector, PgUpstreamOptions options, string database, TimeProvider time, ILogger logger)
    : CatalogCache<PgCatalogConnection, uint>(time)
{
    private const int MaxRounds = 8; // views over views: deeper nesting than this is masked whole

    private readonly ConcurrentDictionary<uint, PgRelation> _relations = new();

    public bool TryGet(uint oid, out PgRelation relation)
    {
        ExpireIfOld();
        return _relations.TryGetValue(oid, out relation!);
    }

    /// <summary>Takes a relation as if it had been loaded: for benchmarks, which have no upstream to load from.</summary>
    internal void Seed(PgRelation relation) => _relations[relation.Oid] = relation;

    /// <summary>
    /// Loads the relations and, for views, everything they read, transitively. Never throws: what could not be
    /// loaded stays missing, and the masker masks columns it cannot resolve whole.
    /// </summary>
    public Task LoadAsync(IReadOnlyCollection<uint> oids) => UseAsync((connection, ct) => LoadRelationsAsync(connection, oids, Generation, ct));

    /// <summary>Loads the relations and what views among them read, transitively; false when DDL overtook the lookup.</summary>
    private async Task<bool> LoadRelationsAsync(PgCatalogConnection connection, IEnumerable<uint> oids, int generation, CancellationToken ct)
    {
        var wanted = oids.Where(o => !_relations.ContainsKey(o)).ToHashSet();
        for (var round = 0; round < MaxRounds && wanted.Count > 0; round++)
        {
            var loaded = await LoadRoundAsync(connection, wanted, ct).ConfigureAwait(false);
            if (!Publish(_relations, [.. loaded.Select(r => KeyValuePair.Create(r.Oid, r))], generation))
            {
                return false; // DDL overtook the lookup: what it read stays unloaded
            }

            wanted = loaded.SelectMany(r => r.Origins.Concat(r.Reads)).Select(c => c.Relation)
                .Where(o => o != 0 && !_relations.ContainsKey(o)).ToHashSet();
        }

        return true;
    }

    /// <summary>Views and materialized views outside pg_catalog and information_schema.</summary>
    protected override async Task<IReadOnlyList<uint>?> LoadViewsAsync(PgCatalogConnection connection, int generation, CancellationToken ct)
    {
        var views = (await connection.QueryAsync(
            "SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            + "WHERE c.relkind IN ('v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')", ct).ConfigureAwait(false))
            .Select(r => uint.Parse(r[0]!, CultureInfo.InvariantCulture)).ToArray();
        return await LoadRelationsAsync(connection, views, generation, ct).ConfigureAwait(false) ? views : null;
    }

    /// <summary>
    /// The result columns <paramref name="sql"/> would have, described (not run) on the gateway's connection;
    /// null when it cannot be described there (a temporary table, another search_path, a broken connection).
    /// </summary>
    public Task<PgField[]?> DescribeAsync(string sql) => UseAsync<PgField[]?>(
        (connection, ct) => connection.DescribeAsync(sql, ct)!,
        keepConnection: ex => ex is PgUpstreamException && ex.Message.StartsWith("describe failed", StringComparison.Ordinal)); // the statement failed, not the connection

    protected override Task<PgCatalogConnection> OpenAsync(CancellationToken ct) => PgCatalogConnection.OpenAsync(connector, options, database, ct);

    protected override async Task<IReadOnlySet<string>> QueryFunctionNamesAsync(PgCatalogConnection connection, CancellationToken ct)
    {
        // With the functions, the operators of the database's own (`a ### b` calls the operator's function as `f(a, b)`
        // would) and the types a cast through such a function converts to (`x::t` and CAST(x AS t) call it too).
        var rows = await connection.QueryAsync(
            "SELECT p.proname FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
            + "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
            + "UNION SELECT o.oprname FROM pg_catalog.pg_operator o JOIN pg_catalog.pg_namespace n ON n.oid = o.oprnamespace "
            + "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') "
            + "UNION SELECT t.typname FROM pg_catalog.pg_cast c JOIN pg_catalog.pg_proc p ON p.oid = c.castfunc "
            + "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace JOIN pg_catalog.pg_type t ON t.oid = c.casttarget "
            + "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')", ct).ConfigureAwait(false);
        return rows.Select(r => r[0]!).ToHashSet(StringComparer.Ordinal);
    }

    protected override void ClearEntries() => _relations.Clear();

    protected override void LogUnavailable(string reason) => PgLog.CatalogUnavailable(logger, options.Name, database, reason);

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
        HashSet<uint> callers = [];
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
            // Views whose rule depends on a function or operator of the database's own (a cast through one is a call of it).
            callers = (await connection.QueryAsync(
                "SELECT DISTINCT r.ev_class FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_depend d "
                + "ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass AND d.objid = r.oid "
                + "LEFT JOIN pg_catalog.pg_proc p ON d.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND p.oid = d.refobjid "
                + "LEFT JOIN pg_catalog.pg_operator o ON d.refclassid = 'pg_catalog.pg_operator'::pg_catalog.regclass AND o.oid = d.refobjid "
                + "JOIN pg_catalog.pg_namespace n ON n.oid = coalesce(p.pronamespace, o.oprnamespace) "
                + $"WHERE r.ev_class IN ({viewList}) AND n.nspname NOT IN ('pg_catalog', 'information_schema')", ct).ConfigureAwait(false))
                .Select(r => uint.Parse(r[0]!, CultureInfo.InvariantCulture)).ToHashSet();
        }

        // Partitions and inheritance children, with every ancestor (pg_inherits, transitively).
        var ancestors = (await connection.QueryAsync(
            "WITH RECURSIVE up(child, parent) AS (SELECT i.inhrelid, i.inhparent FROM pg_catalog.pg_inherits i "
            + $"WHERE i.inhrelid IN ({list}) UNION SELECT up.child, i.inhparent FROM up JOIN pg_catalog.pg_inherits i ON i.inhrelid = up.parent) "
            + "SELECT up.child, n.nspname, c.relname FROM up JOIN pg_catalog.pg_class c ON c.oid = up.parent "
            + "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace", ct).ConfigureAwait(false))
            .ToLookup(r => uint.Parse(r[0]!, CultureInfo.InvariantCulture), r => (r[1]!, r[2]!));

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
                Origins = origins, Reads = reads[group.Key].ToArray(), Ancestors = ancestors[group.Key].ToArray(), CallsOwnFunction = callers.Contains(group.Key),
            };
            loaded.Add(relation);
        }

        return loaded;
    }
}
