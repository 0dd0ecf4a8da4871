using System.Text;
using Gatehouse.Protocols.Sql;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// The SQL cursors a masked session declared, with their text, and which cursors a statement fetches from.
/// A FETCH's words name no column: strict mode must judge the rows by the query behind the cursor. Cursors
/// and the protocol's portals share one namespace in PostgreSQL, so FETCH also reads a portal the client bound
/// (<c>Bind p … ; FETCH ALL FROM p</c> showed a contractor reversed card numbers until 2026-12-07), and Execute
/// reads a cursor DECLARE opened. A cursor the gateway saw no DECLARE for (a function's refcursor) has unknown
/// rows, which strict mode masks.
/// </summary>
internal sealed class PgCursors
{
    private readonly Dictionary<string, Declared> _declared = new(StringComparer.Ordinal);

    private readonly record struct Declared(byte[] Sql, bool Hold);

    /// <summary>
    /// Counts the moments after which a name may stand for another cursor: a statement completed (its code may
    /// have closed or opened one), the server became ready (a transaction's cursors close with it), a named
    /// portal was bound. A plan of rows read from a cursor holds while the stamp it was made at is current.
    /// </summary>
    public long Stamp { get; private set; }

    public void Changed() => Stamp++;

    /// <summary>Whether this session has declared a cursor it has not closed.</summary>
    public bool Any => _declared.Count > 0;

    /// <summary>The DECLARE text of a cursor this session declared and has not closed, or null.</summary>
    public byte[]? TextOf(string name) => _declared.TryGetValue(name, out var cursor) ? cursor.Sql : null;

    /// <summary>
    /// Notes a DECLARE CURSOR or CLOSE that completed, from the statement it answers. Returns the name of the
    /// cursor declared or closed, whose earlier plans are stale now; null for CLOSE ALL and for a name it cannot
    /// read, after which every name's are.
    /// </summary>
    public string? Completed(ReadOnlySpan<byte> tag, ReadOnlySpan<byte> statement)
    {
        tag = tag.TrimEnd((byte)0);
        if (tag.SequenceEqual("DECLARE CURSOR"u8))
        {
            if (!TryReadDeclare(statement, out var name, out var hold))
            {
                return null;
            }

            _declared[name] = new Declared(statement.ToArray(), hold);
            return name;
        }

        var closed = tag.SequenceEqual("CLOSE CURSOR"u8) ? FetchedName(statement, Keyword.Close) : null;
        if (closed is null)
        {
            _declared.Clear(); // CLOSE ALL, or a name not read: which cursors are left is not known
            return null;
        }

        _declared.Remove(closed);
        return closed;
    }

    /// <summary>Forgets a name another portal now holds (a Bind that succeeded: no cursor had it).</summary>
    public void Forget(string name) => _declared.Remove(name);

    /// <summary>Forgets every cursor: which are left is not known.</summary>
    public void Clear() => _declared.Clear();

    /// <summary>The transaction ended: every cursor but those declared WITH HOLD is gone.</summary>
    public void TransactionEnded()
    {
        foreach (var (name, cursor) in _declared)
        {
            if (!cursor.Hold)
            {
                _declared.Remove(name);
            }
        }
    }

    /// <summary>
    /// The cursors the FETCH statements of a text read, by name as the server resolves it; null when it has no
    /// FETCH. A FETCH whose cursor name cannot be read yields an empty name, which no cursor has.
    /// </summary>
    public static List<string>? FetchedNames(ReadOnlySpan<byte> text)
    {
        if (!MentionsFetch(text))
        {
            return null;
        }

        List<string>? names = null;
        var lexer = new PgLexer(text);
        var start = true;
        var depth = 0;
        for (var t = lexer.Next(); t.Kind is not (SqlTokenKind.End or SqlTokenKind.Error); t = lexer.Next())
        {
            depth += t.IsPunct('(') ? 1 : t.IsPunct(')') && depth > 0 ? -1 : 0;
            if (start && t.Is(Keyword.Fetch))
            {
                (names ??= []).Add(FetchedName(text[t.Start..], Keyword.Fetch) ?? ""); // it reads up to the statement's ';'
            }

            start = t.IsPunct(';') && depth == 0;
        }

        return names;
    }

