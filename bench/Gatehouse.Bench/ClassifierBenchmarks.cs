using System.Text;
using BenchmarkDotNet.Attributes;
using Gatehouse.Protocols.Sql;
using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Bench;

/// <summary>
/// The statement guard's per-statement cost, which every Query, Parse, COM_QUERY and COM_STMT_PREPARE pays:
/// classification alone for a typical 200-byte SELECT in each dialect (target: under 1 µs, 0 bytes), and the
/// whole guard (classify + evaluate a realistic rule list) over a mix of statements an application sends.
/// </summary>
[MemoryDiagnoser]
public class ClassifierBenchmarks
{
    private static readonly byte[] PgSelect = Encoding.UTF8.GetBytes(
        "SELECT o.id, o.created_at, o.total_cents, c.email FROM public.orders o JOIN public.customers c ON c.id = o.customer_id "
        + "WHERE o.status = $1 AND o.created_at >= $2 ORDER BY o.created_at DESC LIMIT 50");

    private static readonly byte[] MySqlSelect = Encoding.UTF8.GetBytes(
        "SELECT o.id, o.created_at, o.total_cents, c.email FROM `shop`.`orders` o JOIN customers c ON c.id = o.customer_id "
        + "WHERE o.status = ? AND o.created_at >= ? ORDER BY o.created_at DESC LIMIT 50");

    private static readonly byte[][] PgMix =
    [
        PgSelect,
        "BEGIN"u8.ToArray(),
        "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2"u8.ToArray(),
        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)"u8.ToArray(),
        "/* app:checkout */ SELECT abalance FROM pgbench_accounts WHERE aid = $1"u8.ToArray(),
        "END"u8.ToArray(),
    ];

    private readonly PgSqlClassifier _pg = new();
    private readonly MySqlSqlClassifier _mysql = new();
    private readonly SqlClassification _result = new();
    private StatementGuard _guard = null!;

    [GlobalSetup]
    public void Setup()
    {
        var policy = new StatementPolicy(
        [
            new PolicyRule { Name = "dba-maintenance", Decision = PolicyDecision.Allow, Roles = new HashSet<string> { "dba" }, Risks = StatementRisk.Drop | StatementRisk.Truncate },
            new PolicyRule { Name = "no-writes-to-audit", Decision = PolicyDecision.Deny, Kinds = new HashSet<StatementKind> { StatementKind.Write }, Objects = [new ObjectPattern("audit.log_*")] },
            new PolicyRule { Name = "grants-need-approval", Decision = PolicyDecision.Hold, Risks = StatementRisk.GrantRevoke },
        ]);
        _guard = new StatementGuard(policy, new PgSqlClassifier(), new PolicySubject("bench", "alice", ["analyst"], "app-db"));
        foreach (var sql in PgMix)
        {
            _guard.Judge(sql); // warm the classifier's object cache, as a session does after its first statements
        }

        PgClassifySelect();
        MySqlClassifySelect();
    }

    [Benchmark(Baseline = true)]
    public int PgClassifySelect()
    {
        _result.Clear();
        _pg.Classify(PgSelect, _result);
        return _result.Statements.Count;
    }

    /// <summary>The lexer alone, to tell lexing from classifying.</summary>
    [Benchmark]
    public int PgLexSelect()
    {
        var lexer = new PgLexer(PgSelect);
        var count = 0;
        while (lexer.Next().Kind != SqlTokenKind.End)
        {
            count++;
        }

        return count;
    }

    [Benchmark]
    public int MySqlClassifySelect()
    {
        _result.Clear();
        _mysql.Classify(MySqlSelect, _result);
        return _result.Statements.Count;
    }

    [Benchmark]
    public int MySqlLexSelect()
    {
        var lexer = new MySqlLexer(MySqlSelect);
        var count = 0;
        while (lexer.Next().Kind != SqlTokenKind.End)
        {
            count++;
        }

        return count;
    }

    [Benchmark(OperationsPerInvoke = 6)]
    public int PgGuardMix()
    {
        var allowed = 0;
        foreach (var sql in PgMix)
        {
            allowed += _guard.Judge(sql).Allowed ? 1 : 0;
        }

        return allowed;
    }
}
