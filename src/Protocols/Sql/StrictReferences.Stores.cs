using System.Buffers;
using System.Text;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Protocols.Sql;

/// <summary>
/// Masking follows a value by the column it comes from, so a masked session must not move a sensitive value
/// somewhere masking cannot follow it: into another column or table (<c>UPDATE people SET name = card</c>,
/// <c>INSERT INTO notes SELECT card …</c>, <c>CREATE TABLE t AS …</c>, <c>SELECT … INTO</c>), a session
/// variable (<c>set_config</c>, MySQL's <c>@v</c>), a notification or a large object, or out of a rule's
/// reach by renaming the table a rule names. Such a statement is refused when it reads anything strict mode
/// counts as sensitive, outside the columns it assigns: INSERT's column list and SET's targets may name a
/// sensitive column, since storing a value the client sent into it is data entry, not disclosure. Over-
/// inclusive like the rest of strict mode: a false alarm refuses one statement, a miss launders a card number.
/// </summary>
internal static partial class StrictReferences
{
    // Calls that move a value out of the result: into a setting, a notification, a large object, a file, a
    // sequence (setval: read back by currval or last_value) or a lock's key, which pg_locks (MySQL: the
    // metadata lock views) shows every session.
    private static readonly HashSet<string> StoringFunctions = new(StringComparer.OrdinalIgnoreCase)
    {
        "set_config", "pg_notify", "lo_from_bytea", "lo_put", "lo_import", "lo_export", "lowrite", "lo_create", "lo_creat",
        "dblink", "dblink_exec", "dblink_send_query", "pg_file_write", "setval",
        "pg_advisory_lock", "pg_advisory_lock_shared", "pg_try_advisory_lock", "pg_try_advisory_lock_shared", "pg_advisory_xact_lock",
        "pg_advisory_xact_lock_shared", "pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared", "get_lock",
    };

    // Words after which TABLE is part of DDL or an administrative command, not the TABLE query (every column).
    private static readonly HashSet<string> TableCommandWords = new(StringComparer.Ordinal)
    {
        "create", "alter", "drop", "truncate", "lock", "temp", "temporary", "unlogged", "foreign", "global", "local", "exists",
        "comment", "on", "into", "rename", "optimize", "analyze", "repair", "check", "checksum", "show", "describe", "flush",
        "with", "references", "partition", "of", "like", "import", "cache", "load", "only",
    };

    // Words after which "name (" is no call: a table and its column list.
    private static readonly HashSet<string> NotCallers = new(StringComparer.Ordinal)
    {
        "into", "update", "table", "from", "join", "references", "on", "index", "view", "insert", "replace", "conflict", "using",
        "exists", "values", "in", "any", "all", "some", "array", "row", "as", "key", "constraint", "partition",
    };

