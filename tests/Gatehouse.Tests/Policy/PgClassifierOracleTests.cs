using System.Text;
using Gatehouse.Protocols.Sql;
using Gatehouse.Proxy.Core.Policy;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Policy;

/// <summary>
/// Differential test: PgSqlClassifier against PostgreSQL's own parser (libpg_query). For every statement the
/// parser accepts, the classifier must answer Unknown or agree: a kind the tree allows and every risk the tree
/// proves (extra risks are allowed; they only make the guard more cautious).
/// </summary>
public sealed class PgClassifierOracleTests
{
    private const int GeneratedCount = 4000;
    private const int ShownFailures = 50;

    private readonly ITestOutputHelper _output;

    public PgClassifierOracleTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Classifier_agrees_with_the_PostgreSQL_parser_or_says_unknown()
    {
        Assert.True(PgParser.IsAvailable, "libpg_query is missing: run scripts/prerequisites.sh (package libpg-query-dev).");

        var run = new OracleRun();
        var scripts = PgClassifierOracleCorpus.ServerScripts().ToList();
        Assert.NotEmpty(scripts); // postgresql-15 is a prerequisite too; an empty corpus would pass vacuously
        // Hostile cases first: their failures are the most telling, and only the first ones are shown.
        for (var i = 0; i < PgClassifierOracleCorpus.Hostile.Length; i++)
            run.Check($"hostile #{i}", PgClassifierOracleCorpus.Hostile[i]);
        foreach (var (name, text) in PgClassifierOracleCorpus.Generated(GeneratedCount))
            run.Check(name, text);
        foreach (var (name, text) in scripts)
            run.Check("share/" + name, text);

        _output.WriteLine($"texts: {run.Texts} ({scripts.Count} server scripts, {GeneratedCount} generated, "
            + $"{PgClassifierOracleCorpus.Hostile.Length} hostile)");
        _output.WriteLine($"statements checked: {run.Checked}, agreed: {run.Agreed}, classifier unknown: {run.Unknown}, "
            + $"parser-rejected (not judged): {run.Rejected}, text count mismatches: {run.CountMismatches}");
        _output.WriteLine($"statement nodes: {string.Join(", ", run.Nodes.OrderByDescending(n => n.Value).Select(n => $"{n.Key}={n.Value}"))}");
        _output.WriteLine($"classifier said unknown for: {string.Join(", ", run.UnknownNodes.OrderByDescending(n => n.Value).Select(n => $"{n.Key}={n.Value}"))}");
        if (run.Unmapped.Count > 0)
            _output.WriteLine($"unmapped node types (any kind accepted, risks still held): {string.Join(", ", run.Unmapped)}");

        var shown = string.Join("\n", run.Failures.Take(ShownFailures));
        Assert.True(run.Failures.Count == 0,
            $"{run.Failures.Count} disagreements with PostgreSQL's parser (first {Math.Min(ShownFailures, run.Failures.Count)}):\n{shown}");
    }

    /// <summary>Accumulates one pass over the corpus; failures are collected, not thrown, so all show at once.</summary>
    private sealed class OracleRun
    {
        private readonly PgSqlClassifier _classifier = new();
        private readonly SqlClassification _result = new();

        public List<string> Failures { get; } = [];
        public Dictionary<string, int> Nodes { get; } = [];
        public Dictionary<string, int> UnknownNodes { get; } = [];
        public SortedSet<string> Unmapped { get; } = new(StringComparer.Ordinal);
        public int Texts { get; private set; }
        public int Checked { get; private set; }
        public int Agreed { get; private set; }
        public int Unknown { get; private set; }
        public int Rejected { get; private set; }
        public int CountMismatches { get; private set; }

