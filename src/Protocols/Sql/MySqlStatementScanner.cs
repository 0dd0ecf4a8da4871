using System.Buffers;
using System.Text;
using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Protocols.Sql;

/// <summary>
/// What a MySQL/MariaDB statement is, from its leading key words (sql_yacc.yy's statement alternatives) and
/// the facts the scanner gathered. Statement forms it does not recognise, anonymous compound statements
/// (BEGIN NOT ATOMIC, IF ... END IF outside a routine) and SQL assembled at run time are Unknown.
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]
internal sealed class MySqlStatementScanner(MySqlSqlClassifier owner, bool nested) : SqlStatementScanner(limitBounds: true, Reserved)
{
    private static readonly bool[] Reserved = ReservedWords();
    private bool _routine;

    protected override Decision Decide(ReadOnlySpan<byte> sql) => DecideAt(sql, 0);

    private Decision DecideAt(ReadOnlySpan<byte> sql, int i)
    {
        var head = Head(i);
        if (head.IsPunct('('))
        {
            return Query(Keyword.Select);
        }

        switch (head.Keyword)
        {
            case Keyword.Select or Keyword.Values or Keyword.Table:
                return Query(head.Keyword);
            case Keyword.With:
                return MainVerbAtTop == Keyword.None ? Unreadable("WITH without a statement the gateway can find") : Query(MainVerbAtTop);
            case Keyword.Insert or Keyword.Replace or Keyword.Update or Keyword.Delete:
                return Query(head.Keyword);
            case Keyword.Load:
                return Load(i);
            case Keyword.Explain or Keyword.Describe or Keyword.Desc:
                return Explain(sql, i);
            case Keyword.Analyze when !(HeadIs(i + 1, Keyword.Table) || HeadIs(i + 1, Keyword.Tables) || HeadIs(i + 1, Keyword.Local)
                || IsWord(sql, i + 1, "no_write_to_binlog"u8)):
                return Explain(sql, i); // MariaDB's ANALYZE <statement> runs it, like EXPLAIN ANALYZE
            case Keyword.Prepare:
                return Prepare(sql, i);
            case Keyword.Execute:
                return HeadIs(i + 1, Keyword.Immediate)
                    ? new Decision(StatementKind.Unknown, StatementRisk.DynamicSql | Risks, "EXECUTE IMMEDIATE runs SQL assembled at run time")
                    : new Decision(StatementKind.Unknown, StatementRisk.DynamicSql | Risks, "EXECUTE of a statement this session did not prepare through the gateway",
                        PreparedAction.Execute, PreparedName(sql, i + 1));
            case Keyword.Deallocate:
                return new Decision(StatementKind.Session, Risks, Prepared: PreparedAction.Deallocate, PreparedName: PreparedName(sql, i + 2) ?? "");
            case Keyword.Drop when HeadIs(i + 1, Keyword.Prepare):
                return new Decision(StatementKind.Session, Risks, Prepared: PreparedAction.Deallocate, PreparedName: PreparedName(sql, i + 2) ?? "");
            case Keyword.Create:
                return Create(sql, i);
            case Keyword.Alter:
                return Alter(sql, i);
            case Keyword.Drop:
                return Drop(sql, i);
            case Keyword.Truncate:
                return AddHeadNameList(sql, HeadIs(i + 1, Keyword.Table) ? i + 2 : i + 1)
                    ? new Decision(StatementKind.Ddl, StatementRisk.Truncate | Risks)
                    : Unreadable("a TRUNCATE the gateway cannot read");
            case Keyword.Rename:
                return HeadIs(i + 1, Keyword.User)
                    ? new Decision(StatementKind.Dcl, StatementRisk.GrantRevoke | Risks)
                    : new Decision(StatementKind.Ddl, Risks);
            case Keyword.Grant or Keyword.Revoke:
                return new Decision(StatementKind.Dcl, StatementRisk.GrantRevoke | Risks);
            case Keyword.Set:
                return Set(sql, i);
            case Keyword.Use or Keyword.Show or Keyword.Help or Keyword.Signal or Keyword.Resignal or Keyword.Get:
                return new Decision(StatementKind.Session, Risks);
            case Keyword.Handler:
                AddHeadName(sql, i + 1);
                return new Decision(StatementKind.Read, Risks);
            case Keyword.Do:
                return new Decision(StatementKind.Read, Risks); // DO expr: evaluates expressions (their calls are judged)
            case Keyword.Call:
                AddHeadName(sql, i + 1);
                return new Decision(StatementKind.Write, StatementRisk.DynamicSql | Risks);
            case Keyword.Begin when HeadIs(i + 1, Keyword.Not):
                return Unreadable("an anonymous compound statement (BEGIN NOT ATOMIC) runs code the gateway does not judge statement by statement");
            case Keyword.Begin or Keyword.Start or Keyword.Commit or Keyword.Rollback or Keyword.Savepoint or Keyword.Release or Keyword.Xa:
                return new Decision(StatementKind.Transaction, Risks);
            case Keyword.Lock or Keyword.Unlock or Keyword.Kill or Keyword.Flush or Keyword.Optimize or Keyword.Repair or Keyword.Check
                or Keyword.Checksum or Keyword.Analyze or Keyword.Purge or Keyword.Reset or Keyword.Binlog or Keyword.Change
                or Keyword.Backup:
                return new Decision(StatementKind.Admin, Risks);
            case Keyword.Shutdown or Keyword.Restart:
                return new Decision(StatementKind.Admin, StatementRisk.AlterSystem | Risks);
            case Keyword.Install or Keyword.Uninstall:
                return new Decision(StatementKind.Admin, StatementRisk.RoutineBody | StatementRisk.FileAccess | Risks); // a plugin: a library from the server's disk
            default:
                return Unreadable("a statement the gateway does not know");
        }
    }

