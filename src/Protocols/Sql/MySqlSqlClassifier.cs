using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Protocols.Sql;

/// <summary>
/// MySQL/MariaDB statement classification: <see cref="MySqlLexer"/> splits the text at the ';'s the server
/// splits at (not inside parentheses or a routine's BEGIN ... END), and <see cref="MySqlStatementScanner"/>
/// classifies each statement in the same pass.
/// <para>
/// sql_mode's NO_BACKSLASH_ESCAPES and ANSI_QUOTES change where strings end, and the gateway cannot know the
/// server's mode for sure (a global default, a SET that failed). So a text holding a backslash or a double
/// quote is read under each mode too, and the statements another mode reads differently are judged as well:
/// no mode can make the server run something the gateway did not judge.
/// </para>
/// One instance per session; not thread-safe.
/// </summary>
internal sealed class MySqlSqlClassifier : ISqlClassifier
{
    private readonly MySqlStatementScanner _scanner;
    private readonly bool _nested;
    private readonly SqlClassification _other = new();
    private MySqlSqlClassifier? _inner;
    private SqlClassification? _innerResult;

    public MySqlSqlClassifier()
        : this(nested: false)
    {
    }

    private MySqlSqlClassifier(bool nested)
    {
        _nested = nested;
        _scanner = new MySqlStatementScanner(this, nested);
    }

    /// <summary>The mode the current reading uses (the scanner decodes names and PREPARE texts with it).</summary>
    internal bool NoBackslashEscapes { get; private set; }

    internal bool AnsiQuotes { get; private set; }

    public void Classify(ReadOnlySpan<byte> sql, SqlClassification result)
    {
        Read(sql, result, noBackslashEscapes: false, ansiQuotes: false);
        var backslash = sql.Contains((byte)'\\');
        var quote = sql.Contains((byte)'"');
        if (!backslash && !quote)
        {
            return;
        }

        for (var mode = 1; mode < 4; mode++)
        {
            var nbe = (mode & 1) != 0;
            var ansi = (mode & 2) != 0;
            if (nbe && !backslash || ansi && !quote)
            {
                continue; // that mode reads this text exactly as the default does
            }

            _other.Clear();
            Read(sql, _other, nbe, ansi);
            AddDifferentReadings(result, _other);
        }
    }

    /// <summary>
    /// Statements another sql_mode reads differently are judged too, so a text is allowed only when every
    /// reading of it is: the server runs exactly one of them, and the gateway cannot know which.
    /// </summary>
    private static void AddDifferentReadings(SqlClassification result, SqlClassification other)
    {
        var primary = result.Statements.Count;
        foreach (var statement in other.Statements)
        {
            var same = false;
            for (var i = 0; i < primary && !same; i++)
            {
                var known = result.Statements[i];
                same = known.Start == statement.Start && known.Length == statement.Length && known.Kind == statement.Kind
                    && known.Risks == statement.Risks && known.Prepared == statement.Prepared && known.PreparedName == statement.PreparedName;
            }

            if (!same)
            {
                var first = result.Objects.Count;
                result.Objects.AddRange(other.ObjectsOf(statement));
                result.Statements.Add(statement with { FirstObject = first });
            }
        }
    }

    /// <summary>A PREPARE's text, classified as one statement on its own (a PREPARE inside it is refused).</summary>
    internal (StatementKind Kind, StatementRisk Risks, string? Note) ClassifyPrepared(ReadOnlySpan<byte> text)
    {
        _inner ??= new MySqlSqlClassifier(nested: true);
        _innerResult ??= new SqlClassification();
        _innerResult.Clear();
        _inner.Classify(text, _innerResult);
        if (_innerResult.Statements.Count != 1)
        {
            return (StatementKind.Unknown, StatementRisk.None, "PREPARE of anything but exactly one statement");
        }

        var statement = _innerResult.Statements[0];
        return (statement.Kind, statement.Risks, statement.Note);
    }

    private void Read(ReadOnlySpan<byte> sql, SqlClassification result, bool noBackslashEscapes, bool ansiQuotes)
    {
        NoBackslashEscapes = noBackslashEscapes;
        AnsiQuotes = ansiQuotes;
        var lexer = new MySqlLexer(sql, noBackslashEscapes, ansiQuotes);
        _scanner.Read(sql, result, ref lexer, "an unterminated string, quoted name or comment, or text the server could read more than one way",
            literalErrorEndsReading: noBackslashEscapes || ansiQuotes);
    }

    public override string ToString() => _nested ? "MySQL (prepared text)" : "MySQL";
}