        public void Check(string source, string text)
        {
            Texts++;
            var bytes = Encoding.UTF8.GetBytes(text);
            var split = PgParser.Split(text);
            // A syntax error anywhere makes the parser's split fail; the scanner still finds statement boundaries
            // so the statements that do parse are judged. The server rejects such a text whole, so no count check.
            var wholeTextParses = split.Ok;
            if (!split.Ok)
                split = PgParser.SplitWithScanner(text);
            if (!split.Ok)
            {
                Rejected++;
                return;
            }

            var expectations = new List<PgExpectation>();
            foreach (var location in split.Statements)
            {
                var piece = bytes.AsSpan(location.Start, location.Length);
                var pieceText = Encoding.UTF8.GetString(piece);
                using var parsed = PgParser.Parse(pieceText);
                if (!parsed.Ok)
                {
                    Rejected++;
                    continue;
                }
                var expected = parsed.Statements.Select(PgParserExpectation.For).ToList();
                expectations.AddRange(expected);
                foreach (var e in expected)
                {
                    Nodes[e.Node] = Nodes.GetValueOrDefault(e.Node) + 1;
                    if (!e.Mapped)
                        Unmapped.Add(e.Node);
                }
                Judge(source, pieceText, piece, expected);
            }

            if (wholeTextParses)
                JudgeWhole(source, text, bytes, expectations);
        }

        private void Judge(string source, string text, ReadOnlySpan<byte> sql, List<PgExpectation> expected)
        {
            Checked += expected.Count;
            var actual = Run(source, text, sql);
            if (actual is null)
                return;
            if (actual.Any(s => s.Kind == StatementKind.Unknown))
            {
                // Unknown is always a safe answer; it is counted, not judged.
                Unknown += expected.Count;
                foreach (var e in expected)
                    UnknownNodes[e.Node] = UnknownNodes.GetValueOrDefault(e.Node) + 1;
                return;
            }
            if (actual.Count != expected.Count)
            {
                Fail(source, text, $"parser sees {expected.Count} statement(s), classifier {actual.Count}: {Describe(actual)}");
                return;
            }
            for (var i = 0; i < expected.Count; i++)
            {
                if (Agrees(expected[i], actual[i], out var why))
                    Agreed++;
                else
                    Fail(source, text, why);
            }
        }

        /// <summary>The whole text: same statement count, and statement by statement the same judgement.</summary>
        private void JudgeWhole(string source, string text, ReadOnlySpan<byte> sql, List<PgExpectation> expected)
        {
            var actual = Run(source, text, sql);
            if (actual is null || actual.Any(s => s.Kind == StatementKind.Unknown))
                return;
            if (actual.Count != expected.Count)
            {
                CountMismatches++;
                Fail(source, text, $"whole text: parser sees {expected.Count} statement(s), classifier {actual.Count}");
                return;
            }
            if (expected.Count < 2)
                return; // a single statement was judged above
            for (var i = 0; i < expected.Count; i++)
            {
                if (!Agrees(expected[i], actual[i], out var why))
                {
                    var statement = actual[i];
                    var piece = statement.Start >= 0 && statement.Start + statement.Length <= sql.Length
                        ? Encoding.UTF8.GetString(sql.Slice(statement.Start, statement.Length))
                        : text;
                    Fail(source, piece, $"in the whole text, statement #{i}: {why}");
                }
            }
        }

        private List<ClassifiedStatement>? Run(string source, string text, ReadOnlySpan<byte> sql)
        {
            _result.Clear();
            try
            {
                _classifier.Classify(sql, _result);
            }
#pragma warning disable CA1031 // a classifier that throws is a finding, reported with the others
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Fail(source, text, $"classifier threw {ex.GetType().Name}: {ex.Message}");
                return null;
            }
            return [.. _result.Statements];
        }

        private static bool Agrees(PgExpectation expected, ClassifiedStatement actual, out string why)
        {
            var missing = expected.Risks & ~actual.Risks;
            if (expected.Accepts(actual.Kind) && missing == StatementRisk.None)
            {
                why = "";
                return true;
            }
            why = $"expected {expected}, classifier said {actual.Kind} risks={actual.Risks}"
                + (missing != StatementRisk.None ? $" (missing {missing})" : "");
            return false;
        }

