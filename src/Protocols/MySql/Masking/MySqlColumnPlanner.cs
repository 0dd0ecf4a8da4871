using System.Text;
using Gatehouse.Protocols.Masking;
using Gatehouse.Protocols.Sql;
using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Protocols.MySql.Masking;

/// <summary>
/// Turns a result's column definitions into column plans for one session. A column attributed to a base
/// table is judged by schema.org_table.org_name; a view column by where the view's definition takes it from
/// (recursively); a derived column — and a column attributed to a name the statement itself defines as a
/// CTE or derived table, which the server reports in org_table like a table — by the detectors, its result
/// name, and in strict mode by whether the statement (or the view's expression) reads a sensitive column.
/// A column whose relation could not be resolved is masked whole.
/// </summary>
internal sealed class MySqlColumnPlanner(MaskingSession masking, MySqlCatalog catalog)
{
    private readonly StoreVerdicts _stores = new(masking);
    private readonly RecentTexts<StatementFacts> _facts = new();

    private const int MaxViewDepth = 16;
    private readonly MaskAction _unresolved = MaskAction.Whole("unresolved");
    private readonly ViewColumnNames _viewColumns = new();

    public MaskingSession Masking => masking;

    public MySqlCatalog Catalog => catalog;

    /// <summary>
    /// Why a statement would store or send a sensitive value where masking cannot follow it (into another column
    /// or table, a user variable; <see cref="StrictReferences.FindStore"/>), or null.
    /// </summary>
    public string? FindStore(Proxy.Core.Policy.StatementKind kind, ReadOnlySpan<byte> sql)
    {
        var lexer = new MySqlLexer(sql);
        var functions = catalog.FunctionsOrStartLoading();
        var views = functions is null ? null : ViewColumns();
        var why = _stores.Find(ref lexer, sql, kind, functions, views);
        var relevant = MySqlModes.Relevant(sql);
        for (var mode = 1; mode <= relevant && why is null; mode++)
        {
            if (MySqlModes.IsOther(mode, relevant))
            {
                // Under ANSI_QUOTES "card" is a column, not a string: every sql_mode the session may use is judged.
                var other = MySqlModes.Lexer(sql, mode);
                why = StrictReferences.FindStore(ref other, sql, kind, masking, functions, views, errorEndsText: true);
            }
        }

        return why;
    }

    /// <summary>Loads what judging the session's first statements needs (the stored functions' names and the views), once per catalog.</summary>
    public Task PrepareAsync() => CatalogNamesLoading() ?? Task.CompletedTask;

    /// <summary>
    /// The load of the catalog's names strict mode reads statements against (stored functions, views), when a
    /// session with column rules needs them and they are not loaded; else null. A statement to judge waits for it.
    /// </summary>
    public Task? CatalogNamesLoading() => masking.HasColumnRules ? catalog.NamesLoading() : null;

    /// <summary>
    /// The upstream's view columns that show a sensitive value under this session's rules (see
    /// <see cref="ViewColumnNames"/>): a plain column of a rule's, through views over views, or in strict mode an
    /// expression of a view whose definition reads one; and the names of views whose columns could not be read one
    /// by one but whose definition reads one. Null while the catalog has not loaded its views.
    /// </summary>
    public SensitiveViewColumns? ViewColumns() => _viewColumns.Get(catalog, this, static (planner, views) => planner.ViewColumnsShowingSensitive(views));

    private SensitiveViewColumns? ViewColumnsShowingSensitive(IReadOnlyList<(string Schema, string Name)> views)
    {
        if (Functions is null)
        {
            return null; // a definition is read with the function names: without them every expression would count
        }

        // Until nothing is added: a view's expression over another view's column (upper(`v`.`cc`)) is judged by
        // its definition's text, which names that column as the other view calls it.
        var names = new SensitiveViewColumns();
        var ignored = false;
        for (var added = true; added;)
        {
            added = false;
            foreach (var (schema, view) in views)
            {
                if (!catalog.TryGet(schema, view, out var relation))
                {
                    return null; // dropped since the list was read: not known until loaded again
                }

                if (relation.Columns is null)
                {
                    // Not read column by column: which column shows the value is not known, so naming the view counts.
                    added |= !names.IsWhole(view) && Resolve(schema, view, "", 0, ref ignored, names) is not null && names.AddWhole(view);
                    continue;
                }

                foreach (var column in relation.Columns.Keys)
                {
                    added |= !names.Shows(view, column) && Resolve(schema, view, column, 0, ref ignored, names) is not null && names.Add(view, column);
                }
            }
        }

        return names;
    }

