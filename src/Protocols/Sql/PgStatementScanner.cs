using System.Text;
using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Protocols.Sql;

/// <summary>
/// What a PostgreSQL statement is, from its leading key words (the grammar's stmt alternatives in gram.y) and
/// the facts the scanner gathered. Every statement form it does not recognise is Unknown.
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]
internal sealed class PgStatementScanner() : SqlStatementScanner(limitBounds: false, Reserved)
{
    private const int MaxIdentifierBytes = 63; // NAMEDATALEN - 1: the server truncates longer names
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
            case Keyword.Select or Keyword.Values:
                return Query(head.Keyword);
            case Keyword.Table:
                AddHeadName(sql, HeadIs(i + 1, Keyword.Only) ? i + 2 : i + 1);
                return Query(Keyword.Table);
            case Keyword.With:
                return MainVerbAtTop == Keyword.None ? Unreadable("WITH without a statement the gateway can find") : Query(MainVerbAtTop);
            case Keyword.Insert or Keyword.Update or Keyword.Delete or Keyword.Merge:
                return Query(head.Keyword);
            case Keyword.Explain:
                return Explain(sql, i);
            case Keyword.Prepare:
                return Prepare(sql, i);
            case Keyword.Execute:
                return new Decision(StatementKind.Unknown, StatementRisk.DynamicSql | Risks, "EXECUTE of a statement this session did not prepare through the gateway",
                    PreparedAction.Execute, Name(sql, i + 1));
            case Keyword.Deallocate:
                var target = HeadIs(i + 1, Keyword.Prepare) ? i + 2 : i + 1;
                return new Decision(StatementKind.Session, Risks, Prepared: PreparedAction.Deallocate,
                    PreparedName: HeadIs(target, Keyword.All) ? null : Name(sql, target) ?? "");
            case Keyword.Discard:
                return HeadIs(i + 1, Keyword.All)
                    ? new Decision(StatementKind.Session, Risks, Prepared: PreparedAction.Deallocate)
                    : new Decision(StatementKind.Session, Risks);
            case Keyword.Create:
                return Create(sql, i);
            case Keyword.Alter:
                return Alter(sql, i);
            case Keyword.Drop:
                return Drop(sql, i);
            case Keyword.Truncate:
                return AddHeadNameList(sql, HeadIs(i + 1, Keyword.Table) ? i + 2 : i + 1, Keyword.Only)
                    ? new Decision(StatementKind.Ddl, StatementRisk.Truncate | Risks)
                    : Unreadable("a TRUNCATE list longer than the gateway reads");
            case Keyword.Grant or Keyword.Revoke:
                GrantObjects(sql, i);
                return new Decision(StatementKind.Dcl, StatementRisk.GrantRevoke | Risks);
            case Keyword.Copy:
                return Copy(sql, i);
            case Keyword.Set:
                return Set(sql, i);
            case Keyword.Reset or Keyword.Show or Keyword.Listen or Keyword.Unlisten or Keyword.Notify or Keyword.Fetch
                or Keyword.Move or Keyword.Close or Keyword.Declare:
                return new Decision(StatementKind.Session, Risks);
            case Keyword.Begin or Keyword.Start or Keyword.Commit or Keyword.End or Keyword.Rollback or Keyword.Abort
                or Keyword.Savepoint or Keyword.Release:
                return new Decision(StatementKind.Transaction, Risks);
            case Keyword.Do:
                return new Decision(StatementKind.Unknown, StatementRisk.DynamicSql | Risks, "a DO block runs code the gateway cannot read");
            case Keyword.Call:
                AddHeadName(sql, i + 1);
                return new Decision(StatementKind.Write, StatementRisk.DynamicSql | Risks);
            case Keyword.Lock:
                AddHeadNameList(sql, HeadIs(i + 1, Keyword.Table) ? i + 2 : i + 1, Keyword.Only);
                return new Decision(StatementKind.Admin, Risks);
            case Keyword.Vacuum or Keyword.Analyze or Keyword.Analyse or Keyword.Cluster or Keyword.Reindex
                or Keyword.Checkpoint or Keyword.Refresh:
                return new Decision(StatementKind.Admin, Risks);
            case Keyword.Load:
                return new Decision(StatementKind.Admin, StatementRisk.FileAccess | Risks); // loads a shared library from the server's disk
            case Keyword.Comment or Keyword.Security or Keyword.Import:
                return new Decision(StatementKind.Ddl, Risks);
            case Keyword.Reassign:
                return new Decision(StatementKind.Dcl, StatementRisk.GrantRevoke | Risks);
            default:
                return Unreadable("a statement the gateway does not know");
        }
    }

    /// <summary>SELECT/VALUES/TABLE and the DML verbs, top-level or as the main statement of WITH.</summary>
    private Decision Query(Keyword verb)
    {
        var risks = Risks | (ModifiesInParentheses ? StatementRisk.DataModifyingCte : StatementRisk.None);
        switch (verb)
        {
            case Keyword.Update:
                return new Decision(StatementKind.Write, risks | (BoundedAtTop ? StatementRisk.None : StatementRisk.UnboundedUpdate));
            case Keyword.Delete:
                return new Decision(StatementKind.Write, risks | (BoundedAtTop ? StatementRisk.None : StatementRisk.UnboundedDelete));
            case Keyword.Insert or Keyword.Merge:
                return new Decision(StatementKind.Write, risks);
            default:
                // SELECT ... INTO t creates a table; a data-modifying CTE makes the whole statement a write.
                var kind = IntoAtTop >= 0 ? StatementKind.Ddl : ModifiesInParentheses ? StatementKind.Write : StatementKind.Read;
                return new Decision(kind, risks);
        }
    }

    /// <summary>EXPLAIN runs its statement only with ANALYZE; then the statement's own kind and risks count.</summary>
    private Decision Explain(ReadOnlySpan<byte> sql, int i)
    {
        var j = i + 1;
        var analyze = false;
        if (Head(j).IsPunct('('))
        {
            var end = SkipParentheses(j);
            for (var k = j + 1; k < end - 1; k++)
            {
                if (Head(k).Keyword is Keyword.Analyze or Keyword.Analyse)
                {
                    var value = Head(k + 1);
                    analyze |= !(value.Is(Keyword.False) || value.Is(Keyword.Off) || value.Kind == SqlTokenKind.Number && sql[value.Start] == '0' && value.Length == 1);
                }
            }

            j = end;
        }
        else
        {
            while (Head(j).Keyword is Keyword.Analyze or Keyword.Analyse or Keyword.Verbose)
            {
                analyze |= Head(j).Keyword != Keyword.Verbose;
                j++;
            }
        }

        if (j >= HeadCount)
        {
            return Unreadable("EXPLAIN of a statement the gateway cannot find");
        }

        var inner = DecideAt(sql, j);
        if (!analyze || inner.Kind == StatementKind.Unknown)
        {
            // Without ANALYZE nothing runs: only the plan comes back.
            return inner.Kind == StatementKind.Unknown && inner.Prepared != PreparedAction.Execute ? inner : new Decision(StatementKind.Read);
        }

        return inner with { Risks = inner.Risks | (inner.Kind == StatementKind.Write ? StatementRisk.ExplainAnalyzeDml : StatementRisk.None) };
    }

    /// <summary>PREPARE name [(types)] AS statement: judged as the statement it prepares; the session remembers it for EXECUTE.</summary>
    private Decision Prepare(ReadOnlySpan<byte> sql, int i)
    {
        if (HeadIs(i + 1, Keyword.Transaction))
        {
            return new Decision(StatementKind.Transaction, Risks);
        }

        var name = Name(sql, i + 1);
        var body = SkipParentheses(i + 2);
        if (name is null || !HeadIs(body, Keyword.As) || body + 1 >= HeadCount)
        {
            return Unreadable("PREPARE the gateway cannot read");
        }

        var inner = DecideAt(sql, body + 1);
        return inner.Kind == StatementKind.Unknown || inner.Prepared != PreparedAction.None
            ? inner with { Kind = StatementKind.Unknown, Prepared = PreparedAction.None }
            : inner with { Risks = inner.Risks | StatementRisk.DynamicSql, Prepared = PreparedAction.Prepare, PreparedName = name };
    }

    private Decision Create(ReadOnlySpan<byte> sql, int i)
    {
        var j = i + 1;
        if (HeadIs(j, Keyword.Or) && HeadIs(j + 1, Keyword.Replace))
        {
            j += 2;
        }

        while (Head(j).Keyword is Keyword.Temp or Keyword.Temporary or Keyword.Unlogged or Keyword.Global or Keyword.Local
            or Keyword.Materialized or Keyword.Recursive or Keyword.Default or Keyword.Constraint || IsWord(sql, j, "unique"u8)
            || IsWord(sql, j, "trusted"u8) || IsWord(sql, j, "procedural"u8))
        {
            j++;
        }

        var type = Head(j).Keyword;
        var name = j + 1;
        if (HeadIs(name, Keyword.If))
        {
            name += 3; // IF NOT EXISTS
        }

        var risks = Risks | (ModifiesInParentheses ? StatementRisk.DataModifyingCte : StatementRisk.None);
        switch (type)
        {
            case Keyword.Function or Keyword.Procedure or Keyword.Trigger or Keyword.Rule or Keyword.Language or Keyword.Extension
                or Keyword.Event or Keyword.Aggregate or Keyword.Operator or Keyword.Cast:
                // Code that runs later, on other people's statements too, and that the gateway will not see again.
                AddHeadName(sql, type == Keyword.Event ? name + 1 : name);
                return new Decision(StatementKind.Ddl, risks | StatementRisk.RoutineBody);
            case Keyword.Role or Keyword.User or Keyword.Group:
                AddHeadName(sql, name);
                return new Decision(StatementKind.Dcl, risks);
            case Keyword.Index:
                AddTableAfterOn(sql, name);
                return new Decision(StatementKind.Ddl, risks);
            case Keyword.None when Head(j).Kind != SqlTokenKind.Word:
                return Unreadable("CREATE of something the gateway does not know");
            default:
                if (type is Keyword.Table or Keyword.View or Keyword.Sequence or Keyword.Schema or Keyword.Database or Keyword.Type
                    or Keyword.Domain)
                {
                    AddHeadName(sql, name);
                }

                return new Decision(StatementKind.Ddl, risks);
        }
    }

    private Decision Alter(ReadOnlySpan<byte> sql, int i)
    {
        var type = Head(i + 1).Keyword;
        switch (type)
        {
            case Keyword.System:
                return new Decision(StatementKind.Admin, StatementRisk.AlterSystem | Risks);
            case Keyword.Role or Keyword.User or Keyword.Group:
                // Attributes, passwords and memberships of database roles: what GRANT does, reaching past the client.
                return new Decision(StatementKind.Dcl, StatementRisk.GrantRevoke | Risks);
            case Keyword.Default:
                return new Decision(StatementKind.Dcl, StatementRisk.GrantRevoke | Risks);
            case Keyword.None when Head(i + 1).Kind != SqlTokenKind.Word:
                return Unreadable("ALTER of something the gateway does not know");
        }

        var name = i + 2;
        while (Head(name).Keyword is Keyword.Table or Keyword.View or Keyword.Index or Keyword.Sequence or Keyword.Foreign or Keyword.Materialized)
        {
            name++;
        }

        if (HeadIs(name, Keyword.If))
        {
            name += 2; // IF EXISTS
        }

        AddHeadName(sql, HeadIs(name, Keyword.Only) ? name + 1 : name);
        var risks = Risks | (DropAtTop ? StatementRisk.AlterDrop : StatementRisk.None);
        return new Decision(StatementKind.Ddl, risks);
    }

    private Decision Drop(ReadOnlySpan<byte> sql, int i)
    {
        var type = Head(i + 1).Keyword;
        var j = i + 1;
        while (Head(j).Keyword is Keyword.Table or Keyword.View or Keyword.Materialized or Keyword.Index or Keyword.Concurrently
            or Keyword.Sequence or Keyword.Function or Keyword.Procedure or Keyword.Aggregate or Keyword.Routine or Keyword.Trigger
            or Keyword.Rule or Keyword.Policy or Keyword.Foreign or Keyword.Data or Keyword.Wrapper or Keyword.Server or Keyword.Type
            or Keyword.Domain or Keyword.Extension or Keyword.Event or Keyword.Schema or Keyword.Database or Keyword.Role or Keyword.User
            or Keyword.Group or Keyword.Text or Keyword.Search or Keyword.Configuration or Keyword.Dictionary or Keyword.Parser
            or Keyword.Template or Keyword.Operator or Keyword.Class or Keyword.Family or Keyword.Cast or Keyword.Collation
            or Keyword.Conversion or Keyword.Language or Keyword.Publication or Keyword.Subscription or Keyword.Statistics
            or Keyword.Tablespace or Keyword.Access or Keyword.Method or Keyword.Transform or Keyword.Mapping or Keyword.Procedural)
        {
            j++;
        }

        if (type == Keyword.Owned)
        {
            return new Decision(StatementKind.Ddl, StatementRisk.Drop | Risks); // DROP OWNED BY: everything a role owns
        }

        if (j == i + 1)
        {
            return Unreadable("DROP of something the gateway does not know");
        }

        if (HeadIs(j, Keyword.If))
        {
            j += 2; // IF EXISTS
        }

        if (!AddHeadNameList(sql, j))
        {
            return Unreadable("a DROP the gateway cannot read whole (a list longer than it keeps, or a form it does not know)");
        }

        if (type is Keyword.Trigger or Keyword.Rule or Keyword.Policy)
        {
            AddTableAfterOn(sql, j); // DROP TRIGGER t ON tbl: the table is what loses its trigger
        }

        return type switch
        {
            Keyword.Database or Keyword.Schema => new Decision(StatementKind.Ddl, StatementRisk.DropDatabase | Risks),
            Keyword.Role or Keyword.User or Keyword.Group => new Decision(StatementKind.Dcl, StatementRisk.Drop | Risks),
            _ => new Decision(StatementKind.Ddl, StatementRisk.Drop | Risks),
        };
    }

    /// <summary>COPY: FROM STDIN writes, TO STDOUT reads; a file is the server's disk, PROGRAM its shell.</summary>
    private Decision Copy(ReadOnlySpan<byte> sql, int i)
    {
        if (!Head(i + 1).IsPunct('('))
        {
            AddHeadName(sql, i + 1);
        }

        var target = ToFromTarget;
        var risks = Risks;
        if (target.Is(Keyword.Program))
        {
            risks |= StatementRisk.Program;
        }
        else if (target.Kind == SqlTokenKind.String)
        {
            risks |= StatementRisk.FileAccess;
        }
        else if (!(target.Is(Keyword.Stdin) || target.Is(Keyword.Stdout)))
        {
            return Unreadable("COPY to or from something the gateway cannot read");
        }

        var kind = ToFrom == Keyword.From || ModifiesInParentheses ? StatementKind.Write : StatementKind.Read;
        return new Decision(kind, risks);
    }

    /// <summary>SET ROLE, SET SESSION AUTHORIZATION and SET role = ... change who the session acts as.</summary>
    private Decision Set(ReadOnlySpan<byte> sql, int i)
    {
        var j = i + 1;
        if (HeadIs(j, Keyword.Session) && HeadIs(j + 1, Keyword.Authorization))
        {
            return new Decision(StatementKind.Session, StatementRisk.RoleChange | Risks);
        }

        if (Head(j).Keyword is Keyword.Session or Keyword.Local)
        {
            j++;
        }

        if (HeadIs(j, Keyword.Transaction) || IsWord(sql, j, "constraints"u8))
        {
            return new Decision(StatementKind.Transaction, Risks);
        }

        var setting = Name(sql, j);
        return setting is "role" or "session_authorization"
            ? new Decision(StatementKind.Session, StatementRisk.RoleChange | Risks)
            : setting is null ? Unreadable("SET of a setting the gateway cannot read") : new Decision(StatementKind.Session, Risks);
    }

    private void AddTableAfterOn(ReadOnlySpan<byte> sql, int from)
    {
        for (var k = from; k < HeadCount; k++)
        {
            if (HeadDepth(k) == 0 && HeadIs(k, Keyword.On))
            {
                AddHeadName(sql, HeadIs(k + 1, Keyword.Only) ? k + 2 : k + 1);
                return;
            }
        }
    }

    /// <summary>GRANT ... ON [TABLE] a, b TO ...: the tables are the statement's objects.</summary>
    private void GrantObjects(ReadOnlySpan<byte> sql, int i)
    {
        for (var k = i + 1; k < HeadCount; k++)
        {
            if (HeadDepth(k) == 0 && HeadIs(k, Keyword.On))
            {
                var first = HeadIs(k + 1, Keyword.Table) ? k + 2 : k + 1;
                if (Head(first).Keyword is not (Keyword.All or Keyword.Schema or Keyword.Database or Keyword.Function
                    or Keyword.Procedure or Keyword.Sequence or Keyword.Foreign or Keyword.Language or Keyword.Type or Keyword.Domain))
                {
                    AddHeadNameList(sql, first);
                }

                return;
            }
        }
    }

    private string? Name(ReadOnlySpan<byte> sql, int index)
    {
        var token = Head(index);
        if (token.Kind is not (SqlTokenKind.Word or SqlTokenKind.QuotedName))
        {
            return null;
        }

        Span<byte> buffer = stackalloc byte[256];
        return TryNormalize(sql, token, buffer, out var written) ? Names.Intern(buffer[..written]) : null;
    }

    protected override bool IsSideEffectFunction(string name) => SideEffectFunctions.Postgres.Contains(name);

    /// <summary>Unquoted: ASCII letters folded to lower case (downcase_identifier); quoted: as written. Both truncated to 63 bytes.</summary>
    protected override bool TryNormalize(ReadOnlySpan<byte> sql, in SqlToken part, Span<byte> destination, out int written)
    {
        if (part.Kind == SqlTokenKind.QuotedName)
        {
            if (!PgLexer.TryDecodeName(sql, part, destination, out written))
            {
                return false;
            }
        }
        else
        {
            var word = sql.Slice(part.Start, part.Length);
            if (word.Length > destination.Length)
            {
                written = 0;
                return false;
            }

            Ascii.ToLower(word, destination, out written);
            for (var k = 0; k < word.Length; k++)
            {
                if (word[k] >= 0x80)
                {
                    destination[k] = word[k]; // Ascii.ToLower stops at non-ASCII; PostgreSQL leaves those bytes as they are
                }
            }

            written = word.Length;
        }

        if (written > MaxIdentifierBytes)
        {
            var cut = MaxIdentifierBytes;
            while (cut > 0 && (destination[cut] & 0xC0) == 0x80)
            {
                cut--; // never split a character (pg_mbcliplen)
            }

            written = cut;
        }

        return true;
    }

    protected override void TrackBlocks(in SqlToken token, in SqlToken previous, int index)
    {
        if (index == 1)
        {
            _routine = false;
        }
        else if (index <= 4 && token.Keyword is Keyword.Function or Keyword.Procedure && HeadIs(0, Keyword.Create))
        {
            _routine = true;
        }

        if (token.Is(Keyword.Uescape))
        {
            MarkUnreadable("UESCAPE changes how U& names read");
        }

        if (!_routine || token.Kind != SqlTokenKind.Word)
        {
            return;
        }

        // A SQL-standard body (BEGIN ATOMIC ... END) holds ';'s of its own; CASE ... END nests inside it (as psql counts).
        if (token.Keyword == Keyword.Begin || token.Keyword == Keyword.Case && BlockDepth > 0)
        {
            EnterBlock();
        }
        else if (token.Keyword == Keyword.End)
        {
            LeaveBlock();
        }
    }

    private static bool[] ReservedWords()
    {
        var reserved = WordTable(
            Keyword.All, Keyword.Analyse, Keyword.Analyze, Keyword.And, Keyword.As, Keyword.Case, Keyword.Cast, Keyword.Check,
            Keyword.Collation, Keyword.Column, Keyword.Constraint, Keyword.Create, Keyword.Current, Keyword.Default, Keyword.Desc,
            Keyword.Do, Keyword.Else, Keyword.End, Keyword.Except, Keyword.False, Keyword.For, Keyword.Foreign, Keyword.From,
            Keyword.Grant, Keyword.Group, Keyword.Having, Keyword.In, Keyword.Into, Keyword.Is, Keyword.Join, Keyword.Lateral,
            Keyword.Left, Keyword.Limit, Keyword.Natural, Keyword.Not, Keyword.Null, Keyword.Of, Keyword.Off, Keyword.On, Keyword.Only,
            Keyword.Or, Keyword.Order, Keyword.Returning, Keyword.Right, Keyword.Select, Keyword.Set, Keyword.Table, Keyword.Then,
            Keyword.To, Keyword.True, Keyword.Union, Keyword.User, Keyword.Using, Keyword.Values, Keyword.When, Keyword.Where,
            Keyword.Window, Keyword.With, Keyword.Cross, Keyword.Inner, Keyword.Outer, Keyword.Full, Keyword.Intersect);

        // Modifiers the scanner skips before a name must not end the expectation.
        reserved[(int)Keyword.Only] = reserved[(int)Keyword.Lateral] = reserved[(int)Keyword.Table] = false;
        return reserved;
    }
}
