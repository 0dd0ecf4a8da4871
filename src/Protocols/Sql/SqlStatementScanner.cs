using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Protocols.Sql;

/// <summary>
/// Reads one statement's tokens once, as they come from the lexer, and keeps what the classifier needs without
/// holding the statement: the first <see cref="HeadCapacity"/> tokens (enough for every statement's leading
/// key words and the names a DDL statement acts on), and running facts that can appear anywhere — the
/// relations named after FROM/JOIN/INTO/USING/UPDATE, calls of side-effect functions, INSERT/UPDATE/DELETE/MERGE
/// inside parentheses (data-modifying CTEs) and whether each UPDATE/DELETE has its WHERE. Memory is constant
/// whatever the statement's size, so a 16 MiB bulk INSERT costs one pass and no buffer.
/// The dialect decides from these in <see cref="Decide"/>; whatever it cannot read fully is Unknown.
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]
internal abstract class SqlStatementScanner
{
    protected const int HeadCapacity = 64;
    private const int MaxDepth = 64;
    private const string TooDeep = "parentheses nested deeper than 64";

    private readonly SqlToken[] _head = new SqlToken[HeadCapacity];
    private readonly byte[] _headDepth = new byte[HeadCapacity];
    private readonly Keyword[] _subVerb = new Keyword[MaxDepth + 1];
    private readonly bool[] _subBounded = new bool[MaxDepth + 1];
    private readonly SqlNames _names = new();
    private readonly SqlToken[] _nameParts = new SqlToken[4];
    private readonly bool _limitBounds;
    private readonly bool[] _endsNameExpectation;

    /// <param name="limitBounds">Whether LIMIT bounds an UPDATE/DELETE as WHERE does (MySQL).</param>
    /// <param name="reservedWords">
    /// The dialect's words that can never be a table name where one is expected (SELECT, WHERE, ...), so they
    /// end the expectation (<see cref="WordTable"/>). A table, not a virtual call: it is asked for every word.
    /// </param>
    protected SqlStatementScanner(bool limitBounds, bool[] reservedWords)
    {
        _limitBounds = limitBounds;
        _endsNameExpectation = reservedWords;
    }

    private SqlClassification _result = null!;
    private int _depth;
    private int _blockDepth;
    private SqlToken _prev;
    private int _tokenCount;
    private string? _unreadable;

    // relation names: what the last key word asked for, and the list (FROM a, b) it may continue
    private Expect _expect;
    private int _namePartCount;
    private bool _nameAfterDot;
    private int _listDepth = -1;
    private bool _setConfigArgument;

    private enum Expect : byte
    {
        None,
        /// <summary>A relation; a name followed by '(' was a function call (FROM generate_series(...)).</summary>
        Relation,
        /// <summary>A relation whose name a column list may follow (INSERT INTO t (a, b)).</summary>
        Target,
    }

    protected int FirstObject { get; private set; }

    protected int HeadCount { get; private set; }

    /// <summary>More tokens came than the head holds: a list or clause in it may go on past what was kept.</summary>
    protected bool HeadOverflow => _tokenCount > HeadCapacity;

    protected StatementRisk Risks { get; set; }

    /// <summary>INSERT/UPDATE/DELETE/MERGE opened a parenthesis (a data-modifying CTE, or COPY (DELETE ... RETURNING)).</summary>
    protected bool ModifiesInParentheses { get; private set; }

    /// <summary>A WHERE (MySQL: or LIMIT) at the statement's own level.</summary>
    protected bool BoundedAtTop { get; private set; }

    /// <summary>INTO at the statement's own level (PostgreSQL SELECT INTO makes a table; MySQL writes a file or variables).</summary>
    protected int IntoAtTop { get; private set; } = -1;

    /// <summary>A DROP at the statement's own level and the token after it (ALTER TABLE ... DROP COLUMN).</summary>
    protected bool DropAtTop { get; private set; }

    /// <summary>The first SELECT/INSERT/UPDATE/DELETE/MERGE/VALUES/TABLE at the top level after the first token (WITH's main statement).</summary>
    protected Keyword MainVerbAtTop { get; private set; }

    /// <summary>The first top-level TO or FROM after the start, and the token after it (COPY's direction and target).</summary>
    protected Keyword ToFrom { get; private set; }

    protected SqlToken ToFromTarget { get; private set; }

    protected SqlNames Names => _names;

    public void Begin(SqlClassification result)
    {
        _result = result;
        Reset();
    }

