using Gatehouse.Protocols.Masking;
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
    private readonly RecentTexts<bool> _references = new();

    private readonly PgColumnJudge _judge = new(masking, catalog);
    private int _generation = catalog.Generation;
    private readonly ViewColumnNames _viewColumns = new();

    public MaskingSession Masking => masking;

    public PgCatalog Catalog => catalog;

    /// <summary>
    /// Why a statement would store or send a sensitive value where masking cannot follow it (into another column
    /// or table, a setting, a notification; <see cref="StrictReferences.FindStore"/>), or null.
    /// </summary>
    public string? FindStore(Proxy.Core.Policy.StatementKind kind, ReadOnlySpan<byte> sql)
    {
        if (kind == Proxy.Core.Policy.StatementKind.Session && PgCursors.DeclaredQuery(sql) is var query && query >= 0)
        {
            // A cursor's rows leave only through FETCH or an Execute of its name, masked by the DECLARE's text
            // (PgCursors): its query is judged as the read it is, so psql's FETCH_COUNT works in a masked session.
            sql = sql[query..];
            kind = Proxy.Core.Policy.StatementKind.Read;
        }

        var lexer = new PgLexer(sql);
        var functions = catalog.FunctionsOrStartLoading();
        return _stores.Find(ref lexer, sql, kind, functions, functions is null ? null : ViewColumns());
    }

    /// <summary>Loads what judging the session's first statements needs (the database's function names and views), once per catalog.</summary>
    public Task PrepareAsync() => CatalogNamesLoading() ?? Task.CompletedTask;

    /// <summary>
    /// The load of the catalog's names strict mode reads statements against (functions, views), when a session
    /// with column rules needs them and they are not loaded (at its start, after DDL, after the catalog's
    /// maximum age); else null. A statement to judge waits for it rather than be judged without them.
    /// </summary>
    public Task? CatalogNamesLoading() => masking.HasColumnRules ? catalog.NamesLoading() : null;

    /// <summary>
    /// The database's view columns that show a sensitive value under this session's rules (see
    /// <see cref="ViewColumnNames"/>): a plain reference to a rule's column, through views over views, or in
    /// strict mode an expression of a view that reads one or calls a function of the database's own. Null while
    /// the catalog has not loaded its views.
    /// </summary>
    public SensitiveViewColumns? ViewColumns() => _viewColumns.Get(catalog, this, static (planner, views) => planner.ViewColumnsShowingSensitive(views));

    private SensitiveViewColumns? ViewColumnsShowingSensitive(IReadOnlyList<uint> views)
    {
        var judge = new PgColumnJudge(masking, catalog); // its own: the other direction may be planning with _judge
        var names = new SensitiveViewColumns();
        var ignored = false;
        foreach (var oid in views)
        {
            if (!catalog.TryGet(oid, out var view))
            {
                return null; // dropped since the list was read: not known until loaded again
            }

            for (short a = 1; a < view.Columns.Length; a++)
            {
                if (view.Columns[a] is { } name && judge.Decide(new PgColumnRef(oid, a), ref ignored) is not null)
                {
                    names.Add(view.Name, name);
                }
            }
        }

        return names;
    }

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
        => masking.Strict && masking.HasColumnRules && !catalog.NamesKnown && fields.Any(f => f.Table == 0 || f.Attribute <= 0);

    /// <param name="cursors">What the statement's FETCHes read (<see cref="PgCursors"/>), judged with it in strict mode.</param>
    public PgResultShape Plan(PgField[] fields, ReadOnlySpan<byte> statement, in PgCursorReads cursors = default)
    {
        if (_generation != catalog.Generation)
        {
            _judge.Clear();
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
                action = _judge.Decide(new PgColumnRef(f.Table, f.Attribute), ref scan);
            }
            else if (f.Table != 0 && f.Attribute > 0)
            {
                action = null;
            }
            else
            {
                scan |= masking.Detectors != ContentKinds.None;
                action = masking.ForResultName(f.Name);
                if (action is null && masking.Strict && (referencesSensitive ??= ReferencesSensitive(statement, cursors)))
                {
                    action = masking.StrictAction;
                }
            }

            columns[i] = new PgColumnPlan(action, scan && action is null, f.Type, f.Format);
        }

        return new PgResultShape(columns);
    }

    /// <summary>
    /// Whether strict mode says a value the statement computes may carry a sensitive one (the reading that masks
    /// its derived columns whole); false without strict mode.
    /// </summary>
    public bool MayComputeSensitive(ReadOnlySpan<byte> statement, in PgCursorReads cursors = default) => masking.Strict && ReferencesSensitive(statement, cursors);

    private bool ReferencesSensitive(ReadOnlySpan<byte> statement, in PgCursorReads cursors)
    {
        if (!masking.HasColumnRules)
        {
            return false;
        }

        if (cursors.IsUnseen || ReferencesSensitive(statement))
        {
            return true;
        }

        return cursors.Texts is { } texts && texts.Exists(text => ReferencesSensitive(text));
    }

    private bool ReferencesSensitive(ReadOnlySpan<byte> statement)
    {
        if (!masking.HasColumnRules)
        {
            return false;
        }

        // Without the database's function names and views, a call or a view column could be anything: strict fails closed.
        if (!catalog.TryGetFunctions(out var functions) || ViewColumns() is not { } views)
        {
            return true;
        }

        if (!_references.TryGet(statement, 0, functions, views, out var references))
        {
            var lexer = new PgLexer(statement);
            references = StrictReferences.Find(ref lexer, statement, masking, functions, views);
            _references.Remember(statement, 0, functions, views, references);
        }

        return references;
    }
}