    private Decision Query(Keyword verb)
    {
        var risks = Risks;
        switch (verb)
        {
            case Keyword.Update:
                return new Decision(StatementKind.Write, risks | (BoundedAtTop ? StatementRisk.None : StatementRisk.UnboundedUpdate));
            case Keyword.Delete:
                return new Decision(StatementKind.Write, risks | (BoundedAtTop ? StatementRisk.None : StatementRisk.UnboundedDelete));
            case Keyword.Insert or Keyword.Replace:
                return new Decision(StatementKind.Write, risks);
            default:
                return new Decision(StatementKind.Read, risks); // INTO OUTFILE/DUMPFILE adds FileAccess as it streams by
        }
    }

    /// <summary>LOAD DATA|XML [LOCAL] INFILE: LOCAL reads the client's file (the gateway never lets that happen), otherwise the server's.</summary>
    private Decision Load(int i)
    {
        if (!(HeadIs(i + 1, Keyword.Data) || HeadIs(i + 1, Keyword.Xml)))
        {
            return new Decision(StatementKind.Admin, Risks); // LOAD INDEX INTO CACHE
        }

        var local = false;
        for (var k = i + 2; k < HeadCount && !HeadIs(k, Keyword.Infile); k++)
        {
            local |= HeadIs(k, Keyword.Local);
        }

        return new Decision(StatementKind.Write, (local ? StatementRisk.LoadData : StatementRisk.FileAccess) | Risks);
    }

