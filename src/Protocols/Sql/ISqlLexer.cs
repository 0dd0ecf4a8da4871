namespace Gatehouse.Protocols.Sql;

/// <summary>A dialect's lexer, so one statement-splitting loop serves both (implemented by ref structs).</summary>
internal interface ISqlLexer
{
    SqlToken Next();

    /// <summary>
    /// The name a quoted identifier with escapes stands for (PostgreSQL <c>"a""b"</c> and <c>U&amp;"d\0061ta"</c>,
    /// MySQL <c>`a``b`</c>), or null when it cannot be decoded exactly into <paramref name="destination"/>.
    /// </summary>
    string? DecodeName(in SqlToken token, scoped Span<byte> destination);
}
