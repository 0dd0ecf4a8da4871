namespace Gatehouse.Protocols.Sql;

/// <summary>What a lexer found. Comments and whitespace produce no token.</summary>
internal enum SqlTokenKind : byte
{
    /// <summary>The input is used up.</summary>
    End,
    /// <summary>An unquoted identifier or key word; <see cref="SqlToken.Keyword"/> says which key word, if one the classifier knows.</summary>
    Word,
    /// <summary>A quoted identifier: PostgreSQL "x" and U&amp;"x"; MySQL `x`, and "x" under ANSI_QUOTES.</summary>
    QuotedName,
    /// <summary>A string literal of any flavour ('x', E'x', U&amp;'x', $tag$x$tag$, N'x', X'..', B'..', _utf8mb4'x').</summary>
    String,
    /// <summary>A numeric literal.</summary>
    Number,
    /// <summary>A bind parameter: PostgreSQL $1, MySQL ?.</summary>
    Parameter,
    /// <summary>A MySQL user or system variable: @x, @'x', @@global.x.</summary>
    Variable,
    /// <summary>One character of punctuation or an operator; <see cref="SqlToken.Char"/> holds it.</summary>
    Punct,
    /// <summary>
    /// Something the lexer cannot read as the server would: an unterminated string, comment or identifier, or a
    /// byte no token may start with. The lexer stops here: everything from <see cref="SqlToken.Start"/> on is unreadable.
    /// </summary>
    Error,
}

[Flags]
internal enum SqlTokenFlags : byte
{
    None = 0,
    /// <summary>The value differs from the text between the quotes (doubled quotes, backslash or unicode escapes): decode it.</summary>
    Escaped = 1,
    /// <summary>MySQL: the token stands inside an executable comment (/*! ... */, /*M! ... */).</summary>
    Executable = 2,
    /// <summary>PostgreSQL: a U&amp; string or identifier (escapes are \XXXX, \+XXXXXX, or a UESCAPE character).</summary>
    Unicode = 4,
}

/// <summary>
/// One token: a range of the SQL text (UTF-8 bytes, as on the wire) and what kind it is. For quoted names
/// and strings the range covers the whole literal, prefix and quotes included; <see cref="ValueStart"/> and
/// <see cref="ValueLength"/> cover the text between the quotes.
/// </summary>
internal readonly record struct SqlToken(
    SqlTokenKind Kind,
    int Start,
    int Length,
    Keyword Keyword = Keyword.None,
    byte Char = 0,
    SqlTokenFlags Flags = SqlTokenFlags.None,
    int ValueStart = 0,
    int ValueLength = 0)
{
    public int End
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        get => Start + Length;
    }

    /// <summary>
    /// The same token, built field by field. A plain struct copy into the scanner's head read the token back as
    /// one 16-byte load right after the lexer had stored it field by field; the CPU cannot forward narrow stores
    /// to a wider load, and perf put a quarter of the PostgreSQL classification time on that one load. With
    /// field-sized loads: 0.98-1.04 -> 0.89-0.92 µs (PostgreSQL), 1.32-1.34 -> 1.24-1.28 µs (MySQL) per 200-byte
    /// SELECT (ClassifierBenchmarks). Used only where measured: the same for the previous-token copy was slower.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public SqlToken Copy() => new(Kind, Start, Length, Keyword, Char, Flags, ValueStart, ValueLength);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool IsPunct(char c) => Kind == SqlTokenKind.Punct && Char == c;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool Is(Keyword keyword) => Kind == SqlTokenKind.Word && Keyword == keyword;
}