    /// <summary>
    /// Why a statement of a masked session would store or send a sensitive value where masking cannot follow
    /// it, or null when it would not. Reads that only return their results are never refused here (their
    /// results are masked); <paramref name="ownFunctions"/> null means the database's functions are not known
    /// yet, and then any call counts; <paramref name="viewColumns"/> (the view columns that show a sensitive
    /// value) null means its views are not known yet, and then any read of a
    /// relation counts, since <c>INSERT INTO notes SELECT cc FROM v</c> copies card if v's cc is card.
    /// </summary>
    public static string? FindStore<TLexer>(ref TLexer lexer, ReadOnlySpan<byte> sql, StatementKind kind, MaskingSession masking, IReadOnlySet<string>? ownFunctions,
        SensitiveViewColumns? viewColumns, bool errorEndsText = false)
        where TLexer : ISqlLexer, allows ref struct
    {
        if (!masking.HasColumnRules || kind == StatementKind.Transaction || (kind == StatementKind.Read && !MayStoreFromRead(sql)))
        {
            return null; // no column sensitive by name (detectors only), or most statements: decided without reading them again
        }

        var tokens = new List<Token>();
        var unclear = Read(ref lexer, sql, masking, ownFunctions, viewColumns, anyCall: ownFunctions is null, tokens, stopAtSensitive: false, errorEndsText);
        if ((kind == StatementKind.Read && !StoresFromRead(tokens)) || NameAt(tokens, 0) == "show")
        {
            return null; // SHOW (PROCESSLIST, WARNINGS, a setting) only returns what it shows, which is masked
        }

        if (viewColumns is null && ReadsRelation(tokens))
        {
            return "it reads a table or view, and the gateway has not yet learnt which of this database's views show sensitive columns (try again in a moment)";
        }

        if (NameAt(tokens, 0) == "get" && NameAt(tokens, 1) is "diagnostics" or "current" or "stacked")
        {
            return "it copies a diagnostic's text, which can quote a row's value, into a variable"; // MySQL: read back by SELECT @v
        }

        if (unclear)
        {
            return ownFunctions is null
                ? "it calls a function, and the gateway has not yet learnt which of this database's functions may read tables (try again in a moment)"
                : "it calls a function that may read tables itself (one of this database's own, or one that runs SQL text), or cannot be read to its end";
        }

        if (tokens.Exists(t => t.Kind == SqlTokenKind.Word && t.Name == "call") && tokens.Exists(t => t.Kind == SqlTokenKind.Variable))
        {
            // MySQL: CALL p(1, @c) lets the procedure's OUT parameter store what it read into @c, read back unmasked by SELECT reverse(@c).
            return "it passes a user variable to a procedure, whose OUT parameter may store a sensitive value in it";
        }

        if (ExecutesPrepared(tokens, storing: true))
        {
            return "it stores what a prepared statement returns (AS EXECUTE), whose text the gateway does not read here";
        }

        var targets = Targets(tokens);
        var inCalls = InCalls(tokens);
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokens[i].Sensitive && tokens[i].Kind == SqlTokenKind.String)
            {
                if (RunsAsSql(tokens, i, inCalls))
                {
                    return "it names a sensitive column in a string that may run as SQL (a function's argument or a routine's body)";
                }
            }
            else if (tokens[i].Sensitive && !targets[i])
            {
                return $"it reads the sensitive column \"{tokens[i].Name}\"";
            }
        }

        if (ReadsEveryColumn(tokens))
        {
            return "it reads every column of a row (* or TABLE)";
        }

        if (RenamesByPosition(tokens))
        {
            return "it reads a table's columns under other names (a column alias list)";
        }

        if (UsesWholeRow(tokens))
        {
            return "it uses a whole row as a value, or reads from a function that may read tables";
        }

        if (kind == StatementKind.Ddl && Detaches(tokens))
        {
            return "it detaches a partition or inheritance child, whose columns would leave the rules that name its parent";
        }

        if (kind == StatementKind.Ddl && RenamedRelation(tokens, targets, masking) is { } renamed)
        {
            return $"it renames or moves \"{renamed}\", which a masking rule names by table or schema (its columns would leave the rule)";
        }

        return null;
    }

    // What a read that stores or sends must contain somewhere (any case): a cheap test before reading it whole.
    private static readonly SearchValues<string> StoreMarkers = SearchValues.Create(
        ["into", "notify", "set_config", "lo_", "lowrite", "dblink", "pg_file_write", ":=", "setval", "_lock"], StringComparison.OrdinalIgnoreCase); // "_lock": pg_advisory_lock and kin, GET_LOCK

    private static bool MayStoreFromRead(ReadOnlySpan<byte> sql)
    {
        // Bytes widened one to one (Latin-1): a UTF-8 sequence becomes chars above 0x7F, none of which folds
        // to an ASCII letter, so only the ASCII words themselves match.
        char[]? rented = null;
        var chars = sql.Length <= 1024 ? stackalloc char[sql.Length] : (rented = ArrayPool<char>.Shared.Rent(sql.Length)).AsSpan(0, sql.Length);
        Encoding.Latin1.GetChars(sql, chars);
        var found = chars.IndexOfAny(StoreMarkers) >= 0;
        if (rented is not null)
        {
            ArrayPool<char>.Shared.Return(rented);
        }

        return found;
    }

    /// <summary>
    /// Which tokens stand inside a call's arguments, at any depth (<c>query_to_xml('select card …')</c>,
    /// <c>format((…))</c>): a string there may run as SQL. One pass, however the groups nest.
    /// </summary>
    private static bool[] InCalls(List<Token> tokens)
    {
        var inCall = new bool[tokens.Count];
        var groups = new Stack<bool>();
        for (var i = 0; i < tokens.Count; i++)
        {
            var within = groups.Count > 0 && groups.Peek();
            inCall[i] = within;
            if (tokens[i].Char == (byte)'(')
            {
                groups.Push(within || (NameAt(tokens, i - 1) is { } callee && !(tokens[i - 1].Kind == SqlTokenKind.Word && NotCallers.Contains(callee))));
            }
            else if (tokens[i].Char == (byte)')' && groups.Count > 0)
            {
                groups.Pop();
            }
        }

        return inCall;
    }

    /// <summary>
    /// A string that may run as SQL: a call's argument, or the body of DO, CREATE FUNCTION … AS, EXECUTE or
    /// MySQL's PREPARE … FROM. A string stored as a value (<c>SET note = 'new card'</c>) is data.
    /// </summary>
    private static bool RunsAsSql(List<Token> tokens, int i, bool[] inCalls)
        => inCalls[i] || NameAt(tokens, i - 1) is "do" or "as" or "execute" or "immediate" or "body" or "begin" || NameAt(tokens, 0) == "prepare";

    /// <summary>Whether the statement names a relation it may read (FROM, JOIN, USING, UPDATE, TABLE): one may be a view.</summary>
    private static bool ReadsRelation(List<Token> tokens)
        => tokens.Exists(t => t.Kind == SqlTokenKind.Word && t.Name is "from" or "join" or "using" or "update" or "table");

    /// <summary>DETACH PARTITION or NO INHERIT: masking follows a child by its parents (PgRelation.Ancestors).</summary>
    private static bool Detaches(List<Token> tokens)
    {
        for (var i = 0; i + 1 < tokens.Count; i++)
        {
            if ((tokens[i].Name == "detach" && tokens[i + 1].Name == "partition") || (tokens[i].Name == "no" && tokens[i + 1].Name == "inherit"))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The name of a table or schema a rule names that the DDL renames or moves, or null: <c>ALTER … name RENAME
    /// TO</c> and <c>ALTER … name SET SCHEMA</c> (the names before RENAME or SET), MySQL's <c>RENAME TABLE a TO b</c>
    /// (every name but the new ones). A column renamed is judged by its name like any other column.
    /// </summary>
    private static string? RenamedRelation(List<Token> tokens, bool[] targets, MaskingSession masking)
    {
        var end = -1;
        for (var i = 0; i < tokens.Count && end < 0; i++)
        {
            if (tokens[i].Kind == SqlTokenKind.Word && ((tokens[i].Name == "rename" && (i == 0 || NameAt(tokens, i + 1) == "to"))
                || (tokens[i].Name == "set" && NameAt(tokens, i + 1) == "schema")))
            {
                end = i == 0 ? tokens.Count : i;
            }
        }

        for (var i = 0; i < end; i++)
        {
            if (tokens[i].Name is { } name && !targets[i] && !(tokens[i].Kind == SqlTokenKind.Word && TableCommandWords.Contains(name))
                && masking.NamesSensitiveRelation(name))
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>A read that stores or sends: <c>SELECT … INTO</c>, a call that moves values elsewhere, MySQL's <c>@v := …</c>.</summary>
    private static bool StoresFromRead(List<Token> tokens)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if ((t.Kind == SqlTokenKind.Word && t.Name is "into" or "notify")
                || (t.Name is { } name && StoringFunctions.Contains(name) && CharAt(tokens, i + 1) == (byte)'(')
                || (t.Char == (byte)':' && CharAt(tokens, i + 1) == (byte)'='))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary><c>SELECT *</c>, <c>t.*</c> or the TABLE query: every column of a row, sensitive ones included.</summary>
    private static bool ReadsEveryColumn(List<Token> tokens)
    {
        for (var i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (t.Char == (byte)'*' && (CharAt(tokens, i - 1) is (byte)',' or (byte)'.' || NameAt(tokens, i - 1) is "select" or "distinct" or "all"))
            {
                return true;
            }

            if (t.Kind == SqlTokenKind.Word && t.Name == "table" && !(i > 0 && tokens[i - 1].Kind == SqlTokenKind.Word && TableCommandWords.Contains(tokens[i - 1].Name!)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// The names a statement assigns rather than reads: INSERT's (and REPLACE's) column list, the targets of SET
    /// (UPDATE, INSERT … SET, ON CONFLICT … DO UPDATE, a session SET) and of ON DUPLICATE KEY UPDATE, and ON
    /// CONFLICT's columns, the new name of RENAME … TO; and the values the client sent that those clauses read back (<c>excluded.card</c>,
    /// MySQL's <c>VALUES(card)</c>). Everything else a statement names is read.
    /// </summary>
    private static bool[] Targets(List<Token> tokens)
    {
        var targets = new bool[tokens.Count];
        var renames = tokens.Exists(t => t.Kind == SqlTokenKind.Word && t.Name == "rename");
        var upserts = tokens.Exists(t => t.Kind == SqlTokenKind.Word && t.Name == "duplicate");
        var marked = 0; // lists are marked once: a SET or INSERT word inside one already marked starts none (linear in the tokens)
        for (var i = 0; i < tokens.Count; i++)
        {
            if (tokens[i].Kind != SqlTokenKind.Word)
            {
                continue;
            }

            switch (tokens[i].Name)
            {
                case "insert" or "replace" when i >= marked:
                    marked = MarkColumnList(tokens, ColumnListAfterTable(tokens, i + 1), targets, marked);
                    break;
                case "conflict" when i >= marked && CharAt(tokens, i + 1) == (byte)'(':
                    marked = MarkColumnList(tokens, i + 1, targets, marked);
                    break;
                case "set" when i >= marked:
                case "update" when i >= marked && NameAt(tokens, i - 1) == "key":
                    marked = MarkAssignments(tokens, i + 1, targets);
                    break;
                case "to" when renames && NameAt(tokens, i + 1) is not null:
                    targets[i + 1] = true; // RENAME … TO a new name: what it defines, not what it reads
                    break;
                case "excluded" when CharAt(tokens, i + 1) == (byte)'.' && NameAt(tokens, i + 2) is not null:
                    targets[i + 2] = true; // ON CONFLICT's proposed row: the value the client sent
                    break;
                case "values" when CharAt(tokens, i + 1) == (byte)'(' && NameAt(tokens, i + 2) is not null && CharAt(tokens, i + 3) == (byte)')'
                    && upserts:
                    targets[i + 2] = true; // ON DUPLICATE KEY UPDATE's VALUES(col): the value the client sent
                    break;
            }
        }

        return targets;
    }

    /// <summary>Where the column list of INSERT [modifiers] [INTO] table [PARTITION (…)] [AS alias] (…) opens, or -1.</summary>
    private static int ColumnListAfterTable(List<Token> tokens, int i)
    {
        while (NameAt(tokens, i) is "low_priority" or "delayed" or "high_priority" or "ignore" or "into")
        {
            i++;
        }

        if (NameAt(tokens, i) is null)
        {
            return -1;
        }

        i++;
        while (CharAt(tokens, i) == (byte)'.' && NameAt(tokens, i + 1) is not null)
        {
            i += 2;
        }

        if (NameAt(tokens, i) == "partition" && CharAt(tokens, i + 1) == (byte)'(')
        {
            i = AfterGroup(tokens, i + 1);
        }

        if (NameAt(tokens, i) == "as" && NameAt(tokens, i + 1) is not null)
        {
            i += 2;
        }

        // "INSERT INTO t (SELECT …)" is a query in parentheses, not a column list.
        return CharAt(tokens, i) == (byte)'(' && NameAt(tokens, i + 1) is not ("select" or "with" or "values" or "table") ? i : -1;
    }

    /// <summary>Marks the names directly inside the group opening at <paramref name="open"/> (a column list); where marking stopped.</summary>
    private static int MarkColumnList(List<Token> tokens, int open, bool[] targets, int marked)
    {
        if (open < 0)
        {
            return marked;
        }

        var depth = 0;
        for (var i = open; i < tokens.Count; i++)
        {
            depth += CharAt(tokens, i) switch { (byte)'(' => 1, (byte)')' => -1, _ => 0 };
            if (depth == 0)
            {
                return i;
            }

            if (depth == 1 && tokens[i].Name is not null)
            {
                targets[i] = true;
            }
        }

        return tokens.Count;
    }

    /// <summary>
    /// Marks the targets of <c>a = …, t.b = …, (c, d) = …</c> from <paramref name="i"/>: each assignment's
    /// names before its <c>=</c>; its value is read. Stops at anything else (SET's other forms, WHERE, FROM),
    /// and returns where.
    /// </summary>
    private static int MarkAssignments(List<Token> tokens, int i, bool[] targets)
    {
        while (i < tokens.Count)
        {
            var first = i;
            if (CharAt(tokens, i) == (byte)'(')
            {
                i = AfterGroup(tokens, i);
            }
            else
            {
                if (NameAt(tokens, i) is null)
                {
                    return i;
                }

                i++;
                while (CharAt(tokens, i) == (byte)'.' && NameAt(tokens, i + 1) is not null)
                {
                    i += 2;
                }
            }

            if (CharAt(tokens, i) != (byte)'=')
            {
                return i; // SET search_path TO …, SET TRANSACTION …, a subscript: nothing more is a target
            }

            for (var j = first; j < i; j++)
            {
                targets[j] = tokens[j].Name is not null;
            }

            // The value runs to the next comma at this depth, or to a word that ends the list.
            var depth = 0;
            for (i++; i < tokens.Count; i++)
            {
                depth += CharAt(tokens, i) switch { (byte)'(' => 1, (byte)')' => -1, _ => 0 };
                if (depth < 0 || (depth == 0 && (CharAt(tokens, i) == (byte)';'
                    || (tokens[i].Kind == SqlTokenKind.Word && tokens[i].Name is "where" or "from" or "returning" or "order" or "limit" or "on"))))
                {
                    return i;
                }

                if (depth == 0 && CharAt(tokens, i) == (byte)',')
                {
                    i++;
                    break;
                }
            }
        }

        return tokens.Count;
    }

    /// <summary>The index after the group opening at <paramref name="open"/>.</summary>
    private static int AfterGroup(List<Token> tokens, int open)
    {
        var depth = 0;
        for (var i = open; i < tokens.Count; i++)
        {
            depth += CharAt(tokens, i) switch { (byte)'(' => 1, (byte)')' => -1, _ => 0 };
            if (depth == 0)
            {
                return i + 1;
            }
        }

        return tokens.Count;
    }

    /// <summary>With the database's functions unknown, whether the name before "(" may be a call at all.</summary>
    private static bool IsCall(List<Token> tokens)
    {
        var callee = tokens[^1];
        if (callee.Kind == SqlTokenKind.Word && (NotCallers.Contains(callee.Name!) || NotAliases.Contains(callee.Name!) || TableIntroducers.Contains(callee.Name!)))
        {
            return false;
        }

        var start = tokens.Count - 1; // the first part of a qualified name
        while (start >= 2 && tokens[start - 1].Char == (byte)'.' && tokens[start - 2].Name is not null)
        {
            start -= 2;
        }

        return !(start >= 1 && tokens[start - 1].Kind == SqlTokenKind.Word && NotCallers.Contains(tokens[start - 1].Name!));
    }
}
