using System.Buffers;
using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Protocols.Sql;

/// <summary>
/// MySQL/MariaDB statement classification: <see cref="MySqlLexer"/> splits the text at the ';'s the server
/// splits at (not inside parentheses or a routine's BEGIN ... END), and <see cref="MySqlStatementScanner"/>
/// classifies each statement in the same pass.
/// <para>
/// sql_mode's NO_BACKSLASH_ESCAPES and ANSI_QUOTES change where strings end, and versioned comments
/// (/*!NNNNN, /*M!) run or not depending on the server's version, none of which the gateway can know for sure
/// (a global default, a SET that failed, a server upgrade). So a text holding a backslash, a double quote or a
/// comment is read each of those ways too, and the statements another reading sees differently are judged as
/// well: no mode or version can make the server run something the gateway did not judge.
/// </para>
/// One instance per session; not thread-safe.
/// </summary>
internal sealed class MySqlSqlClassifier : ISqlClassifier
{
    /// <summary>The bytes without which no sql_mode or server version reads a text differently: backslash, double quote, and the slash of a versioned comment.</summary>
    private static readonly SearchValues<byte> ModeSensitive = SearchValues.Create("\\\"/"u8);

    private readonly bool _nested;
    // Made on first use: most sessions idle far longer than they classify, and these hold the scanner's buffers.
    private MySqlStatementScanner? _scanner;
    private SqlClassification? _other;
    private MySqlSqlClassifier? _inner;
    private SqlClassification? _innerResult;

    public MySqlSqlClassifier()
        : this(nested: false)
    {
    }

    private MySqlSqlClassifier(bool nested)
    {
        _nested = nested;
    }

    /// <summary>The mode the current reading uses (the scanner decodes names and PREPARE texts with it).</summary>
    internal bool NoBackslashEscapes { get; private set; }

    public void Classify(ReadOnlySpan<byte> sql, SqlClassification result)
    {
        Read(sql, result, Reading.Default);
        if (sql.IndexOfAny(ModeSensitive) < 0)
        {
            return; // one scan instead of four for the common text: every mode and version reads it the same
        }

        var relevant = (Reading)MySqlModes.Relevant(sql)
            | (sql.IndexOf("/*!"u8) >= 0 || sql.IndexOf("/*M!"u8) >= 0 ? Reading.SkipConditionalComments : 0);
        for (var reading = (Reading)1; reading <= relevant; reading++)
        {
            if ((reading & ~relevant) != 0)
            {
                continue; // that reading reads this text exactly as one already done
            }

            var other = _other ??= new SqlClassification();
            other.Clear();
            Read(sql, other, reading);
            AddDifferentReadings(result, other);
        }
    }

    /// <summary>What can make a server read the same text differently from the default: <see cref="MySqlModes"/>'s bits, and versions.</summary>
    [Flags]
    private enum Reading
    {
        Default = 0,
        NoBackslashEscapes = MySqlModes.NoBackslashEscapes,
        AnsiQuotes = MySqlModes.AnsiQuotes,
        /// <summary>A server that skips /*!NNNNN and /*M! comments (another version, or MySQL for /*M!).</summary>
        SkipConditionalComments = 4,
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
        // One statement, possibly read several ways (sql_mode, versioned comments): every reading's risks count.
        var statements = _innerResult.Statements;
        if (statements.Count == 0 || statements.Exists(s => s.Start != statements[0].Start))
        {
            return (StatementKind.Unknown, StatementRisk.None, "PREPARE of anything but exactly one statement");
        }

        var risks = StatementRisk.None;
        foreach (var statement in statements)
        {
            if (statement.Kind != statements[0].Kind || statement.Kind == StatementKind.Unknown)
            {
                return (StatementKind.Unknown, StatementRisk.None, statement.Note ?? "a prepared text that reads differently by server mode or version");
            }

            risks |= statement.Risks;
        }

        return (statements[0].Kind, risks, null);
    }

    private void Read(ReadOnlySpan<byte> sql, SqlClassification result, Reading reading)
    {
        NoBackslashEscapes = (reading & Reading.NoBackslashEscapes) != 0;
        var lexer = new MySqlLexer(sql, NoBackslashEscapes, (reading & Reading.AnsiQuotes) != 0, (reading & Reading.SkipConditionalComments) != 0);
        (_scanner ??= new MySqlStatementScanner(this, _nested)).Read(sql, result, ref lexer, "an unterminated string, quoted name or comment, or text the server could read more than one way",
            literalErrorEndsReading: reading != Reading.Default);
    }
}