    /// <summary>Whether a ';' here ends the statement: not inside parentheses or a routine's BEGIN ... END.</summary>
    public bool AtStatementLevel
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        get => _depth == 0 && _blockDepth == 0;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void Feed(ReadOnlySpan<byte> sql, in SqlToken token)
    {
        if (_tokenCount < HeadCapacity)
        {
            // A group's ')' is kept at the depth of its '(' so the head can be walked group by group.
            _head[_tokenCount] = token.Copy();
            _headDepth[_tokenCount] = (byte)(token.IsPunct(')') && _depth > 0 ? _depth - 1 : _depth);
            HeadCount = _tokenCount + 1;
        }

        _tokenCount++;
        if (_depth == 0 && _tokenCount > 2 && _prev.Is(Keyword.Drop)
            && token.Keyword is not (Keyword.Default or Keyword.Not or Keyword.Identity or Keyword.Expression))
        {
            DropAtTop = true; // ALTER ... DROP COLUMN/CONSTRAINT; DROP DEFAULT / NOT NULL / IDENTITY / EXPRESSION lose no data
        }

        if (_depth == 0 && _tokenCount > 1 && MainVerbAtTop == Keyword.None && token.Keyword is Keyword.Select or Keyword.Insert
            or Keyword.Update or Keyword.Delete or Keyword.Merge or Keyword.Values or Keyword.Table or Keyword.Replace)
        {
            MainVerbAtTop = token.Keyword; // WITH ... <verb>: the first verb at the top level after the start
        }

        if (_depth == 0 && _tokenCount > 1 && ToFrom == Keyword.None && _prev.Keyword is Keyword.To or Keyword.From
            && _prev.Kind == SqlTokenKind.Word)
        {
            ToFrom = _prev.Keyword; // COPY ... TO|FROM <target>, however long the query before it
            ToFromTarget = token;
        }
        if (_namePartCount > 0 || _expect != Expect.None)
        {
            TrackName(sql, token); // most tokens are neither part of a name nor where one is expected
        }

        if (token.Keyword != Keyword.None || _tokenCount == 1)
        {
            TrackBlocks(token, _prev, _tokenCount); // blocks open and close at key words; most tokens are not
        }

        if (token.Kind == SqlTokenKind.Punct)
        {
            OnPunct(sql, token);
        }
        else if (token.Kind == SqlTokenKind.Word)
        {
            OnWord(token);
        }

        if (_setConfigArgument && !(token.IsPunct('(')))
        {
            _setConfigArgument = false;
            if (!IsHarmlessSetting(sql, token))
            {
                Risks |= StatementRisk.RoleChange;
            }
        }

        _prev = token;
    }

    /// <summary>
    /// Feeds a whole text through <paramref name="lexer"/>, completing a statement at every ';' the server
    /// splits at. A lexical error makes the rest of the text one Unknown statement, unless
    /// <paramref name="literalErrorEndsReading"/> and the error is a literal that never ends (the server
    /// rejects that statement whole, so the reading stops there with what was judged before it).
    /// </summary>
    public void Read<TLexer>(ReadOnlySpan<byte> sql, SqlClassification result, ref TLexer lexer, string errorNote, bool literalErrorEndsReading)
        where TLexer : ISqlLexer, allows ref struct
    {
        Begin(result);
        var start = -1;
        var end = 0;
        while (true)
        {
            var token = lexer.Next();
            if (token.Kind == SqlTokenKind.End)
            {
                break;
            }

            if (token.Kind == SqlTokenKind.Error)
            {
                if (literalErrorEndsReading && token.Start < sql.Length && sql[token.Start] is (byte)'\'' or (byte)'"' or (byte)'`')
                {
                    Discard();
                    return;
                }

                // Everything from here on is one statement the gateway cannot read.
                start = start < 0 ? token.Start : start;
                end = sql.Length;
                MarkUnreadable(errorNote);
                break;
            }

            if (token.IsPunct(';') && AtStatementLevel)
            {
                if (start >= 0)
                {
                    Complete(sql, start, end);
                }

                start = -1;
                continue;
            }

            start = start < 0 ? token.Start : start;
            end = token.End;
            Feed(sql, token);
        }

        if (start >= 0)
        {
            Complete(sql, start, end);
        }
    }

    /// <summary>Forgets the statement fed since the last <see cref="Complete"/> (its objects stay in the result, harmless).</summary>
    public void Discard() => Reset();

    /// <summary>The statement cannot be read fully (a lexical error, nesting too deep): it is Unknown, with why.</summary>
    public void MarkUnreadable(string reason) => _unreadable ??= reason;