    /// <summary>Relations the columns name that the catalog has not loaded yet.</summary>
    public List<(string Schema, string Name)>? Missing(IReadOnlyList<MySqlColumn> columns)
    {
        if (!masking.HasColumnRules)
        {
            return null; // detectors alone need no catalog
        }

        List<(string, string)>? missing = null;
        foreach (var c in columns)
        {
            if (!c.IsDerived && !catalog.TryGet(c.Schema, c.OrgTable, out _) && !(missing ??= []).Contains((c.Schema, c.OrgTable)))
            {
                missing.Add((c.Schema, c.OrgTable));
            }
        }

        return missing;
    }

    /// <summary>Whether strict planning needs the upstream's stored function names, not loaded yet.</summary>
    public bool NeedsFunctions => masking.Strict && masking.HasColumnRules && !catalog.NamesKnown;

    /// <summary>The stored functions' names; null when the catalog could not load them (strict then fails closed).</summary>
    private IReadOnlySet<string>? Functions => catalog.TryGetFunctions(out var names) ? names : null;

    public MySqlResultShape Plan(IReadOnlyList<MySqlColumn> columns, ReadOnlySpan<byte> statement)
    {
        StatementFacts? facts = null;
        var views = masking.HasColumnRules ? ViewColumns() : null;
        var plans = new MySqlColumnPlan[columns.Count];
        var detectors = masking.Detectors != ContentKinds.None;
        var scanAll = masking.Scope == DetectorScope.All && detectors;
        for (var i = 0; i < plans.Length; i++)
        {
            var c = columns[i];
            var scan = scanAll;
            MaskAction? action;
            if (!masking.HasColumnRules)
            {
                action = null;
                scan |= detectors && c.IsDerived;
            }
            else if (c.IsDerived || (facts ??= Facts(statement, views)).Defines(c.OrgTable))
            {
                scan |= detectors;
                action = Derived(c, ref facts, statement, views);
            }
            else
            {
                action = Resolve(c.Schema, c.OrgTable, c.OrgName, 0, ref scan, views);
                if (action == _unknownRelation)
                {
                    // Not a table or view the catalog knows (a temporary table, or a derived table the statement
                    // scan did not see): a rule by name still applies, else it is judged as derived.
                    scan |= detectors;
                    action = masking.ForColumn(c.Schema, c.OrgTable, c.OrgName) ?? Derived(c, ref facts, statement, views);
                }
                else if (action is null && facts.HasSetOperation)
                {
                    // UNION ALL reports the first branch's column identity for values of every branch.
                    scan |= detectors;
                    action = Derived(c, ref facts, statement, views);
                }
            }

            plans[i] = new MySqlColumnPlan(action, scan && action is null, c);
        }

        return new MySqlResultShape(plans);
    }

    private static readonly MaskAction _unknownRelation = MaskAction.Whole("unknown-relation");

    private static readonly MaskAction Diagnostics = MaskAction.Whole("diagnostics");

    private static readonly MaskAction Statistics = MaskAction.Whole("statistics");

    private static readonly MaskAction Activity = MaskAction.Whole("activity");

    /// <summary>
    /// A column's default value, in <c>information_schema.COLUMNS</c> and in SHOW COLUMNS, which the server answers
    /// from it: a default can be the value a rule protects, so every one is withheld, as from COM_FIELD_LIST
    /// (<see cref="MySqlFieldListDefaults"/>). SHOW COLUMNS showed a DBA's <c>DEFAULT '4111 …'</c> whole until 2026-12-07.
    /// </summary>
    private static readonly MaskAction ColumnDefault = MaskAction.Whole("column-default");

