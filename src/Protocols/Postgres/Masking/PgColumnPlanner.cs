using Gatehouse.Protocols.Sql;
using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// Turns RowDescription fields into column plans for one session: a table column by its catalog identity,
/// a view column through the origin PostgreSQL recorded for it (recursively), a derived column by the
/// detectors, by its result name, and in strict mode by whether the statement (or the view's definition)
/// reads a sensitive column. A column whose relation the catalog could not resolve is masked whole.
/// </summary>
internal sealed class PgColumnPlanner(MaskingSession masking, PgCatalog catalog)
{
    private readonly StoreVerdicts _stores = new(masking);

    private const int MaxViewDepth = 16;
    private readonly Dictionary<PgColumnRef, MaskAction?> _decisions = [];
    private readonly MaskAction _unresolved = MaskAction.Whole("unresolved");
    private static readonly MaskAction Statistics = MaskAction.Whole("statistics");
    private int _generation = catalog.Generation;

    public MaskingSession Masking => masking;

    public PgCatalog Catalog => catalog;

    /// <summary>
    /// Why a statement would store or send a sensitive value where masking cannot follow it (into another column
    /// or table, a setting, a notification; <see cref="StrictReferences.FindStore"/>), or null.
    /// </summary>
    public string? FindStore(Proxy.Core.Policy.StatementKind kind, ReadOnlySpan<byte> sql)
    {
        var lexer = new PgLexer(sql);
        return _stores.Find(ref lexer, sql, kind, catalog.FunctionsOrStartLoading());
    }

    /// <summary>Loads what judging the session's first statements needs (the database's function names), once per catalog.</summary>
    public Task PrepareAsync() => masking.HasColumnRules && !catalog.TryGetFunctions(out _) ? catalog.LoadFunctionsAsync() : Task.CompletedTask;

    /// <summary>Relations the fields name that the catalog has not loaded yet.</summary>
    public List<uint>? Missing(PgField[] fields)
    {
        if (!masking.HasColumnRules)
        {
            return null; // detectors alone need no catalog
        }

        List<uint>? missing = null;
        foreach (var f in fields)
        {
            if (f.Table != 0 && !catalog.TryGet(f.Table, out _) && !(missing ??= []).Contains(f.Table))
            {
                missing.Add(f.Table);
            }
        }

        return missing;
    }

    /// <summary>
    /// Whether planning these fields in strict mode needs the names of the database's own functions (a derived
    /// column is judged by whether the statement calls one) and the catalog has not loaded them yet.
    /// </summary>
    public bool NeedsFunctions(PgField[] fields)
        => masking.Strict && masking.HasColumnRules && !catalog.TryGetFunctions(out _) && fields.Any(f => f.Table == 0 || f.Attribute <= 0);

    public PgResultShape Plan(PgField[] fields, ReadOnlySpan<byte> statement)
    {
        if (_generation != catalog.Generation)
        {
            _decisions.Clear();
            _generation = catalog.Generation;
        }

        bool? referencesSensitive = null;
        var columns = new PgColumnPlan[fields.Length];
        var scanAll = masking.Scope == DetectorScope.All && masking.Detectors != ContentKinds.None;
        for (var i = 0; i < fields.Length; i++)
        {
            var f = fields[i];
            MaskAction? action;
            var scan = scanAll;
            if (f.Table != 0 && f.Attribute > 0 && masking.HasColumnRules)
            {
                action = Decide(new PgColumnRef(f.Table, f.Attribute), 0, ref scan);
            }
            else if (f.Table != 0 && f.Attribute > 0)
            {
                action = null;
            }
            else
            {
                scan |= masking.Detectors != ContentKinds.None;
                action = masking.ForResultName(f.Name);
                if (action is null && masking.Strict && (referencesSensitive ??= ReferencesSensitive(statement)))
                {
                    action = masking.StrictAction;
                }
            }

            columns[i] = new PgColumnPlan(action, scan && action is null, f.Type, f.Format);
        }

        return new PgResultShape(columns);
    }

    private bool ReferencesSensitive(ReadOnlySpan<byte> statement)
    {
        if (!masking.HasColumnRules)
        {
            return false;
        }

        // Without the database's function names, a call could be of anything: strict fails closed.
        var lexer = new PgLexer(statement);
        return !catalog.TryGetFunctions(out var functions) || StrictReferences.Find(ref lexer, statement, masking, functions);
    }

    /// <summary>The action for a column by identity; sets <paramref name="scan"/> when the value is an expression inside a view.</summary>
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
            return _unresolved;
        }

        if (masking.ForColumn(relation.Schema, relation.Name, name) is { } direct)
        {
            return direct;
        }

        if (relation.Schema == "pg_catalog" && StrictReferences.IsStatisticsView(relation.Name) && IsStatisticsValues(name))
        {
            return Statistics; // sampled values of every column, sensitive ones included
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
        // view reads any sensitive column, because which of them feed this expression is not recorded.
        scan |= masking.Detectors != ContentKinds.None;
        if (masking.Strict && relation.Reads.Any(read => ReadsSensitive(read, depth + 1)))
        {
            return masking.StrictAction;
        }

        return relation.Origins.Length == 0 && relation.Reads.Length == 0 ? _unresolved : null;
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
