using Gatehouse.Protocols.Sql;
using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// Decides a column known by catalog identity for one session's rules: a rule's column (or a parent's, for a
/// partition or child), the planner statistics' value columns, and a view column through the origin PostgreSQL
/// recorded for it, recursively; a view's expression column in strict mode by whether the view reads a
/// sensitive column. A relation the catalog could not resolve is masked whole. Remembers its decisions: one per
/// thread that asks, and cleared when the catalog changes.
/// </summary>
internal sealed class PgColumnJudge(MaskingSession masking, PgCatalog catalog)
{
    private const int MaxViewDepth = 16;
    private static readonly MaskAction Unresolved = MaskAction.Whole("unresolved");
    private static readonly MaskAction Statistics = MaskAction.Whole("statistics");
    private static readonly MaskAction Activity = MaskAction.Whole("activity");
    private readonly Dictionary<PgColumnRef, MaskAction?> _decisions = [];

    public void Clear() => _decisions.Clear();

    /// <summary>The action for a column; sets <paramref name="scan"/> when the value is an expression inside a view.</summary>
    public MaskAction? Decide(PgColumnRef column, ref bool scan) => Decide(column, 0, ref scan);

    private MaskAction? Decide(PgColumnRef column, int depth, ref bool scan)
    {
        if (_decisions.TryGetValue(column, out var known))
        {
            if (known is null && IsViewExpression(column))
            {
                scan |= masking.Detectors != ContentKinds.None;
            }

            return known;
        }

        var decided = DecideUncached(column, depth, ref scan);
        _decisions[column] = decided;
        return decided;
    }

    private MaskAction? DecideUncached(PgColumnRef column, int depth, ref bool scan)
    {
        if (depth > MaxViewDepth || !catalog.TryGet(column.Relation, out var relation) || relation.ColumnName(column.Attribute) is not { } name)
        {
            return Unresolved;
        }

        if (masking.ForColumn(relation.Schema, relation.Name, name) is { } direct)
        {
            return direct;
        }

        if (relation.Schema == "pg_catalog" && StrictReferences.IsStatisticsView(relation.Name) && IsStatisticsValues(name))
        {
            return Statistics; // sampled values of every column, sensitive ones included
        }

        if (name == "query" && ((relation.Schema == "pg_catalog" && relation.Name == "pg_stat_activity") || relation.Name == "pg_stat_statements"))
        {
            return Activity; // the text other sessions run: every session shares the gateway's account (StrictReferences.IsActivityText)
        }

        foreach (var (schema, table) in relation.Ancestors)
        {
            if (masking.ForColumn(schema, table, name) is { } inherited)
            {
                return inherited; // a partition or child of a table a rule names
            }
        }

        if (!relation.IsView)
        {
            return null;
        }

        var origin = column.Attribute < relation.Origins.Length ? relation.Origins[column.Attribute] : default;
        if (origin.Relation != 0)
        {
            return Decide(origin, depth + 1, ref scan);
        }

        // An expression in the view (or a view whose rule could not be read): strict mode masks it when the
        // view reads any sensitive column, because which of them feed this expression is not recorded, or calls
        // a function of the database's own, which may read one itself.
        scan |= masking.Detectors != ContentKinds.None;
        if (masking.Strict && (relation.CallsOwnFunction || relation.Reads.Any(read => ReadsSensitive(read, depth + 1))))
        {
            return masking.StrictAction;
        }

        return relation.Origins.Length == 0 && relation.Reads.Length == 0 ? Unresolved : null;
    }

    private static bool IsStatisticsValues(string column) => column is "most_common_vals" or "histogram_bounds" or "most_common_elems";

    private bool ReadsSensitive(PgColumnRef read, int depth)
    {
        var ignored = false;
        if (read.Attribute > 0)
        {
            return Decide(read, depth, ref ignored) is not null;
        }

        // A whole-row reference reads every column of the relation.
        if (!catalog.TryGet(read.Relation, out var relation))
        {
            return true;
        }

        for (short a = 1; a < relation.Columns.Length; a++)
        {
            if (relation.Columns[a] is not null && Decide(new PgColumnRef(read.Relation, a), depth, ref ignored) is not null)
            {
                return true;
            }
        }

        return false;
    }

    private bool IsViewExpression(PgColumnRef column) =>
        catalog.TryGet(column.Relation, out var r) && r.IsView && (column.Attribute >= r.Origins.Length || r.Origins[column.Attribute].Relation == 0);
}