    /// <summary>Whether the text holds the word fetch in any case: most statements are cleared without lexing.</summary>
    private static bool MentionsFetch(ReadOnlySpan<byte> text)
    {
        for (var i = text.IndexOfAny((byte)'f', (byte)'F'); i >= 0 && i + 5 <= text.Length; )
        {
            if (Ascii.EqualsIgnoreCase(text.Slice(i, 5), "fetch"u8))
            {
                return true;
            }

            var next = text[(i + 1)..].IndexOfAny((byte)'f', (byte)'F');
            i = next < 0 ? -1 : i + 1 + next;
        }

        return false;
    }

    /// <summary>
    /// The cursor a FETCH, MOVE or CLOSE names: its last token (the grammar puts the name after every direction
    /// and count). Null for CLOSE ALL or what cannot be read.
    /// </summary>
    private static string? FetchedName(ReadOnlySpan<byte> statement, Keyword verb)
    {
        var lexer = new PgLexer(statement);
        var first = lexer.Next();
        if (!first.Is(verb))
        {
            return null;
        }

        SqlToken last = first;
        for (var t = lexer.Next(); t.Kind is not (SqlTokenKind.End or SqlTokenKind.Error) && !t.IsPunct(';'); t = lexer.Next())
        {
            last = t;
        }

        return last.Start == first.Start || last.Is(Keyword.All) ? null : NameOf(ref lexer, statement, last);
    }

    /// <summary>Where a DECLARE's query begins (after the FOR that ends its options), or -1 for any other statement.</summary>
    public static int DeclaredQuery(ReadOnlySpan<byte> statement)
    {
        var lexer = new PgLexer(statement);
        if (!lexer.Next().Is(Keyword.Declare))
        {
            return -1;
        }

        for (var t = lexer.Next(); t.Kind is not (SqlTokenKind.End or SqlTokenKind.Error); t = lexer.Next())
        {
            if (t.Is(Keyword.For))
            {
                return t.End;
            }
        }

        return -1;
    }

    /// <summary>DECLARE name [BINARY] [[A]SENSITIVE|INSENSITIVE] [[NO] SCROLL] CURSOR [{WITH|WITHOUT} HOLD] FOR query.</summary>
    private static bool TryReadDeclare(ReadOnlySpan<byte> statement, out string name, out bool hold)
    {
        name = "";
        hold = false;
        var lexer = new PgLexer(statement);
        if (!lexer.Next().Is(Keyword.Declare) || NameOf(ref lexer, statement, lexer.Next()) is not { } declared)
        {
            return false;
        }

        name = declared;
        var previous = default(SqlToken);
        for (var t = lexer.Next(); t.Kind is not (SqlTokenKind.End or SqlTokenKind.Error) && !t.Is(Keyword.For); t = lexer.Next())
        {
            hold |= t.Kind == SqlTokenKind.Word && Ascii.EqualsIgnoreCase(statement.Slice(t.Start, t.Length), "hold"u8) && previous.Is(Keyword.With);
            previous = t;
        }

        return true;
    }

    /// <summary>A name as the server resolves it: unquoted folded to lower case (ASCII, as for identifiers), quoted as written.</summary>
    private static string? NameOf(ref PgLexer lexer, ReadOnlySpan<byte> sql, in SqlToken token)
    {
        if (token.Kind == SqlTokenKind.Word)
        {
            return LowerAscii(sql.Slice(token.Start, token.Length));
        }

        return token.Kind == SqlTokenKind.QuotedName ? lexer.DecodeName(token, stackalloc byte[256]) : null;
    }

    private static string LowerAscii(ReadOnlySpan<byte> word)
    {
        var copy = word.ToArray();
        for (var i = 0; i < copy.Length; i++)
        {
            copy[i] = copy[i] is >= (byte)'A' and <= (byte)'Z' ? (byte)(copy[i] | 0x20) : copy[i];
        }

        return Encoding.UTF8.GetString(copy);
    }
}

/// <summary>
/// What a statement reads through cursors (<see cref="PgCursors"/>): the texts behind the cursors and portals
/// its FETCHes name, which strict mode judges with the statement; or <see cref="Unseen"/>, a cursor whose
/// text the gateway did not see, which strict mode takes as reading a sensitive value. Default: none.
/// </summary>
internal readonly record struct PgCursorReads(List<byte[]>? Texts, bool IsUnseen = false)
{
    public static PgCursorReads Unseen { get; } = new(null, true);
}