    /// <summary>
    /// The optimizer trace (<c>SET optimizer_trace='enabled=on'</c>, then <c>information_schema.OPTIMIZER_TRACE</c>):
    /// its range analysis quotes values the optimizer computed from rows, such as a constant subquery's result over a
    /// sensitive column, in a later statement that names none. Withheld whole; showed a reversed card until 2026-12-07.
    /// </summary>
    private static readonly MaskAction OptimizerTrace = MaskAction.Whole("optimizer-trace");

    /// <summary>
    /// The text of statements other sessions run, which every session of the shared gateway account may read
    /// (<see cref="StrictReferences.IsActivityText"/>): the process list's INFO and INFO_BINARY (MariaDB's copy as
    /// bytes, which showed a masked session an exempt one's card number until 2026-12-07), InnoDB's running
    /// statements, performance_schema's statement texts, and the general and slow query logs when the server
    /// writes them to tables; and the key values of the rows other sessions lock (InnoDB's and
    /// performance_schema's lock data), which are a row's values when the key is a sensitive column.
    /// </summary>
    private static bool IsActivityValue(string schema, string table, string column)
        => (Is(schema, "information_schema") && ((Is(table, "processlist") && (Is(column, "info") || Is(column, "info_binary")))
                || (Is(table, "innodb_trx") && Is(column, "trx_query")) || (Is(table, "innodb_locks") && Is(column, "lock_data"))))
            || (Is(schema, "mysql") && ((Is(table, "general_log") && Is(column, "argument")) || (Is(table, "slow_log") && Is(column, "sql_text"))))
            || (Is(schema, "performance_schema") && (Is(column, "sql_text") || Is(column, "digest_text") || Is(column, "query_sample_text") || Is(column, "processlist_info")
                || (Is(table, "data_locks") && Is(column, "lock_data"))));

    /// <summary>A name the server compares ignoring case (schemas, tables and columns of its own), compared without a lowered copy.</summary>
    private static bool Is(string name, string expected) => name.Equals(expected, StringComparison.OrdinalIgnoreCase);

    /// <summary>MariaDB's engine-independent statistics (<c>mysql.column_stats</c>) and MySQL's histograms.</summary>
    private static bool IsStatisticsValue(string schema, string table, string column)
        => (schema.Equals("mysql", StringComparison.OrdinalIgnoreCase) && table.Equals("column_stats", StringComparison.OrdinalIgnoreCase)
                && column.ToLowerInvariant() is "min_value" or "max_value" or "histogram")
            || (schema.Equals("information_schema", StringComparison.OrdinalIgnoreCase) && table.Equals("column_statistics", StringComparison.OrdinalIgnoreCase)
                && column.Equals("histogram", StringComparison.OrdinalIgnoreCase));

    private MaskAction? Derived(in MySqlColumn column, ref StatementFacts? facts, ReadOnlySpan<byte> statement, SensitiveViewColumns? views)
    {
        if (masking.ForResultName(column.Name) is { } byName)
        {
            return byName;
        }

        facts ??= Facts(statement, views);
        switch (facts.Shows)
        {
            case ServerShows.Diagnostics when column.Name == "Message":
                return Diagnostics; // a warning's text can quote a row's value ("Truncated incorrect DOUBLE value: '…'")
            case ServerShows.Processlist:
                return column.Name == "Info" ? Activity : null; // the text other sessions run; the other columns show no row's value
            case ServerShows.EngineStatus:
                return column.Name == "Status" ? Activity : null; // InnoDB's report quotes the statements of the last deadlock
            case ServerShows.AnotherSessionsPlan:
                return Activity; // its JSON quotes that session's conditions, literals and all
        }

        return masking.Strict && facts.ReferencesSensitive ? masking.StrictAction : null;
    }

