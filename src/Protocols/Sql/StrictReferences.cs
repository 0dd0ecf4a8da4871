using System.Text;
using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Protocols.Sql;

/// <summary>
/// Strict mode's reading of a statement: may a derived result column carry a sensitive value? Yes when the
/// statement names a sensitive column anywhere (string literals included: <c>query_to_xml('select card
/// ...')</c> runs SQL from a string), when it uses a whole row as a value (<c>to_json(p)</c>, <c>p::text</c>,
/// <c>row(p.*)</c>, a CTE or subquery alias passed to a function: a whole row carries every column without
/// naming one), when it calls in FROM a function that may read tables itself, or when the dialect's lexer cannot
/// read it to the end. A table name or alias that only
/// qualifies a column (<c>p.name</c>) is no whole-row use. Over-inclusive by design: a false alarm masks a
/// derived column, a miss leaks it. Comments are skipped by the lexer, except MySQL's executable ones.
/// </summary>
internal static partial class StrictReferences
{
    private static readonly HashSet<string> TableIntroducers = new(StringComparer.Ordinal) { "from", "join", "only", "update", "into", "table", "lateral" };

    // Words after a table that are not its alias.
    private static readonly HashSet<string> NotAliases = new(StringComparer.Ordinal)
    {
        "where", "join", "inner", "left", "right", "full", "outer", "cross", "natural", "on", "using", "group", "order", "limit", "offset",
        "fetch", "for", "having", "window", "union", "except", "intersect", "returning", "set", "values", "lateral", "tablesample", "as",
        "and", "or", "not", "select", "from", "into", "with", "when", "then", "else", "end", "is", "in", "like", "between", "recursive",
        "default", "do", "conflict", "straight_join", "partition", "force", "ignore", "use", "procedure", "lock", "share", "nowait", "skip",
    };

    /// <summary>
    /// Set-returning functions whose rows come only from their arguments (PostgreSQL's pg_catalog, MySQL's
    /// JSON_TABLE), so an alias of their result is no row of a relation. Any other function called in FROM may
    /// read tables itself (a user's <c>RETURNS SETOF customers</c>): strict mode treats it like a whole row.
    /// </summary>
    private static readonly HashSet<string> ArgumentOnlyFunctions = new(StringComparer.Ordinal)
    {
        "generate_series", "generate_subscripts", "unnest", "regexp_split_to_table", "regexp_matches", "string_to_table",
        "json_array_elements", "json_array_elements_text", "jsonb_array_elements", "jsonb_array_elements_text", "json_each",
        "json_each_text", "jsonb_each", "jsonb_each_text", "json_object_keys", "jsonb_object_keys", "json_to_recordset",
        "jsonb_to_recordset", "json_to_record", "jsonb_to_record", "jsonb_path_query", "json_table",
    };

    /// <summary>
    /// Functions that read rows no column name in the statement shows: SQL text run at call time, which may be
    /// built as it runs (<c>ts_stat('select … card_' || 'number …')</c>; <c>ts_rewrite</c>'s query form; the
    /// XML exports; tablefunc's <c>crosstab</c>), a table named by a string (<c>table_to_xml</c>, <c>connectby</c>,
    /// pageinspect's raw pages), decoded WAL and extended statistics' most common values. A call of one counts
    /// wherever it stands; in FROM every function but the argument-only ones does anyway.
    /// </summary>
    private static readonly HashSet<string> ReadsUnnamedRows = new(StringComparer.Ordinal)
    {
        "ts_stat", "ts_rewrite", "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "cursor_to_xml",
        "table_to_xml", "table_to_xml_and_xmlschema", "schema_to_xml", "schema_to_xml_and_xmlschema", "database_to_xml",
        "database_to_xml_and_xmlschema", "crosstab", "crosstab2", "crosstab3", "crosstab4", "connectby", "dblink", "dblink_fetch",
        "get_raw_page", "heap_page_items", "heap_page_item_attrs", "tuple_data_split", "bt_page_items", "pg_mcv_list_items",
        "pg_logical_slot_get_changes", "pg_logical_slot_peek_changes", "pg_logical_slot_get_binary_changes",
        "pg_logical_slot_peek_binary_changes",
    };

