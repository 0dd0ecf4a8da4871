using System.Collections.Concurrent;
using System.Text;
using Gatehouse.Protocols.Masking;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Protocols.MySql.Masking;

/// <summary>What the gateway knows of one name a column definition gives as its org_table.</summary>
internal sealed class MySqlRelation
{
    public required MySqlRelationKind Kind { get; init; }

    /// <summary>For a view: its definition's text, as information_schema gives it.</summary>
    public byte[] Definition { get; init; } = [];

    /// <summary>For a view: where each column comes from, by column name; null when the definition could not be read so.</summary>
    public Dictionary<string, MySqlViewColumn>? Columns { get; init; }
}

internal enum MySqlRelationKind : byte
{
    Table,
    View,
    /// <summary>Not in information_schema: a temporary table, or a derived table or CTE the server named in org_table.</summary>
    Unknown,
}

/// <summary>
/// The gateway's own view of one MySQL/MariaDB upstream's relations, for masking: which names are base
/// tables and which are views, and for views where each column comes from. Queried on the gateway's own
/// connection (never the client's), cached for every session of the upstream, dropped on DDL seen through the
/// gateway and after <see cref="MaxAge"/> for DDL made elsewhere. Names go into the queries as hex literals:
/// nothing a client sent is ever spliced into them as text.
/// </summary>
internal sealed class MySqlCatalog(MySqlUpstreamConnector connector, MySqlUpstreamOptions options, TimeProvider time, ILogger logger)
    : CatalogCache<MySqlCatalogConnection, (string Schema, string Name)>(time)
{
    private const int MaxRounds = 8; // views over views: deeper nesting than this is masked whole

    private readonly ConcurrentDictionary<(string Schema, string Name), MySqlRelation> _relations = new();

    public bool TryGet(string schema, string name, out MySqlRelation relation)
    {
        ExpireIfOld();
        return _relations.TryGetValue((schema, name), out relation!);
    }

    /// <summary>Loads the relations and, for views, the relations their columns come from. Never throws: what could not be loaded stays missing, and its columns are masked whole.</summary>
    public Task LoadAsync(IReadOnlyCollection<(string Schema, string Name)> names) => UseAsync((connection, ct) => LoadRelationsAsync(connection, names, Generation, ct));

    /// <summary>Loads the relations and what views among them take columns from, transitively; false when DDL overtook the lookup.</summary>
    private async Task<bool> LoadRelationsAsync(MySqlCatalogConnection connection, IEnumerable<(string Schema, string Name)> names, int generation, CancellationToken ct)
    {
        var wanted = names.Where(n => !_relations.ContainsKey(n)).ToHashSet();
        for (var round = 0; round < MaxRounds && wanted.Count > 0; round++)
        {
            var found = await LoadRoundAsync(connection, wanted, ct).ConfigureAwait(false);
            if (!Publish(_relations, [.. found], generation))
            {
                return false; // DDL overtook the lookup: what it read stays unloaded
            }

            var loaded = found.Values;
            wanted = loaded.Where(r => r.Columns is not null).SelectMany(r => r.Columns!.Values)
                .Where(c => c.IsPlainColumn).Select(c => (c.Schema!, c.Table!))
                .Where(n => !_relations.ContainsKey(n)).ToHashSet();
        }

        return true;
    }

    /// <summary>Views outside the server's own schemas (information_schema, performance_schema, mysql, sys).</summary>
    protected override async Task<IReadOnlyList<(string Schema, string Name)>?> LoadViewsAsync(MySqlCatalogConnection connection, int generation, CancellationToken ct)
    {
        var views = (await connection.QueryAsync(
            "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.VIEWS "
            + "WHERE TABLE_SCHEMA NOT IN ('information_schema', 'performance_schema', 'mysql', 'sys')", ct).ConfigureAwait(false))
            .Select(r => (r[0]!, r[1]!)).ToArray();
        return await LoadRelationsAsync(connection, views, generation, ct).ConfigureAwait(false) ? views : null;
    }

    protected override Task<MySqlCatalogConnection> OpenAsync(CancellationToken ct) => MySqlCatalogConnection.OpenAsync(connector, options, ct);

    protected override async Task<IReadOnlySet<string>> QueryFunctionNamesAsync(MySqlCatalogConnection connection, CancellationToken ct)
    {
        var rows = await connection.QueryAsync(
            "SELECT DISTINCT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_TYPE = 'FUNCTION'", ct).ConfigureAwait(false);
        return rows.Select(r => r[0]!).ToHashSet(StringComparer.OrdinalIgnoreCase); // routine names are case-insensitive
    }

    protected override void ClearEntries() => _relations.Clear();

    protected override void LogUnavailable(string reason) => MySqlLog.CatalogUnavailable(logger, options.Name, reason);

    private async Task<Dictionary<(string Schema, string Name), MySqlRelation>> LoadRoundAsync(MySqlCatalogConnection connection, HashSet<(string Schema, string Name)> names, CancellationToken ct)
    {
        // A view column computed by an expression comes with an empty schema: such a name is looked up as a
        // view in any schema.
        var conditions = string.Join(" OR ", names.Select(n => n.Schema.Length == 0
            ? $"(t.TABLE_NAME = {Hex(n.Name)} AND t.TABLE_TYPE = 'VIEW')"
            : $"(t.TABLE_SCHEMA = {Hex(n.Schema)} AND t.TABLE_NAME = {Hex(n.Name)})"));
        var rows = await connection.QueryAsync(
            "SELECT t.TABLE_SCHEMA, t.TABLE_NAME, t.TABLE_TYPE, v.VIEW_DEFINITION FROM information_schema.TABLES t "
            + "LEFT JOIN information_schema.VIEWS v ON v.TABLE_SCHEMA = t.TABLE_SCHEMA AND v.TABLE_NAME = t.TABLE_NAME "
            + $"WHERE {conditions}", ct).ConfigureAwait(false);
        var loaded = new Dictionary<(string Schema, string Name), MySqlRelation>();
        foreach (var row in rows.Where(r => names.Contains((r[0]!, r[1]!))))
        {
            loaded[(row[0]!, row[1]!)] = Relation(row[2] == "VIEW", Encoding.UTF8.GetBytes(row[3] ?? ""));
        }

        foreach (var name in names.Where(n => !loaded.ContainsKey(n)))
        {
            var views = name.Schema.Length == 0 ? rows.Where(r => r[1] == name.Name && r[2] == "VIEW").ToList() : [];
            var relation = views.Count switch
            {
                0 => new MySqlRelation { Kind = MySqlRelationKind.Unknown },
                1 => Relation(isView: true, Encoding.UTF8.GetBytes(views[0][3] ?? "")),
                // Views of that name in several schemas: which one the column came from is not known, so
                // every column is judged by all their definitions together.
                _ => new MySqlRelation { Kind = MySqlRelationKind.View, Definition = Encoding.UTF8.GetBytes(string.Join(";\n", views.Select(v => v[3]))) },
            };
            loaded[name] = relation;
        }

        return loaded;
    }

    private static MySqlRelation Relation(bool isView, byte[] definition) => new()
    {
        Kind = isView ? MySqlRelationKind.View : MySqlRelationKind.Table,
        Definition = definition,
        Columns = isView && definition.Length > 0 ? MySqlViewDefinition.Parse(definition) : null,
    };

    /// <summary>A name as a hex literal in utf8mb4 (compared exactly, whatever the gateway session's sql_mode).</summary>
    private static string Hex(string name) => $"CONVERT(X'{Convert.ToHexString(Encoding.UTF8.GetBytes(name))}' USING utf8mb4)";
}