    /// <summary>What strict mode reads of a result's statement, remembered per text: applications repeat their queries.</summary>
    private StatementFacts Facts(ReadOnlySpan<byte> statement, SensitiveViewColumns? views)
    {
        var functions = Functions;
        if (functions is null || views is null)
        {
            return StatementFacts.Read(statement, masking, functions, views); // fails closed, until the names load
        }

        if (!_facts.TryGet(statement, 0, functions, views, out var facts))
        {
            facts = StatementFacts.Read(statement, masking, functions, views);
            _facts.Remember(statement, 0, functions, views, facts);
        }

        return facts;
    }

    /// <param name="views">The view columns that show a sensitive value (<see cref="ViewColumns"/>); null = not known, and strict fails closed.</param>
    private MaskAction? Resolve(string schema, string table, string column, int depth, ref bool scan, SensitiveViewColumns? views)
    {
        if (depth > MaxViewDepth || !catalog.TryGet(schema, table, out var relation))
        {
            return _unresolved;
        }

        if (masking.ForColumn(schema, table, column) is { } direct)
        {
            return direct;
        }

        if (IsStatisticsValue(schema, table, column))
        {
            return Statistics; // sampled values of every analysed column, sensitive ones included
        }

        if (IsActivityValue(schema, table, column))
        {
            return Activity;
        }

        if (Is(schema, "information_schema") && Is(table, "columns") && Is(column, "column_default"))
        {
            return ColumnDefault;
        }

        if (Is(schema, "information_schema") && Is(table, "optimizer_trace") && Is(column, "trace"))
        {
            return OptimizerTrace;
        }

        switch (relation.Kind)
        {
            case MySqlRelationKind.Table:
                return null;
            case MySqlRelationKind.Unknown:
                return depth == 0 ? _unknownRelation : _unresolved;
        }

        if (relation.Columns is not null && relation.Columns.TryGetValue(column, out var origin) && origin.IsPlainColumn)
        {
            return Resolve(origin.Schema!, origin.Table!, origin.Column!, depth + 1, ref scan, views);
        }

        // An expression in the view (or a view not read column by column): strict mode masks it when the
        // view's definition reads any sensitive column, because which of them feed this expression is not
        // recorded — the same rule as for PostgreSQL views.
        scan |= masking.Detectors != ContentKinds.None;
        return relation.Definition.Length == 0 ? _unresolved
            : masking.Strict && StatementFacts.Read(relation.Definition, masking, Functions, views).ReferencesSensitive ? masking.StrictAction : null;
    }

    /// <summary>What of the server's own a statement shows (<see cref="StatementFacts.Shows"/>).</summary>
    private enum ServerShows
    {
        None,
        Diagnostics,
        Processlist,
        EngineStatus,
        AnotherSessionsPlan,
    }

    /// <summary>What strict mode needs of a statement's text, read once per text (<see cref="Facts"/>).</summary>
    private sealed class StatementFacts
    {
        private HashSet<string>? _defined;

        /// <summary>It names a sensitive column, uses a whole row, runs SQL the gateway did not see (EXECUTE, CALL), analyses what it reads (PROCEDURE ANALYSE), or cannot be read.</summary>
        public bool ReferencesSensitive { get; private init; }

        /// <summary>UNION, EXCEPT or INTERSECT: a column's reported identity is only that of the first branch.</summary>
        public bool HasSetOperation { get; private init; }

        /// <summary>What of the server's own the statement shows, whose derived columns carry other sessions' or rows' values.</summary>
        public ServerShows Shows { get; private init; }

        /// <summary>Unreadable text defines anything: every attributed column is then judged as derived.</summary>
        private bool DefinesEverything { get; init; }

        public bool Defines(string name) => DefinesEverything || (_defined?.Contains(name) ?? false);