    /// <summary>
    /// EXPLAIN/DESCRIBE of a table reads its definition; EXPLAIN of a statement only plans it, unless ANALYZE
    /// (MySQL's EXPLAIN ANALYZE, MariaDB's ANALYZE statement), which runs it.
    /// </summary>
    private Decision Explain(ReadOnlySpan<byte> sql, int i)
    {
        var j = i + 1;
        var analyze = HeadIs(i, Keyword.Analyze);
        while (true)
        {
            if (HeadIs(j, Keyword.Analyze))
            {
                analyze = true;
                j++;
            }
            else if (HeadIs(j, Keyword.Extended) || HeadIs(j, Keyword.Partition) || IsWord(sql, j, "partitions"u8))
            {
                j++;
            }
            else if (HeadIs(j, Keyword.Format) && Head(j + 1).IsPunct('='))
            {
                j += 3;
            }
            else
            {
                break;
            }
        }

        var inner = Head(j);
        if (inner.Keyword is not (Keyword.Select or Keyword.Insert or Keyword.Replace or Keyword.Update or Keyword.Delete or Keyword.With
            or Keyword.Table or Keyword.Values) && !inner.IsPunct('('))
        {
            if (HeadIs(j, Keyword.For))
            {
                return new Decision(StatementKind.Read, Risks); // EXPLAIN FOR CONNECTION n
            }

            AddHeadName(sql, j);
            return analyze ? Unreadable("ANALYZE of something the gateway does not know") : new Decision(StatementKind.Read, Risks);
        }

        var decided = DecideAt(sql, j);
        if (!analyze)
        {
            return new Decision(StatementKind.Read, Risks & StatementRisk.SideEffectFunction);
        }

        return decided with { Risks = decided.Risks | (decided.Kind == StatementKind.Write ? StatementRisk.ExplainAnalyzeDml : StatementRisk.None) };
    }