    /// <summary>Classifies the statement fed since the last call and appends it to the result.</summary>
    public void Complete(ReadOnlySpan<byte> sql, int start, int end)
    {
        FinishName(sql, followedByParenthesis: false);
        if (_depth != 0)
        {
            MarkUnreadable("unbalanced parentheses");
        }

        var statement = _unreadable is null
            ? Decide(sql)
            : new Decision(StatementKind.Unknown, Note: _unreadable);
        _result.Statements.Add(new ClassifiedStatement(start, end - start, statement.Kind,
            statement.Kind == StatementKind.Unknown ? statement.Risks | Risks : statement.Risks,
            FirstObject, _result.Objects.Count - FirstObject, statement.Note, statement.Prepared, statement.PreparedName));
        Reset();
    }

    /// <summary>What the dialect makes of the statement: kind, risks, and for SQL-level PREPARE/EXECUTE the name.</summary>
    protected readonly record struct Decision(StatementKind Kind, StatementRisk Risks = StatementRisk.None, string? Note = null,
        PreparedAction Prepared = PreparedAction.None, string? PreparedName = null);

    protected abstract Decision Decide(ReadOnlySpan<byte> sql);

    /// <summary>The dialect's side-effect functions, matched on a call's last name part (normalised).</summary>
    protected abstract bool IsSideEffectFunction(string name);

    /// <summary>Appends a name part to <paramref name="destination"/> as the server resolves it; false when it cannot be decoded exactly.</summary>
    protected abstract bool TryNormalize(ReadOnlySpan<byte> sql, in SqlToken part, Span<byte> destination, out int written);

    /// <summary>
    /// Routine bodies whose ';' do not end the statement (BEGIN ATOMIC ... END; BEGIN ... END). Called for the
    /// statement's first token and for every token that is a key word.
    /// </summary>
    protected abstract void TrackBlocks(in SqlToken token, in SqlToken previous, int index);

    protected void EnterBlock() => _blockDepth++;

    protected void LeaveBlock()
    {
        if (_blockDepth > 0)
        {
            _blockDepth--;
        }
    }

    protected int BlockDepth => _blockDepth;

    protected bool IsWord(ReadOnlySpan<byte> sql, int index, ReadOnlySpan<byte> lower)
    {
        var token = Head(index);
        return token.Kind == SqlTokenKind.Word && System.Text.Ascii.EqualsIgnoreCase(sql.Slice(token.Start, token.Length), lower);
    }

    protected static Decision Unreadable(string why) => new(StatementKind.Unknown, Note: why);

    /// <summary>A dialect's table of words that end a name expectation.</summary>
    protected static bool[] WordTable(params Keyword[] keywords)
    {
        var table = new bool[Enum.GetValues<Keyword>().Max(k => (int)k) + 1];
        foreach (var keyword in keywords)
        {
            table[(int)keyword] = true;
        }

        return table;
    }

    protected SqlToken Head(int index) => index >= 0 && index < HeadCount ? _head[index] : default;

    protected int HeadDepth(int index) => index < HeadCount ? _headDepth[index] : 0;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    protected bool HeadIs(int index, Keyword keyword) => index < HeadCount && _head[index].Is(keyword);

    /// <summary>Index of the first head token at or after <paramref name="from"/> at the top level, skipping one parenthesised group.</summary>
    protected int SkipParentheses(int from)
    {
        if (!Head(from).IsPunct('('))
        {
            return from;
        }

        var depth = HeadDepth(from);
        var i = from + 1;
        while (i < HeadCount && !(HeadDepth(i) == depth && _head[i].IsPunct(')')))
        {
            i++;
        }

        return i + 1;
    }

    /// <summary>
    /// Reads a (qualified) name from the head at <paramref name="index"/>, adds it to the statement's objects and
    /// returns the index after it, or -1 when no name is there or it cannot be decoded exactly.
    /// </summary>
    protected int AddHeadName(ReadOnlySpan<byte> sql, int index)
    {
        Span<byte> buffer = stackalloc byte[512];
        var length = 0;
        var i = index;
        while (true)
        {
            var part = Head(i);
            if (part.Kind is not (SqlTokenKind.Word or SqlTokenKind.QuotedName) || length > 0 && length >= buffer.Length - 1)
            {
                return -1;
            }

            if (length > 0)
            {
                buffer[length++] = (byte)'.';
            }

            if (!TryNormalize(sql, part, buffer[length..], out var written))
            {
                return -1;
            }

            length += written;
            i++;
            if (!Head(i).IsPunct('.') || i + 1 >= HeadCount)
            {
                break;
            }

            i++;
        }

        _result.Objects.Add(_names.Intern(buffer[..length]));
        return i;
    }