        private static string Describe(List<ClassifiedStatement> statements) =>
            string.Join("; ", statements.Select(s => $"{s.Kind}/{s.Risks}@{s.Start}+{s.Length}"));

        private void Fail(string source, string text, string why)
        {
            var trimmed = text.Trim();
            var shown = trimmed.Length > 200 ? trimmed[..200] + "…" : trimmed;
            Failures.Add($"[{source}] {why}\n    {shown.ReplaceLineEndings(" ⏎ ")}");
        }
    }
}

/// <summary>Checks the oracle itself: libpg_query's wrapper and the parse-tree mapping on statements with known answers.</summary>
public sealed class PgParserExpectationTests
{
    [Fact]
    public void Library_is_available()
    {
        Assert.True(PgParser.IsAvailable, "libpg_query is missing: run scripts/prerequisites.sh (package libpg-query-dev).");
    }

    [Fact]
    public void Split_reports_byte_offsets_and_parse_reports_errors()
    {
        var text = "SELECT 'é'; /* ; */ DELETE FROM t;";
        var split = PgParser.Split(text);
        Assert.True(split.Ok);
        var bytes = Encoding.UTF8.GetBytes(text);
        Assert.Equal(["SELECT 'é'", "/* ; */ DELETE FROM t"],
            split.Statements.Select(s => Encoding.UTF8.GetString(bytes, s.Start, s.Length).Trim()));

        using var bad = PgParser.Parse("SELEC 1");
        Assert.False(bad.Ok);
        Assert.Contains("syntax error", bad.Error, StringComparison.Ordinal);
        Assert.False(PgParser.Split("SELECT 1; SELEC * FROM t").Ok);
        // The scanner split keeps only pieces that contain a keyword ("SELEC 2" alone would be dropped).
        Assert.Equal(2, PgParser.SplitWithScanner("SELECT 1; SELEC * FROM t").Statements.Count);
    }