        /// <summary>
        /// Reads the text under every sql_mode that reads it differently (<see cref="MySqlModes"/>) and keeps
        /// what any reading says: under ANSI_QUOTES, <c>"card"</c> is a column and <c>"t"</c> a CTE's name.
        /// </summary>
        public static StatementFacts Read(ReadOnlySpan<byte> sql, MaskingSession masking, IReadOnlySet<string>? functions, SensitiveViewColumns? views)
        {
            var facts = ReadOne(sql, 0, masking, functions, views);
            var relevant = MySqlModes.Relevant(sql);
            for (var mode = 1; mode <= relevant && !facts.DefinesEverything; mode++)
            {
                if (MySqlModes.IsOther(mode, relevant))
                {
                    var other = ReadOne(sql, mode, masking, functions, views);
                    facts = new StatementFacts
                    {
                        ReferencesSensitive = facts.ReferencesSensitive || other.ReferencesSensitive,
                        HasSetOperation = facts.HasSetOperation || other.HasSetOperation,
                        Shows = facts.Shows, // a statement's first words read the same in every mode
                        _defined = Union(facts._defined, other._defined),
                    };
                }
            }

            return facts;
        }

        private static HashSet<string>? Union(HashSet<string>? a, HashSet<string>? b)
        {
            if (a is null || b is null)
            {
                return a ?? b;
            }

            a.UnionWith(b); // the same comparer: DefinedNames makes both
            return a;
        }

        /// <summary>One reading; under another mode than the default, text it cannot lex ends it (a server in that mode rejects it there).</summary>
        private static StatementFacts ReadOne(ReadOnlySpan<byte> sql, int mode, MaskingSession masking, IReadOnlySet<string>? functions, SensitiveViewColumns? views)
        {
            var tokens = new List<SqlToken>();
            var lexer = MySqlModes.Lexer(sql, mode);
            for (var t = lexer.Next(); t.Kind != SqlTokenKind.End; t = lexer.Next())
            {
                if (t.Kind == SqlTokenKind.Error)
                {
                    if (mode != 0)
                    {
                        break;
                    }

                    return new StatementFacts { ReferencesSensitive = true, DefinesEverything = true, HasSetOperation = true, Shows = ShowsOf(sql, tokens) };
                }

                tokens.Add(t);
            }

            var facts = new StatementFacts
            {
                ReferencesSensitive = ReadsUnseen(tokens) || functions is null || views is null || References(sql, mode, masking, functions, views),
                HasSetOperation = tokens.Exists(t => t.Is(Keyword.Union) || t.Is(Keyword.Except) || t.Is(Keyword.Intersect)),
                Shows = ShowsOf(sql, tokens),
            };
            facts._defined = DefinedNames(sql, tokens);
            return facts;
        }

        /// <param name="functions">The stored functions' names (compared case-insensitively, as the server resolves them).</param>
        private static bool References(ReadOnlySpan<byte> sql, int mode, MaskingSession masking, IReadOnlySet<string> functions, SensitiveViewColumns views)
        {
            var lexer = MySqlModes.Lexer(sql, mode);
            return StrictReferences.Find(ref lexer, sql, masking, functions, views, errorEndsText: mode != 0);
        }

        /// <summary>
        /// SHOW WARNINGS or ERRORS; SHOW [FULL] PROCESSLIST; SHOW ENGINE name STATUS (or MUTEX); and the plan another
        /// session is running: MariaDB's SHOW EXPLAIN or SHOW ANALYZE … FOR id, and EXPLAIN or ANALYZE … FOR
        /// CONNECTION id (MySQL, MariaDB). Every session shares the gateway's account, so a contractor could read an
        /// exempt session's <c>attached_condition</c> there, its typed values included, until 2026-12-07.
        /// </summary>
        private static ServerShows ShowsOf(ReadOnlySpan<byte> sql, List<SqlToken> tokens)
        {
            if (tokens.Count < 2)
            {
                return ServerShows.None;
            }

            var (first, second) = (tokens[0], tokens[1]);
            if (IsWord(sql, first, "show"u8))
            {
                var third = IsWord(sql, second, "full"u8) && tokens.Count > 2 ? tokens[2] : second;
                return IsWord(sql, second, "warnings"u8) || IsWord(sql, second, "errors"u8) ? ServerShows.Diagnostics
                    : IsWord(sql, second, "engine"u8) ? ServerShows.EngineStatus
                    : IsWord(sql, second, "explain"u8) || IsWord(sql, second, "analyze"u8) ? ServerShows.AnotherSessionsPlan
                    : IsWord(sql, third, "processlist"u8) ? ServerShows.Processlist
                    : ServerShows.None;
            }

            if (IsWord(sql, first, "explain"u8) || IsWord(sql, first, "describe"u8) || IsWord(sql, first, "desc"u8) || IsWord(sql, first, "analyze"u8))
            {
                for (var i = 2; i < tokens.Count; i++)
                {
                    if (IsWord(sql, tokens[i - 1], "for"u8) && IsWord(sql, tokens[i], "connection"u8))
                    {
                        return ServerShows.AnotherSessionsPlan;
                    }
                }
            }

            return ServerShows.None;
        }

