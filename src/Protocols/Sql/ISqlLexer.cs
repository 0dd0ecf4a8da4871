namespace Gatehouse.Protocols.Sql;

/// <summary>A dialect's lexer, so one statement-splitting loop serves both (implemented by ref structs).</summary>
internal interface ISqlLexer
{
    SqlToken Next();
}