    /// <param name="Sensitive">The name may name a sensitive column.</param>
    private readonly record struct Token(SqlTokenKind Kind, string? Name, byte Char, bool Undecoded = false, bool Sensitive = false);

    /// <param name="ownFunctions">
    /// The names of the database's own functions (PostgreSQL: outside pg_catalog, with the operators defined there
    /// and the target types of casts made by such functions; MySQL: stored functions), with the comparer the
    /// server resolves them by: a call of one may read a sensitive table itself and return its values as a derived
    /// column, so it counts too, as do an operator and a cast that call one. A quoted name with escapes counts by
    /// the name it stands for, or as one when it cannot be decoded. Null: no such check.
    /// </param>
    /// <param name="viewColumns">
    /// The database's view columns that show a sensitive value: such a column counts like a rule's where the
    /// statement reads it and names its view, since <c>upper(v.cc)</c> over a view's copy of card is card; not
    /// as a qualifier, an alias or a table.
    /// </param>
    /// <param name="errorEndsText">
    /// For a reading under another sql_mode (<see cref="MySqlModes"/>): text that reading cannot lex is text a
    /// server in that mode rejects, so the reading ends there instead of counting as unreadable.
    /// </param>
    public static bool Find<TLexer>(ref TLexer lexer, ReadOnlySpan<byte> sql, MaskingSession masking, IReadOnlySet<string>? ownFunctions = null,
        SensitiveViewColumns? viewColumns = null, bool errorEndsText = false)
        where TLexer : ISqlLexer, allows ref struct
    {
        var tokens = new List<Token>();
        return Read(ref lexer, sql, masking, ownFunctions, viewColumns, anyCall: false, tokens, stopAtSensitive: true, errorEndsText) || UsesWholeRow(tokens)
            || ExecutesPrepared(tokens, storing: false) || RenamesByPosition(tokens);
    }