        private static bool IsWord(ReadOnlySpan<byte> sql, in SqlToken token, ReadOnlySpan<byte> word)
            => token.Kind == SqlTokenKind.Word && System.Text.Ascii.EqualsIgnoreCase(sql.Slice(token.Start, token.Length), word);

        /// <summary>
        /// CALL runs SQL the statement does not show (EXECUTE too: strict mode's reading counts it for both
        /// dialects); MariaDB's <c>PROCEDURE ANALYSE()</c> returns the smallest, largest and (as an ENUM) every
        /// distinct value of each column the SELECT reads, <c>*</c> included, in derived columns that name none of them.
        /// </summary>
        private static bool ReadsUnseen(List<SqlToken> tokens) => tokens.Exists(t => t.Is(Keyword.Call) || t.Is(Keyword.Procedure));

        /// <summary>
        /// Names the statement gives to CTEs (<c>name AS (</c>, <c>name (cols) AS (</c>) and derived tables
        /// (<c>) [AS] name</c>). Over-inclusive (an expression alias after a call counts too): a name wrongly
        /// taken only makes its columns judged as derived.
        /// </summary>
        private static HashSet<string>? DefinedNames(ReadOnlySpan<byte> sql, List<SqlToken> tokens)
        {
            HashSet<string>? names = null;
            var open = new Stack<int>();
            var matching = new Dictionary<int, int>(); // ')' index -> its '(' index
            for (var i = 0; i < tokens.Count; i++)
            {
                if (tokens[i].IsPunct('('))
                {
                    open.Push(i);
                }
                else if (tokens[i].IsPunct(')') && open.Count > 0)
                {
                    matching[i] = open.Pop();
                }
            }

            for (var i = 0; i < tokens.Count; i++)
            {
                var t = tokens[i];
                if (t.IsPunct(')') && i + 1 < tokens.Count)
                {
                    var alias = tokens[i + 1].Is(Keyword.As) && i + 2 < tokens.Count ? i + 2 : i + 1;
                    Add(sql, tokens[alias], ref names);
                }
                else if (t.Is(Keyword.As) && i + 1 < tokens.Count && tokens[i + 1].IsPunct('(') && i > 0)
                {
                    var before = i - 1;
                    if (tokens[before].IsPunct(')') && matching.TryGetValue(before, out var listOpen))
                    {
                        before = listOpen - 1; // name (a, b) AS (
                    }

                    if (before >= 0)
                    {
                        Add(sql, tokens[before], ref names);
                    }
                }
            }

            return names;
        }

        private static void Add(ReadOnlySpan<byte> sql, in SqlToken token, ref HashSet<string>? names)
        {
            if (token.Kind is not (SqlTokenKind.Word or SqlTokenKind.QuotedName))
            {
                return;
            }

            Span<byte> buffer = stackalloc byte[256];
            if (token.ValueLength > buffer.Length)
            {
                return;
            }

            var written = MySqlLexer.Decode(sql, token, buffer);
            (names ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase)).Add(System.Text.Encoding.UTF8.GetString(buffer[..written]));
        }
    }
}
