using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Protocols.Sql;

/// <summary>
/// PostgreSQL statement classification: <see cref="PgLexer"/> splits the text at the ';'s the server splits at
/// (not inside parentheses or a BEGIN ATOMIC body), and <see cref="PgStatementScanner"/> classifies each
/// statement in the same pass. One instance per session (it interns the session's object names); not thread-safe.
/// </summary>
internal sealed class PgSqlClassifier : ISqlClassifier
{
    private PgStatementScanner? _scanner; // made on first use: an idle session holds none of its buffers

    public void Classify(ReadOnlySpan<byte> sql, SqlClassification result)
    {
        var lexer = new PgLexer(sql);
        (_scanner ??= new PgStatementScanner()).Read(sql, result, ref lexer, "an unterminated string, quoted name or comment, or a character the server would not accept",
            literalErrorEndsReading: false);
    }
}