    /// <summary>
    /// Whether the statement can give a column it reads without naming it (<c>*</c>, <c>t.*</c>, TABLE, a table
    /// given a column alias list) another name by its position, which strict mode, going by names, cannot
    /// follow: a set operation's result takes its first branch's names, and a column alias list renames in order
    /// (<c>customers t(a, b)</c>, <c>(…) s(a, b)</c>, <c>WITH x(a, b) AS</c>). So <c>SELECT reverse(z) FROM (SELECT
    /// '' z WHERE false UNION ALL SELECT * FROM customers) s</c> reads card as z; until 2026-12-07 it got through.
    /// </summary>
    private static bool RenamesByPosition(List<Token> tokens)
    {
        bool setOperation = false, aliasList = false, relationAliasList = false, inFrom = false;
        int[]? opens = null, closes = null;
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokens[i].Kind == SqlTokenKind.Word)
            {
                setOperation |= tokens[i].Name is "union" or "except" or "intersect" or "minus";
                inFrom = tokens[i].Name switch
                {
                    "from" or "join" => true,
                    "select" or "where" or "on" or "using" or "group" or "order" or "having" or "limit" or "returning" or "set" or "values" => false,
                    _ => inFrom,
                };
            }
            else if (tokens[i].Char == (byte)'(' && i >= 2 && IsAliasName(tokens, i - 1))
            {
                opens ??= Opens(tokens);
                closes ??= Closes(tokens, opens);
                if (IsRelationAliasList(tokens, i, inFrom))
                {
                    aliasList = relationAliasList = true;
                }
                else if (NameAt(tokens, i - 2) is "with" or "recursive" || (CharAt(tokens, i - 2) == (byte)',' && closes[i] >= 0 && NameAt(tokens, closes[i] + 1) == "as")
                    || IsSubqueryAliasList(tokens, i, opens))
                {
                    aliasList = true;
                }
            }
        }

        return (setOperation || aliasList) && (relationAliasList || ReadsEveryColumn(tokens));
    }

    /// <summary>A name that can be an alias: quoted, or a word that is not one of the clauses' own (<see cref="NotAliases"/>).</summary>
    private static bool IsAliasName(List<Token> tokens, int i)
        => tokens[i].Kind == SqlTokenKind.QuotedName || (tokens[i].Kind == SqlTokenKind.Word && !NotAliases.Contains(tokens[i].Name!));

    /// <summary><c>FROM [ONLY] [s.]table [AS] alias (</c>, also after JOIN, LATERAL or a comma in FROM: a relation's columns renamed in order.</summary>
    private static bool IsRelationAliasList(List<Token> tokens, int open, bool inFrom)
    {
        var k = open - 2;
        if (NameAt(tokens, k) == "as" && tokens[k].Kind == SqlTokenKind.Word)
        {
            k--;
        }

        if (k < 0 || !IsAliasName(tokens, k))
        {
            return false;
        }

        while (k >= 2 && CharAt(tokens, k - 1) == (byte)'.' && tokens[k - 2].Name is not null)
        {
            k -= 2; // s.t: the schema's name
        }

        return k >= 1 && ((tokens[k - 1].Kind == SqlTokenKind.Word && tokens[k - 1].Name is "from" or "join" or "lateral" or "only")
            || (tokens[k - 1].Char == (byte)',' && inFrom));
    }

    /// <summary><c>(subquery) [AS] alias (</c>, the subquery's group following FROM, JOIN, LATERAL or a comma (not a call's arguments or a cast's operand).</summary>
    private static bool IsSubqueryAliasList(List<Token> tokens, int open, int[] opens)
    {
        var closing = NameAt(tokens, open - 2) == "as" ? open - 3 : open - 2;
        if (CharAt(tokens, closing) != (byte)')' || opens[closing] < 1)
        {
            return false;
        }

        var before = tokens[opens[closing] - 1];
        return (before.Kind == SqlTokenKind.Word && before.Name is "from" or "join" or "lateral") || before.Char == (byte)',';
    }

    /// <summary>For each "(" the index of its ")" (-1 when unclosed), from <see cref="Opens"/>.</summary>
    private static int[] Closes(List<Token> tokens, int[] opens)
    {
        var closes = new int[tokens.Count];
        Array.Fill(closes, -1);
        for (var i = 0; i < tokens.Count; i++)
        {
            if (opens[i] >= 0)
            {
                closes[opens[i]] = i;
            }
        }

        return closes;
    }

    /// <summary>
    /// Whether the statement runs a prepared statement by its name (<c>EXECUTE p</c>, PostgreSQL's <c>CREATE TABLE
    /// t AS EXECUTE p</c>, MySQL's <c>EXECUTE s</c> and <c>EXECUTE IMMEDIATE</c>): what it returns comes from a
    /// text this one does not show, so its derived columns may carry anything. With <paramref name="storing"/>,
    /// only where the result is stored (<c>AS EXECUTE</c>). <c>EXECUTE FUNCTION</c> (a trigger) and <c>GRANT
    /// EXECUTE ON</c> run nothing here.
    /// </summary>
    private static bool ExecutesPrepared(List<Token> tokens, bool storing)
    {
        for (var i = 0; i + 1 < tokens.Count; i++)
        {
            if (tokens[i].Kind == SqlTokenKind.Word && tokens[i].Name == "execute" && tokens[i + 1].Name is { } next
                && !(tokens[i + 1].Kind == SqlTokenKind.Word && next is "function" or "procedure" or "on")
                && (!storing || NameAt(tokens, i - 1) == "as"))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Reads the statement into <paramref name="tokens"/>; true as soon as it finds what makes it reference a
    /// sensitive value wherever it stands: text the lexer cannot read, a call of one of <paramref name="ownFunctions"/>
    /// (of any function when <paramref name="anyCall"/>), and, with <paramref name="stopAtSensitive"/>, a name of a
    /// sensitive column or a string literal naming one (else that is marked on its token).
    /// </summary>
    private static bool Read<TLexer>(ref TLexer lexer, ReadOnlySpan<byte> sql, MaskingSession masking, IReadOnlySet<string>? ownFunctions,
        SensitiveViewColumns? viewColumns, bool anyCall, List<Token> tokens, bool stopAtSensitive, bool errorEndsText = false)
        where TLexer : ISqlLexer, allows ref struct
    {
        int operatorStart = 0, operatorEnd = -1; // the run of adjacent operator characters the last token ended
        var viewColumnBefore = false; // the last token may name a view column that shows a sensitive one
        List<int>? viewColumnsRead = null;
        List<string>? viewsNamed = null;
        while (true)
        {
            var t = lexer.Next();
            if (viewColumnBefore && !t.IsPunct('.'))
            {
                (viewColumnsRead ??= []).Add(tokens.Count - 1); // not a qualifier (c.oid): a column read
            }

            viewColumnBefore = false;
            if (t.Kind == SqlTokenKind.End || (t.Kind == SqlTokenKind.Error && errorEndsText))
            {
                return viewColumnsRead is not null && viewsNamed is not null && ViewColumnsShown(tokens, viewColumnsRead, viewsNamed, viewColumns!, stopAtSensitive);
            }

            if (ownFunctions is not null && t.Kind == SqlTokenKind.Punct && IsOperatorChar(t.Char))
            {
                operatorStart = operatorEnd == t.Start ? operatorStart : t.Start;
                operatorEnd = t.End;
                if (EndsWithOwnOperator(sql[operatorStart..operatorEnd], ownFunctions))
                {
                    return true;
                }
            }

            if (t.Kind == SqlTokenKind.Error)
            {
                return true; // what the lexer cannot read, strict mode cannot clear
            }

            string? name = null;
            var undecoded = false;
            if (t.Kind == SqlTokenKind.Word)
            {
                name = Encoding.UTF8.GetString(sql.Slice(t.Start, t.Length)).ToLowerInvariant();
            }
            else if (t.Kind == SqlTokenKind.QuotedName)
            {
                // U&"card\005fnumber" and "card_""number" are judged by the names they stand for; one that cannot
                // be decoded exactly could be any name, so it counts as sensitive.
                var raw = Encoding.UTF8.GetString(sql.Slice(t.ValueStart, t.ValueLength));
                name = (t.Flags & (SqlTokenFlags.Escaped | SqlTokenFlags.Unicode)) == 0 ? raw : DecodedName(ref lexer, t);
                undecoded = name is null;
                name ??= raw;
            }

            var sensitive = undecoded || (name is not null ? masking.NamesSensitiveColumn(name) || IsStatisticsView(name) || IsActivityText(name) || viewColumns?.IsWhole(name) == true
                : t.Kind == SqlTokenKind.String && NamesColumnInText(sql.Slice(t.ValueStart, t.ValueLength), masking, viewColumns));
            if (sensitive && stopAtSensitive)
            {
                return true;
            }

            if (!sensitive && name is not null && viewColumns is not null)
            {
                if (viewColumns.IsView(name))
                {
                    (viewsNamed ??= []).Add(name);
                }

                viewColumnBefore = viewColumns.MayName(name) && !NamesAliasOrTable(tokens);
            }

            if (ownFunctions is not null && name is not null && ownFunctions.Contains(name) && IsCastTarget(tokens))
            {
                return true; // x::t or CAST(x AS t) where a cast to t runs a function of the database's own
            }

            if (t.IsPunct('(') && tokens.Count > 0 && tokens[^1].Name is { } called && ReadsUnnamedRows.Contains(called)
                && !(tokens.Count > 1 && tokens[^2].Kind == SqlTokenKind.Word && NotCallers.Contains(tokens[^2].Name!)))
            {
                return true; // what it returns comes from rows the statement does not name (see ReadsUnnamedRows)
            }

            if ((ownFunctions is not null || anyCall) && t.IsPunct('(') && tokens.Count > 0 && tokens[^1].Name is { } callee
                && (tokens[^1].Undecoded || ownFunctions?.Contains(callee) == true || (anyCall && IsCall(tokens))))
            {
                return true;
            }

            tokens.Add(new Token(t.Kind, name, t.Kind == SqlTokenKind.Punct ? t.Char : (byte)0, undecoded, sensitive));
        }
    }

    /// <summary>
    /// Whether the next name is where a cast names its target type: after <c>::</c>, after the AS of
    /// <c>CAST(x AS t)</c>, or a later part of a qualified name there (<c>x::s.t</c>).
    /// </summary>
    private static bool IsCastTarget(List<Token> tokens)
    {
        var at = tokens.Count;
        while (at >= 2 && tokens[at - 1].Char == (byte)'.' && tokens[at - 2].Name is not null)
        {
            at -= 2; // s.t: look before s
        }

        if (at >= 2 && tokens[at - 1].Char == (byte)':' && tokens[at - 2].Char == (byte)':')
        {
            return true;
        }

        if (at < 1 || tokens[at - 1].Kind != SqlTokenKind.Word || tokens[at - 1].Name != "as")
        {
            return false;
        }

        // AS inside CAST( ... ): the innermost parenthesis still open before it follows the word CAST.
        var depth = 0;
        for (var i = at - 2; i >= 0; i--)
        {
            if (tokens[i].Char == (byte)')')
            {
                depth++;
            }
            else if (tokens[i].Char == (byte)'(' && depth-- == 0)
            {
                return i > 0 && tokens[i - 1].Kind == SqlTokenKind.Word && tokens[i - 1].Name == "cast";
            }
        }

        return false;
    }

    /// <summary>PostgreSQL's operator characters (CREATE OPERATOR): a run of them names an operator.</summary>
    private static bool IsOperatorChar(byte c) => c is (byte)'+' or (byte)'-' or (byte)'*' or (byte)'/' or (byte)'<' or (byte)'>' or (byte)'=' or (byte)'~'
        or (byte)'!' or (byte)'@' or (byte)'#' or (byte)'%' or (byte)'^' or (byte)'&' or (byte)'|' or (byte)'`' or (byte)'?';

    /// <summary>
    /// Whether the run of operator characters read so far ends with an operator of the database's own (the
    /// catalog lists them with its functions): such an operator calls a function, which may read a sensitive
    /// table as a call by name would. Checked as each character arrives, so every operator inside the run is
    /// seen; more than one operator in a run only makes this over-inclusive.
    /// </summary>
    private static bool EndsWithOwnOperator(ReadOnlySpan<byte> run, IReadOnlySet<string> ownFunctions)
    {
        const int MaxOperatorLength = 63; // NAMEDATALEN - 1
        run = run[Math.Max(0, run.Length - MaxOperatorLength)..];
        Span<char> chars = stackalloc char[MaxOperatorLength];
        chars = chars[..Encoding.ASCII.GetChars(run, chars)];
        // The catalogs' sets are HashSets with an ordinal comparer, which look spans up without a string each.
        var spans = ownFunctions is HashSet<string> set && set.TryGetAlternateLookup<ReadOnlySpan<char>>(out var lookup) ? lookup : default;
        for (var start = 0; start < chars.Length; start++)
        {
            if (spans.Set is not null ? spans.Contains(chars[start..]) : ownFunctions.Contains(new string(chars[start..])))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Where a server shows the text of statements other sessions run (PostgreSQL's <c>pg_stat_activity</c> and
    /// <c>pg_stat_statements</c>, MySQL's process list, performance_schema statement events and log tables, the
    /// sys views over them). Every gateway session shares its database account, so a masked session would see what an
    /// exempt one types, card numbers included: reading one counts as reading a sensitive column. Compared ignoring
    /// case (MySQL's `PROCESSLIST` is the same table), without a lowered copy of each name read.
    /// </summary>
    public static bool IsActivityText(string name) => ActivityTexts.Contains(name);

    private static readonly HashSet<string> ActivityTexts = new(StringComparer.OrdinalIgnoreCase)
    {
        "pg_stat_activity", "pg_stat_get_activity", "pg_stat_get_backend_activity", "pg_stat_statements",
        "processlist", "processlist_info", "events_statements_current", "events_statements_history", "events_statements_history_long",
        "events_statements_summary_by_digest", "prepared_statements_instances", "sql_text", "current_statement", "last_statement",
        "general_log", "slow_log", // MySQL's statement logs, when written to tables
        "info_binary", "innodb_trx", "trx_query", // the process list's text again, as bytes; InnoDB's running statements
        "innodb_locks", "data_locks", "lock_data", // the key values of the rows other sessions lock
    };

    /// <summary>
    /// What the planner saw of the rows (PostgreSQL's <c>pg_stats</c> and its kin, MariaDB's and MySQL's column
    /// statistics, and their optimizer trace): statistics show sampled values of every analysed column, and the
    /// trace's range analysis quotes values the optimizer computed from rows (a constant subquery's result,
    /// <c>"(1111 1111 1111 1114) &lt; (k)"</c> in MariaDB until 2026-12-07). Reading one counts as reading a
    /// sensitive column. Compared ignoring case: MySQL's information_schema names are.
    /// </summary>
    public static bool IsStatisticsView(string name) => StatisticsViews.Contains(name);

    private static readonly HashSet<string> StatisticsViews = new(StringComparer.OrdinalIgnoreCase)
    {
        "pg_stats", "pg_stats_ext", "pg_stats_ext_exprs", "pg_statistic", "pg_statistic_ext_data",
        "column_stats", "column_statistics", // MariaDB's mysql.column_stats, MySQL's information_schema.column_statistics
        "optimizer_trace",
    };

    private static string? DecodedName<TLexer>(ref TLexer lexer, in SqlToken token)
        where TLexer : ISqlLexer, allows ref struct
    {
        Span<byte> buffer = stackalloc byte[256]; // more than either dialect's longest name
        return lexer.DecodeName(token, buffer);
    }

    /// <summary>Whether the next name defines an alias (after AS) or names a table (after FROM, JOIN, INTO, …): no column read.</summary>
    private static bool NamesAliasOrTable(List<Token> tokens)
        => tokens.Count > 0 && tokens[^1].Kind == SqlTokenKind.Word && tokens[^1].Name is { } word && (word == "as" || TableIntroducers.Contains(word));

    /// <summary>
    /// At the statement's end: whether a column read (<paramref name="reads"/>, token indexes) is one a view the
    /// statement names shows a sensitive value in. With <paramref name="stopAtSensitive"/> that is the answer;
    /// otherwise such tokens are marked sensitive and the answer is false, as for any other sensitive name.
    /// </summary>
    private static bool ViewColumnsShown(List<Token> tokens, List<int> reads, List<string> views, SensitiveViewColumns viewColumns, bool stopAtSensitive)
    {
        foreach (var i in reads)
        {
            if (views.Exists(view => viewColumns.Shows(view, tokens[i].Name!)))
            {
                if (stopAtSensitive)
                {
                    return true;
                }

                tokens[i] = tokens[i] with { Sensitive = true };
            }
        }

        return false;
    }

    /// <summary>
    /// Whether a string names a sensitive column: a rule's anywhere, a view's together with the view
    /// (<c>'select cc from v'</c>, which may run as SQL), or a view that counts whole.
    /// </summary>
    private static bool NamesColumnInText(ReadOnlySpan<byte> text, MaskingSession masking, SensitiveViewColumns? viewColumns)
    {
        var words = new SqlIdentifiers(text);
        List<string>? columns = null, views = null;
        while (words.MoveNext())
        {
            var word = words.Current;
            if (masking.NamesSensitiveColumn(word) || viewColumns?.IsWhole(word) == true)
            {
                return true;
            }

            if (viewColumns?.MayName(word) == true)
            {
                (columns ??= []).Add(word);
            }

            if (viewColumns?.IsView(word) == true)
            {
                (views ??= []).Add(word);
            }
        }

        return columns is not null && views is not null && viewColumns!.AnyShown(columns, views);
    }

    private static bool UsesWholeRow(List<Token> tokens)
    {
        var opens = Opens(tokens);
        var rowNames = new HashSet<string>(StringComparer.Ordinal);
        var declarations = new bool[tokens.Count];
        var rowSources = new bool[tokens.Count];
        var inFrom = false;
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokens[i].Name is not { } name)
            {
                continue;
            }

            if (tokens[i].Kind == SqlTokenKind.Word)
            {
                inFrom = name switch
                {
                    "from" or "join" => true,
                    "select" or "where" or "on" or "group" or "order" or "having" or "limit" or "returning" or "set" or "values" => false,
                    _ => inFrom,
                };
            }

            var before = CharAt(tokens, i - 1);
            var previousWord = i > 0 && tokens[i - 1].Kind == SqlTokenKind.Word ? tokens[i - 1].Name : null;
            // A name where FROM takes a row source (FROM x, JOIN x, LATERAL x, ", x" in FROM, and the parts of x.y there).
            rowSources[i] = previousWord is "from" or "join" or "lateral" || (before == (byte)',' && inFrom)
                || (before == (byte)'.' && i > 1 && rowSources[i - 2]);
            if (rowSources[i] && CharAt(tokens, i + 1) == (byte)'(' && !(tokens[i].Kind == SqlTokenKind.Word && NotAliases.Contains(name)))
            {
                if (!IsArgumentOnly(tokens, i))
                {
                    return true; // a function in FROM that may read tables itself (RETURNS SETOF customers): like a whole row
                }

                continue; // a call is no table; its alias is no row (FollowsCall)
            }

            var isTable = (previousWord is not null && TableIntroducers.Contains(previousWord) && !(previousWord == "update" && NameAt(tokens, i - 2) == "key"))
                || (before == (byte)',' && inFrom)
                || (before == (byte)'.' && i > 1 && declarations[i - 2]);
            var closing = before == (byte)')' ? i - 1 : previousWord == "as" && CharAt(tokens, i - 2) == (byte)')' ? i - 2 : -1;
            var isSubqueryAlias = closing >= 0 && !(closing == i - 1 && NotAliases.Contains(name)) && !FollowsCall(tokens, closing, opens);
            var isCte = (previousWord is "with" or "recursive" || (before == (byte)',' && !inFrom && NameAt(tokens, i + 1) == "as"))
                && !NotAliases.Contains(name);
            if (!(isTable || isSubqueryAlias || isCte) || (tokens[i].Kind == SqlTokenKind.Word && isTable && NotAliases.Contains(name)))
            {
                continue;
            }

            declarations[i] = true;
            rowNames.Add(name);
            if (!isTable || CharAt(tokens, i + 1) == (byte)'.')
            {
                continue;
            }

            var alias = i + 1;
            if (NameAt(tokens, alias) == "as" && tokens[alias].Kind == SqlTokenKind.Word)
            {
                alias++;
            }

            if (NameAt(tokens, alias) is { } a && !(tokens[alias].Kind == SqlTokenKind.Word && NotAliases.Contains(a)))
            {
                declarations[alias] = true;
                rowNames.Add(a);
            }
        }

        for (var i = 0; i < tokens.Count; i++)
        {
            if (!declarations[i] && tokens[i].Name is { } name && rowNames.Contains(name) && CharAt(tokens, i - 1) != (byte)'.'
                && (CharAt(tokens, i + 1) != (byte)'.' || CharAt(tokens, i + 2) == (byte)'*'))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether the group closing at <paramref name="closing"/> is a call's arguments (<c>generate_series(1, n) g</c>,
    /// <c>count(*) c</c>): the name after it then names the call's result, not a row of a relation the statement
    /// reads (a call in FROM that may read tables itself was already judged a whole-row use). A subquery's group
    /// follows FROM, JOIN, LATERAL or a comma instead.
    /// </summary>
    private static bool FollowsCall(List<Token> tokens, int closing, int[] opens)
    {
        var j = opens[closing];
        return j >= 0 && NameAt(tokens, j - 1) is { } callee && !(tokens[j - 1].Kind == SqlTokenKind.Word
            && (TableIntroducers.Contains(callee) || NotAliases.Contains(callee) || callee is "exists" or "any" or "all" or "some" or "array"));
    }

    /// <summary>For each ")" the index of its "(" (-1 when unmatched), found in one pass so deep nesting costs no more.</summary>
    private static int[] Opens(List<Token> tokens)
    {
        var opens = new int[tokens.Count];
        var open = new Stack<int>();
        for (var i = 0; i < tokens.Count; i++)
        {
            opens[i] = -1;
            if (tokens[i].Char == (byte)'(')
            {
                open.Push(i);
            }
            else if (tokens[i].Char == (byte)')' && open.Count > 0)
            {
                opens[i] = open.Pop();
            }
        }

        return opens;
    }

    /// <summary>The call at <paramref name="i"/> is one of <see cref="ArgumentOnlyFunctions"/>, unqualified or in pg_catalog.</summary>
    private static bool IsArgumentOnly(List<Token> tokens, int i)
        => tokens[i].Name is { } name && ArgumentOnlyFunctions.Contains(name.ToLowerInvariant())
            && (CharAt(tokens, i - 1) != (byte)'.' || NameAt(tokens, i - 2) == "pg_catalog");

    private static byte CharAt(List<Token> tokens, int i) => i >= 0 && i < tokens.Count ? tokens[i].Char : (byte)0;

    private static string? NameAt(List<Token> tokens, int i) => i >= 0 && i < tokens.Count ? tokens[i].Name : null;
}