    /// <summary>
    /// Adds a comma-separated list of names from the head starting at <paramref name="index"/> (each may carry a
    /// parenthesised signature or a trailing '*'); false when the list does not end inside the head.
    /// </summary>
    protected bool AddHeadNameList(ReadOnlySpan<byte> sql, int index, Keyword skipBefore = Keyword.None)
    {
        var i = index;
        while (true)
        {
            if (skipBefore != Keyword.None && HeadIs(i, skipBefore))
            {
                i++;
            }

            i = AddHeadName(sql, i);
            if (i < 0)
            {
                return false;
            }

            i = SkipParentheses(i);
            if (Head(i).IsPunct('*'))
            {
                i++;
            }

            if (!Head(i).IsPunct(','))
            {
                return i < HeadCount || !HeadOverflow;
            }

            i++;
        }
    }

    private void OnPunct(ReadOnlySpan<byte> sql, in SqlToken token)
    {
        switch ((char)token.Char)
        {
            case '(':
                if (IsCallee(_prev))
                {
                    OnCall(sql, _prev);
                }

                _depth++;
                if (_depth > MaxDepth)
                {
                    MarkUnreadable(TooDeep);
                    _depth = MaxDepth;
                }

                _subVerb[_depth] = Keyword.None;
                _subBounded[_depth] = false;
                break;
            case ')':
                if (_depth == 0)
                {
                    MarkUnreadable("unbalanced parentheses");
                    break;
                }

                CloseSubStatement(_depth);
                if (_listDepth == _depth)
                {
                    _listDepth = -1;
                }

                _depth--;
                break;
            case ',':
                if (_depth == _listDepth && _expect == Expect.None)
                {
                    _expect = Expect.Relation;
                }

                break;
        }
    }

    private void OnWord(in SqlToken token)
    {
        var keyword = token.Keyword;
        if (_prev.IsPunct('(') && _depth > 0 && keyword is Keyword.Insert or Keyword.Update or Keyword.Delete or Keyword.Merge or Keyword.Replace)
        {
            _subVerb[_depth] = keyword;
            ModifiesInParentheses = true;
        }

        if (keyword == Keyword.Where || (keyword == Keyword.Limit && _limitBounds))
        {
            _subBounded[_depth] = true;
            if (_depth == 0)
            {
                BoundedAtTop = true;
            }
        }

        if (_depth == 0 && keyword == Keyword.Into && IntoAtTop < 0)
        {
            IntoAtTop = _tokenCount - 1;
        }

        switch (keyword)
        {
            case Keyword.From or Keyword.Join or Keyword.StraightJoin or Keyword.Using:
                _expect = Expect.Relation;
                _listDepth = _depth;
                break;
            case Keyword.Into:
                _expect = Expect.Target;
                break;
            case Keyword.Update or Keyword.Delete or Keyword.Replace
                when !(_prev.Is(Keyword.For) || _prev.Is(Keyword.On) || _prev.Is(Keyword.Do) || _prev.Is(Keyword.Key)):
                // UPDATE t / MySQL's DELETE t1, t2 FROM ...: the statement's target; FOR UPDATE and ON DUPLICATE KEY UPDATE name none
                _expect = Expect.Target;
                _listDepth = _depth;
                break;
            case Keyword.Where or Keyword.Group or Keyword.Order or Keyword.Having or Keyword.Limit or Keyword.Union
                or Keyword.Except or Keyword.Intersect or Keyword.Returning or Keyword.Set or Keyword.Select or Keyword.Values
                or Keyword.For or Keyword.Window when _depth == _listDepth:
                _listDepth = -1;
                break;
        }
    }