    [Theory]
    [InlineData("SELECT * FROM t", StatementKind.Read, StatementRisk.None)]
    [InlineData("DELETE FROM t", StatementKind.Write, StatementRisk.UnboundedDelete)]
    [InlineData("DELETE FROM t WHERE id = 1", StatementKind.Write, StatementRisk.None)]
    [InlineData("DELETE FROM t WHERE CURRENT OF c", StatementKind.Write, StatementRisk.None)]
    [InlineData("UPDATE t SET a = 1", StatementKind.Write, StatementRisk.UnboundedUpdate)]
    [InlineData("WITH x AS (DELETE FROM t WHERE id = 1 RETURNING *) SELECT * FROM x", StatementKind.Write, StatementRisk.DataModifyingCte)]
    [InlineData("DROP TABLE t", StatementKind.Ddl, StatementRisk.Drop)]
    [InlineData("DROP SCHEMA s CASCADE", StatementKind.Ddl, StatementRisk.DropDatabase)]
    [InlineData("DROP DATABASE d", StatementKind.Ddl, StatementRisk.DropDatabase)]
    [InlineData("TRUNCATE t", StatementKind.Ddl, StatementRisk.Truncate)]
    [InlineData("GRANT SELECT ON t TO r", StatementKind.Dcl, StatementRisk.GrantRevoke)]
    [InlineData("REVOKE r FROM u", StatementKind.Dcl, StatementRisk.GrantRevoke)]
    [InlineData("COPY t TO PROGRAM 'x'", StatementKind.Read, StatementRisk.Program)]
    [InlineData("COPY t FROM '/tmp/x'", StatementKind.Write, StatementRisk.FileAccess)]
    [InlineData("COPY t FROM STDIN", StatementKind.Write, StatementRisk.None)]
    [InlineData("EXPLAIN ANALYZE DELETE FROM t WHERE id = 1", StatementKind.Write, StatementRisk.ExplainAnalyzeDml)]
    [InlineData("EXPLAIN (ANALYZE off) DELETE FROM t", StatementKind.Read, StatementRisk.None)]
    [InlineData("EXPLAIN (ANALYZE 0) DELETE FROM t", StatementKind.Read, StatementRisk.None)]
    [InlineData("EXPLAIN (ANALYZE, ANALYZE false) DELETE FROM t", StatementKind.Read, StatementRisk.None)]
    [InlineData("EXPLAIN (ANALYZE 1) INSERT INTO t VALUES (1)", StatementKind.Write, StatementRisk.ExplainAnalyzeDml)]
    [InlineData("COPY (DELETE FROM t RETURNING *) TO STDOUT", StatementKind.Write, StatementRisk.UnboundedDelete)]
    [InlineData("SELECT * INTO x FROM t", StatementKind.Ddl, StatementRisk.None)]
    [InlineData("DROP FUNCTION f(int)", StatementKind.Ddl, StatementRisk.Drop)]
    [InlineData("ALTER ROLE r RENAME TO r2", StatementKind.Dcl, StatementRisk.None)]
    [InlineData("SHOW search_path", StatementKind.Session, StatementRisk.None)]
    [InlineData("COMMENT ON TABLE t IS 'x'", StatementKind.Ddl, StatementRisk.None)]
    [InlineData("SET ROLE postgres", StatementKind.Session, StatementRisk.RoleChange)]
    [InlineData("SET SESSION AUTHORIZATION DEFAULT", StatementKind.Session, StatementRisk.RoleChange)]
    [InlineData("SET search_path = public", StatementKind.Session, StatementRisk.None)]
    [InlineData("ALTER SYSTEM SET work_mem = '1GB'", StatementKind.Admin, StatementRisk.AlterSystem)]
    [InlineData("ALTER TABLE t DROP COLUMN c", StatementKind.Ddl, StatementRisk.AlterDrop)]
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END", StatementKind.Ddl, StatementRisk.RoutineBody)]
    [InlineData("DO $$BEGIN NULL; END$$", StatementKind.Admin, StatementRisk.DynamicSql)]
    [InlineData("PREPARE p AS DELETE FROM t", StatementKind.Write, StatementRisk.DynamicSql | StatementRisk.UnboundedDelete)]
    [InlineData("SELECT pg_catalog.pg_terminate_backend(1)", StatementKind.Read, StatementRisk.SideEffectFunction)]
    [InlineData("select set_config('ROLE','x',false)", StatementKind.Read, StatementRisk.RoleChange)]
    [InlineData("BEGIN", StatementKind.Transaction, StatementRisk.None)]
    [InlineData("VACUUM t", StatementKind.Admin, StatementRisk.None)]
    [InlineData("LISTEN ch", StatementKind.Session, StatementRisk.None)]
    [InlineData("CREATE ROLE r", StatementKind.Dcl, StatementRisk.None)]
    public void Expectation_matches_known_statements(string sql, StatementKind kind, StatementRisk risks)
    {
        var expectation = PgParserExpectation.ForSql(sql);
        Assert.True(expectation.Mapped, expectation.ToString());
        Assert.Contains(kind, expectation.Kinds);
        Assert.Equal(risks, expectation.Risks);
    }

    [Theory]
    [InlineData("EXECUTE p")]
    [InlineData("EXECUTE p(1, 'x')")]
    public void Execute_is_only_acceptable_as_unknown(string sql)
    {
        var expectation = PgParserExpectation.ForSql(sql);
        Assert.Empty(expectation.Kinds);
        Assert.True(expectation.Accepts(StatementKind.Unknown));
        Assert.False(expectation.Accepts(StatementKind.Session));
        Assert.Equal(StatementRisk.DynamicSql, expectation.Risks);
    }

    [Theory]
    [InlineData("SELECT * FROM t", StatementKind.Write)]
    [InlineData("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", StatementKind.Read)]
    [InlineData("DROP TABLE t", StatementKind.Read)]
    [InlineData("DO $$BEGIN NULL; END$$", StatementKind.Read)]
    public void Expectation_rejects_a_confident_wrong_kind(string sql, StatementKind wrong)
    {
        Assert.False(PgParserExpectation.ForSql(sql).Accepts(wrong));
    }
}
