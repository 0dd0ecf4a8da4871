namespace Gatehouse.Protocols.Sql;

/// <summary>
/// The sql_mode readings of a text a MySQL server may use and the gateway cannot know (a session may SET
/// sql_mode, and a global default applies): NO_BACKSLASH_ESCAPES and ANSI_QUOTES change where strings end
/// and whether <c>"card"</c> is a string or a column. What the gateway judges about a text (the statement
/// classifier, and masking's strict mode and store check) it judges under every reading the text's bytes make
/// different. Versioned comments need no reading of their own here: read as SQL, as the default lexer does,
/// their contents only make masking more careful.
/// </summary>
internal static class MySqlModes
{
    public const int NoBackslashEscapes = 1;
    public const int AnsiQuotes = 2;

    /// <summary>The mode bits that read this text differently from the default: none for most texts.</summary>
    public static int Relevant(ReadOnlySpan<byte> sql)
        => (sql.Contains((byte)'\\') ? NoBackslashEscapes : 0) | (sql.Contains((byte)'"') ? AnsiQuotes : 0);

    /// <summary>Whether <paramref name="mode"/> is one of the other readings of a text whose relevant bits are <paramref name="relevant"/>.</summary>
    public static bool IsOther(int mode, int relevant) => mode != 0 && (mode & ~relevant) == 0;

    public static MySqlLexer Lexer(ReadOnlySpan<byte> sql, int mode) => new(sql, (mode & NoBackslashEscapes) != 0, (mode & AnsiQuotes) != 0);
}