    /// <summary>
    /// PREPARE name FROM 'text' is judged as the text it prepares (read exactly as the server unescapes it);
    /// PREPARE name FROM @variable prepares SQL the gateway cannot see, so it is Unknown.
    /// </summary>
    private Decision Prepare(ReadOnlySpan<byte> sql, int i)
    {
        var name = PreparedName(sql, i + 1);
        var text = Head(i + 3);
        if (nested)
        {
            return Unreadable("PREPARE inside a prepared statement");
        }

        if (name is null || !HeadIs(i + 2, Keyword.From))
        {
            return Unreadable("PREPARE the gateway cannot read");
        }

        if (text.Kind != SqlTokenKind.String || HeadCount > i + 4 || HeadOverflow)
        {
            return new Decision(StatementKind.Unknown, StatementRisk.DynamicSql | Risks, "PREPARE ... FROM an expression prepares SQL assembled at run time");
        }

        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(text.ValueLength, 1));
        try
        {
            var length = MySqlLexer.Decode(sql, text, buffer, owner.NoBackslashEscapes);
            var inner = owner.ClassifyPrepared(buffer.AsSpan(0, length));
            return inner.Kind == StatementKind.Unknown
                ? new Decision(StatementKind.Unknown, inner.Risks | StatementRisk.DynamicSql | Risks, inner.Note)
                : new Decision(inner.Kind, inner.Risks | StatementRisk.DynamicSql | Risks, Prepared: PreparedAction.Prepare, PreparedName: name);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private Decision Create(ReadOnlySpan<byte> sql, int i)
    {
        var replaces = HeadIs(i + 1, Keyword.Or) && HeadIs(i + 2, Keyword.Replace);
        var j = SkipCreateClauses(sql, i + 1);
        var type = Head(j).Keyword;
        var name = j + 1;
        if (HeadIs(name, Keyword.If))
        {
            name += 3; // IF NOT EXISTS
        }

        switch (type)
        {
            case Keyword.Function or Keyword.Procedure or Keyword.Trigger or Keyword.Event:
                AddHeadName(sql, name);
                // CREATE FUNCTION ... SONAME loads a library from the server's disk (a UDF such as sys_exec).
                var risks = StatementRisk.RoutineBody | Risks;
                for (var k = name; k < HeadCount; k++)
                {
                    if (HeadIs(k, Keyword.Soname))
                    {
                        risks |= StatementRisk.FileAccess;
                    }
                }

                return new Decision(StatementKind.Ddl, risks);
            case Keyword.User or Keyword.Role:
                return new Decision(StatementKind.Dcl, Risks);
            case Keyword.None when Head(j).Kind != SqlTokenKind.Word:
                return Unreadable("CREATE of something the gateway does not know");
            default:
                if (type is Keyword.Table or Keyword.View or Keyword.Database or Keyword.Schema or Keyword.Sequence)
                {
                    AddHeadName(sql, name);
                }

                // MariaDB's CREATE OR REPLACE TABLE/SEQUENCE/DATABASE drops what stood under that name first.
                var drops = replaces && type is Keyword.Table or Keyword.Sequence or Keyword.Database or Keyword.Schema;
                return new Decision(StatementKind.Ddl, (drops ? (type is Keyword.Database or Keyword.Schema ? StatementRisk.DropDatabase : StatementRisk.Drop)
                    : StatementRisk.None) | Risks);
        }
    }

    private Decision Alter(ReadOnlySpan<byte> sql, int i)
    {
        var j = SkipCreateClauses(sql, i + 1);
        switch (Head(j).Keyword)
        {
            case Keyword.User or Keyword.Role:
                return new Decision(StatementKind.Dcl, StatementRisk.GrantRevoke | Risks);
            case Keyword.Instance or Keyword.Server:
                return new Decision(StatementKind.Admin, Risks);
            case Keyword.Table:
                AddHeadName(sql, j + 1);
                break;
            case Keyword.None when Head(j).Kind != SqlTokenKind.Word:
                return Unreadable("ALTER of something the gateway does not know");
        }

        return new Decision(StatementKind.Ddl, (DropAtTop ? StatementRisk.AlterDrop : StatementRisk.None) | Risks);
    }

    private Decision Drop(ReadOnlySpan<byte> sql, int i)
    {
        var j = i + 1;
        if (HeadIs(j, Keyword.Temporary))
        {
            j++;
        }

        var type = Head(j).Keyword;
        if (type is not (Keyword.Table or Keyword.Tables or Keyword.View or Keyword.Index or Keyword.Trigger or Keyword.Event
            or Keyword.Function or Keyword.Procedure or Keyword.Server or Keyword.Sequence or Keyword.Database or Keyword.Schema
            or Keyword.User or Keyword.Role))
        {
            return Unreadable("DROP of something the gateway does not know");
        }

        j++;
        if (HeadIs(j, Keyword.If))
        {
            j += 2; // IF EXISTS
        }

        if (type is not (Keyword.User or Keyword.Role) && !AddHeadNameList(sql, j))
        {
            return Unreadable("a DROP list the gateway cannot read");
        }

        return type switch
        {
            Keyword.Database or Keyword.Schema => new Decision(StatementKind.Ddl, StatementRisk.DropDatabase | Risks),
            Keyword.User or Keyword.Role => new Decision(StatementKind.Dcl, StatementRisk.Drop | Risks),
            _ => new Decision(StatementKind.Ddl, StatementRisk.Drop | Risks),
        };
    }

    /// <summary>
    /// SET GLOBAL/PERSIST changes the server for everyone; SET ROLE and SET DEFAULT ROLE change who acts;
    /// SET PASSWORD changes an account's credentials; SET NAMES (or character_set_client) to a character set
    /// whose bytes the lexer would read differently is refused as unreadable, and so is character_set_results to
    /// one whose text the maskers and detectors would not read (utf16, utf32, ucs2, or NULL: no conversion).
    /// sql_mode needs no following: the classifier reads every text that holds a quote or backslash under each
    /// mode (<see cref="MySqlSqlClassifier"/>).
    /// </summary>
    private Decision Set(ReadOnlySpan<byte> sql, int i)
    {
        if (IsWord(sql, i + 1, "statement"u8))
        {
            return SetStatement(sql, i);
        }

        var first = Head(i + 1);
        if (first.Keyword is Keyword.Global or Keyword.Persist or Keyword.PersistOnly
            || first.Kind == SqlTokenKind.Variable && IsGlobalVariable(sql, first))
        {
            return new Decision(StatementKind.Admin, StatementRisk.AlterSystem | Risks);
        }

        if (first.Keyword == Keyword.Role || first.Keyword == Keyword.Default && HeadIs(i + 2, Keyword.Role))
        {
            return new Decision(StatementKind.Session, StatementRisk.RoleChange | Risks);
        }

        if (first.Keyword == Keyword.Password)
        {
            return new Decision(StatementKind.Dcl, StatementRisk.GrantRevoke | Risks);
        }

        if (first.Keyword is Keyword.Transaction || first.Keyword == Keyword.Session && HeadIs(i + 2, Keyword.Transaction))
        {
            return new Decision(StatementKind.Transaction, Risks);
        }

        // Every assignment of a comma-separated SET: a GLOBAL one anywhere counts, and so do NAMES and sql_mode.
        for (var k = i + 1; k < HeadCount; k++)
        {
            var token = Head(k);
            if (HeadDepth(k) != 0)
            {
                continue;
            }

            if (token.Keyword is Keyword.Global or Keyword.Persist or Keyword.PersistOnly || token.Kind == SqlTokenKind.Variable && IsGlobalVariable(sql, token))
            {
                return new Decision(StatementKind.Admin, StatementRisk.AlterSystem | Risks);
            }

            if (token.Keyword is Keyword.Names or Keyword.Charset || token.Keyword == Keyword.Character && HeadIs(k + 1, Keyword.Set))
            {
                var charset = Head(token.Keyword == Keyword.Character ? k + 2 : k + 1);
                if (!IsAsciiCompatibleCharset(sql, charset))
                {
                    return Unreadable("a character set the gateway's lexer does not read");
                }
            }

            if ((IsWord(sql, k, "character_set_client"u8) || token.Kind == SqlTokenKind.Variable && EndsWith(sql, token, "character_set_client"u8))
                && !IsAsciiCompatibleCharset(sql, Head(k + 2)))
            {
                return Unreadable("a character set the gateway's lexer does not read");
            }

            // Results in UTF-16 or UTF-32 (or unconverted, NULL) are bytes the maskers and detectors do not read as text.
            if ((IsWord(sql, k, "character_set_results"u8) || token.Kind == SqlTokenKind.Variable && EndsWith(sql, token, "character_set_results"u8))
                && !IsAsciiCompatibleCharset(sql, Head(k + 2)))
            {
                return Unreadable("results in a character set the gateway does not read");
            }
        }

        return HeadOverflow ? Unreadable("a SET longer than the gateway reads") : new Decision(StatementKind.Session, Risks);
    }

    /// <summary>MariaDB's SET STATEMENT var = value [, ...] FOR statement: judged as that statement, plus what the settings do.</summary>
    private Decision SetStatement(ReadOnlySpan<byte> sql, int i)
    {
        for (var k = i + 2; k < HeadCount; k++)
        {
            if (HeadDepth(k) == 0 && HeadIs(k, Keyword.For) && k + 1 < HeadCount)
            {
                var inner = DecideAt(sql, k + 1);
                return inner with { Risks = inner.Risks | Risks, Prepared = PreparedAction.None, PreparedName = null };
            }
        }

        return Unreadable("SET STATEMENT ... FOR a statement the gateway cannot find");
    }

    private int SkipCreateClauses(ReadOnlySpan<byte> sql, int j)
    {
        // [OR REPLACE] [DEFINER = user] [SQL SECURITY x] [ALGORITHM = x] [AGGREGATE] [TEMPORARY] [UNIQUE|FULLTEXT|SPATIAL] [ONLINE]
        while (j < HeadCount)
        {
            if (HeadIs(j, Keyword.Or) && HeadIs(j + 1, Keyword.Replace))
            {
                j += 2;
            }
            else if ((HeadIs(j, Keyword.Definer) || HeadIs(j, Keyword.Algorithm)) && Head(j + 1).IsPunct('='))
            {
                j += 3;
                while (Head(j).Kind == SqlTokenKind.Variable || Head(j).IsPunct('(') || Head(j).IsPunct(')'))
                {
                    j++; // user@host, CURRENT_USER()
                }
            }
            else if (HeadIs(j, Keyword.Sql) && HeadIs(j + 1, Keyword.Security))
            {
                j += 3;
            }
            else if (Head(j).Keyword is Keyword.Aggregate or Keyword.Temporary || IsWord(sql, j, "unique"u8) || IsWord(sql, j, "fulltext"u8)
                || IsWord(sql, j, "spatial"u8) || IsWord(sql, j, "online"u8) || IsWord(sql, j, "offline"u8))
            {
                j++;
            }
            else
            {
                return j;
            }
        }

        return j;
    }

    private string? PreparedName(ReadOnlySpan<byte> sql, int index)
    {
        // Statement names are not case-sensitive in MySQL.
        var token = Head(index);
        if (token.Kind is not (SqlTokenKind.Word or SqlTokenKind.QuotedName))
        {
            return null;
        }

        Span<byte> buffer = stackalloc byte[256];
        if (!TryNormalize(sql, token, buffer, out var written))
        {
            return null;
        }

        Ascii.ToLowerInPlace(buffer[..written], out _);
        return Names.Intern(buffer[..written]);
    }

    private static bool IsGlobalVariable(ReadOnlySpan<byte> sql, in SqlToken variable)
    {
        // The lexer ends @@global before ".name"; @@persist and @@persist_only likewise.
        var text = sql.Slice(variable.Start, variable.Length);
        return text.StartsWith("@@"u8) && (StartsWithIgnoreCase(text[2..], "global"u8) || StartsWithIgnoreCase(text[2..], "persist"u8));
    }

    private static bool StartsWithIgnoreCase(ReadOnlySpan<byte> text, ReadOnlySpan<byte> prefix) =>
        text.Length >= prefix.Length && Ascii.EqualsIgnoreCase(text[..prefix.Length], prefix);

    private static bool EndsWith(ReadOnlySpan<byte> sql, in SqlToken token, ReadOnlySpan<byte> suffix)
    {
        var text = sql.Slice(token.Start, token.Length);
        return text.Length >= suffix.Length && Ascii.EqualsIgnoreCase(text[^suffix.Length..], suffix);
    }

    private static bool IsAsciiCompatibleCharset(ReadOnlySpan<byte> sql, in SqlToken charset)
    {
        if (charset.Kind is not (SqlTokenKind.Word or SqlTokenKind.String or SqlTokenKind.QuotedName))
        {
            return charset.Is(Keyword.Default);
        }

        var name = charset.Kind == SqlTokenKind.Word ? sql.Slice(charset.Start, charset.Length) : sql.Slice(charset.ValueStart, charset.ValueLength);
        // Character sets in which every byte below 0x80 is ASCII, so quotes and backslashes read the same.
        foreach (var safe in SafeCharsets)
        {
            if (Ascii.EqualsIgnoreCase(name, safe))
            {
                return true;
            }
        }

        return false;
    }

    private static readonly byte[][] SafeCharsets = [.. new[] { "utf8mb4", "utf8", "utf8mb3", "latin1", "ascii", "binary" }.Select(Encoding.ASCII.GetBytes)];

    protected override bool IsSideEffectFunction(string name) => SideEffectFunctions.MySql.Contains(name);

    /// <summary>Names as written (the server's case rules depend on lower_case_table_names; rules match case-insensitively); quotes removed.</summary>
    protected override bool TryNormalize(ReadOnlySpan<byte> sql, in SqlToken part, Span<byte> destination, out int written)
    {
        if (part.Kind == SqlTokenKind.QuotedName)
        {
            written = 0;
            if (part.ValueLength > destination.Length)
            {
                return false;
            }

            written = MySqlLexer.Decode(sql, part, destination, owner.NoBackslashEscapes);
            return true;
        }

        var word = sql.Slice(part.Start, part.Length);
        written = word.Length;
        return word.TryCopyTo(destination);
    }

    protected override void TrackBlocks(in SqlToken token, in SqlToken previous, int index)
    {
        if (index == 1)
        {
            // Anonymous compound statements and labelled blocks at the top level are routines too.
            _routine = token.Keyword is Keyword.If or Keyword.Case or Keyword.Loop or Keyword.While or Keyword.Repeat;
        }
        else if (token.Keyword is Keyword.Function or Keyword.Procedure or Keyword.Trigger or Keyword.Event && index <= 16 && !_routine
            && HeadIs(0, Keyword.Create))
        {
            _routine = true;
        }
        else if (index == 2 && HeadIs(0, Keyword.Begin) && token.Is(Keyword.Not))
        {
            _routine = true;
            EnterBlock(); // BEGIN NOT ATOMIC ... END
        }
        else if (index == 3 && previous.IsPunct(':') && token.Keyword is Keyword.Begin or Keyword.Loop or Keyword.While or Keyword.Repeat)
        {
            _routine = true; // label: BEGIN ... END label
        }

        if (token.Keyword is Keyword.Truncate or Keyword.Discard or Keyword.Blackhole && token.Kind == SqlTokenKind.Word && index > 1 && HeadIs(0, Keyword.Alter))
        {
            // ALTER TABLE ... TRUNCATE PARTITION empties partitions, DISCARD TABLESPACE deletes the data file,
            // ENGINE = BLACKHOLE keeps no rows: however far into a long ALTER they come.
            if (token.Keyword == Keyword.Truncate)
            {
                Risks |= StatementRisk.Truncate;
            }
            else if (token.Keyword is Keyword.Discard or Keyword.Blackhole)
            {
                Risks |= StatementRisk.AlterDrop;
            }
        }

        if (token.Keyword is Keyword.Outfile or Keyword.Dumpfile && previous.Is(Keyword.Into))
        {
            Risks |= StatementRisk.FileAccess; // SELECT ... INTO OUTFILE/DUMPFILE writes the server's disk
        }

        if (!_routine || token.Kind != SqlTokenKind.Word || previous.Is(Keyword.End))
        {
            return; // END IF, END LOOP, ...: the END already closed the block
        }

        var statementPosition = index == 1 || previous.IsPunct(';') || previous.IsPunct(':') || previous.Keyword is Keyword.Begin
            or Keyword.Then or Keyword.Else or Keyword.Do or Keyword.Loop or Keyword.Repeat or Keyword.Row; // FOR EACH ROW IF ...
        switch (token.Keyword)
        {
            case Keyword.Begin when index > 1 || BlockDepth == 0:
            case Keyword.Case:
            case Keyword.If or Keyword.Loop or Keyword.While or Keyword.Repeat when statementPosition:
                EnterBlock();
                break;
            case Keyword.End:
                LeaveBlock();
                break;
        }
    }

    private static bool[] ReservedWords()
    {
        var reserved = WordTable(
            Keyword.All, Keyword.Analyze, Keyword.And, Keyword.As, Keyword.Case, Keyword.Check, Keyword.Column, Keyword.Constraint,
            Keyword.Create, Keyword.Cross, Keyword.Default, Keyword.Delete, Keyword.Desc, Keyword.Dumpfile, Keyword.Else, Keyword.Except,
            Keyword.Exists, Keyword.False, Keyword.For, Keyword.Foreign, Keyword.From, Keyword.Grant, Keyword.Group, Keyword.Having,
            Keyword.If, Keyword.In, Keyword.Index, Keyword.Inner, Keyword.Insert, Keyword.Intersect, Keyword.Into, Keyword.Is, Keyword.Join,
            Keyword.Key, Keyword.Left, Keyword.Limit, Keyword.Lock, Keyword.Natural, Keyword.Not, Keyword.Null, Keyword.On, Keyword.Or,
            Keyword.Order, Keyword.Outer, Keyword.Outfile, Keyword.Partition, Keyword.Replace, Keyword.Returning, Keyword.Right,
            Keyword.Select, Keyword.Set, Keyword.StraightJoin, Keyword.Then, Keyword.To, Keyword.True, Keyword.Union, Keyword.Update,
            Keyword.Use, Keyword.Using, Keyword.Values, Keyword.When, Keyword.Where, Keyword.While, Keyword.Window, Keyword.With);

        return reserved;
    }
}