    /// <summary>Collects relation names: the parts of a qualified name as they stream by, finished by the first other token.</summary>
    private void TrackName(ReadOnlySpan<byte> sql, in SqlToken token)
    {
        if (_namePartCount > 0)
        {
            if (token.IsPunct('.') && !_nameAfterDot)
            {
                _nameAfterDot = true;
                return;
            }

            if (_nameAfterDot && token.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedName)
            {
                _nameAfterDot = false;
                if (_namePartCount < _nameParts.Length)
                {
                    _nameParts[_namePartCount] = token;
                }

                _namePartCount++;
                return;
            }

            FinishName(sql, token.IsPunct('('));
            return;
        }

        if (_expect == Expect.None)
        {
            return;
        }

        if (token.Kind == SqlTokenKind.QuotedName || token.Kind == SqlTokenKind.Word && !_endsNameExpectation[(int)token.Keyword])
        {
            if (token.Keyword is Keyword.Only or Keyword.Lateral or Keyword.Temp or Keyword.Temporary or Keyword.Unlogged or Keyword.Table
                or Keyword.LowPriority or Keyword.Quick or Keyword.Ignore or Keyword.Delayed or Keyword.HighPriority)
            {
                return; // modifiers before the name: FROM ONLY t, INTO TEMP t, DELETE QUICK IGNORE FROM t
            }

            _nameParts[0] = token;
            _namePartCount = 1;
            _nameAfterDot = false;
            return;
        }

        _expect = Expect.None;
    }

    private void FinishName(ReadOnlySpan<byte> sql, bool followedByParenthesis)
    {
        if (_namePartCount == 0)
        {
            return;
        }

        var expect = _expect;
        var parts = _namePartCount;
        _namePartCount = 0;
        _expect = Expect.None;
        if (followedByParenthesis && expect == Expect.Relation)
        {
            return; // a set-returning function call, judged as a call
        }

        if (parts > _nameParts.Length || _nameAfterDot)
        {
            MarkUnreadable("a name with more parts than a server accepts");
            return;
        }

        Span<byte> buffer = stackalloc byte[512];
        var length = 0;
        for (var i = 0; i < parts; i++)
        {
            if (i > 0)
            {
                buffer[length++] = (byte)'.';
            }

            if (!TryNormalize(sql, _nameParts[i], buffer[length..(buffer.Length - 1)], out var written))
            {
                MarkUnreadable("a quoted name the gateway cannot decode exactly");
                return;
            }

            length += written;
        }

        _result.Objects.Add(_names.Intern(buffer[..length]));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static bool IsCallee(in SqlToken token) => token.Kind is SqlTokenKind.Word or SqlTokenKind.QuotedName;

    private void OnCall(ReadOnlySpan<byte> sql, in SqlToken callee)
    {
        Span<byte> buffer = stackalloc byte[128];
        if (callee.Length > buffer.Length || !TryNormalize(sql, callee, buffer, out var written))
        {
            return; // longer than any side-effect function's name
        }

        var name = _names.Intern(buffer[..written]);
        if (name is "set_config")
        {
            _setConfigArgument = true; // judged by its first argument, the setting's name
        }
        else if (IsSideEffectFunction(name))
        {
            Risks |= StatementRisk.SideEffectFunction;
        }
    }

    /// <summary>set_config's first argument: a plain literal naming anything but the session's role is harmless.</summary>
    protected virtual bool IsHarmlessSetting(ReadOnlySpan<byte> sql, in SqlToken argument)
    {
        if (argument.Kind != SqlTokenKind.String || (argument.Flags & SqlTokenFlags.Escaped) != 0)
        {
            return false; // computed or escaped: it could name role
        }

        var value = sql.Slice(argument.ValueStart, argument.ValueLength);
        return !System.Text.Ascii.EqualsIgnoreCase(value, "role"u8) && !System.Text.Ascii.EqualsIgnoreCase(value, "session_authorization"u8)
            && value.IndexOfAnyExceptInRange((byte)0x21, (byte)0x7E) < 0;
    }

    private void CloseSubStatement(int depth)
    {
        var verb = _subVerb[depth];
        if (!_subBounded[depth])
        {
            if (verb == Keyword.Update)
            {
                Risks |= StatementRisk.UnboundedUpdate;
            }
            else if (verb == Keyword.Delete)
            {
                Risks |= StatementRisk.UnboundedDelete;
            }
        }
    }

    private void Reset()
    {
        _depth = 0;
        _blockDepth = 0;
        _prev = default;
        _tokenCount = 0;
        HeadCount = 0;
        _unreadable = null;
        _expect = Expect.None;
        _namePartCount = 0;
        _nameAfterDot = false;
        _listDepth = -1;
        _setConfigArgument = false;
        _subVerb[0] = Keyword.None;
        _subBounded[0] = false;
        Risks = StatementRisk.None;
        ModifiesInParentheses = false;
        BoundedAtTop = false;
        IntoAtTop = -1;
        DropAtTop = false;
        MainVerbAtTop = Keyword.None;
        ToFrom = Keyword.None;
        ToFromTarget = default;
        FirstObject = _result?.Objects.Count ?? 0;
    }
}
