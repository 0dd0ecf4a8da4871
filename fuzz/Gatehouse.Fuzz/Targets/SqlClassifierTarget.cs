using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.Sql;
using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Fuzz.Targets;

/// <summary>
/// The PostgreSQL lexer and both statement classifiers over SQL text. Input: a dialect byte (even: PostgreSQL,
/// odd: MySQL), then the text. Classification never throws; a crash is any exception, a PgLexer token out of
/// order or bounds, or a statement or object range outside the text or the result.
/// </summary>
internal sealed class SqlClassifierTarget : IFuzzTarget
{
    public static string Name => "sql-classifier";

    public static void Run(ReadOnlySpan<byte> input)
    {
        var mysql = !input.IsEmpty && (input[0] & 1) != 0;
        var sql = input.IsEmpty ? input : input[1..];
        if (!mysql)
        {
            CheckPgLexer(sql);
        }

        var result = new SqlClassification();
        ISqlClassifier classifier = mysql ? new MySqlSqlClassifier() : new PgSqlClassifier();
        classifier.Classify(sql, result);
        var previousEnd = 0;
        foreach (var statement in result.Statements)
        {
            if (statement.Start < 0 || statement.Length < 0 || statement.Start + statement.Length > sql.Length
                || statement.FirstObject < 0 || statement.FirstObject + statement.ObjectCount > result.Objects.Count)
            {
                throw new FuzzInvariantException($"statement {statement} outside the text ({sql.Length}) or objects ({result.Objects.Count})");
            }

            if (!mysql && statement.Start < previousEnd)
            {
                throw new FuzzInvariantException($"statement {statement} overlaps the one before");
            }

            previousEnd = statement.Start + statement.Length;
            FuzzCounters.Hit($"{Name}.{(mysql ? "mysql" : "pg")}.{PolicyNames.Label(statement.Kind)}");
            if (statement.Risks != StatementRisk.None)
            {
                FuzzCounters.Hit($"{Name}.risky");
            }
        }
    }

    private static void CheckPgLexer(ReadOnlySpan<byte> sql)
    {
        var lexer = new PgLexer(sql);
        var previousEnd = 0;
        for (var count = 0; ; count++)
        {
            var token = lexer.Next();
            if (token.Start < previousEnd || token.End > sql.Length || count > sql.Length + 1)
            {
                throw new FuzzInvariantException($"PgLexer token {token} out of order or bounds (previous end {previousEnd}, length {sql.Length})");
            }

            if (token.Kind is SqlTokenKind.End or SqlTokenKind.Error)
            {
                return;
            }

            if (token.ValueLength > 0 && (token.ValueStart < token.Start || token.ValueStart + token.ValueLength > token.End))
            {
                throw new FuzzInvariantException($"PgLexer value range outside token {token}");
            }

            previousEnd = token.End;
        }
    }
}
