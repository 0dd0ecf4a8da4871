using Gatehouse.Proxy.Core.Policy;
using Xunit;

namespace Gatehouse.Tests.Policy;

public sealed class StatementPolicyTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero); // a Monday

    private static StatementFacts Facts(StatementKind kind, StatementRisk risks = StatementRisk.None, string[]? objects = null,
        string[]? roles = null, string upstream = "db") => new(kind, risks, objects ?? [], roles ?? ["analyst"], upstream);

    private static PolicyRule Rule(string name, PolicyDecision decision) => new() { Name = name, Decision = decision };

    [Theory]
    [InlineData(StatementRisk.DropDatabase)]
    [InlineData(StatementRisk.Drop)]
    [InlineData(StatementRisk.Truncate)]
    [InlineData(StatementRisk.UnboundedDelete)]
    [InlineData(StatementRisk.UnboundedUpdate)]
    [InlineData(StatementRisk.Program)]
    [InlineData(StatementRisk.FileAccess)]
    [InlineData(StatementRisk.AlterSystem)]
    public void Destructive_risks_are_denied_by_default(StatementRisk risk)
    {
        var verdict = StatementPolicy.Default.Evaluate(Facts(StatementKind.Ddl, risk), Noon);
        Assert.Equal(PolicyDecision.Deny, verdict.Decision);
        Assert.Equal(StatementPolicy.DefaultRiskRule, verdict.Rule);
    }

    [Fact]
    public void Unknown_is_denied_by_default_and_ordinary_statements_are_allowed()
    {
        Assert.Equal(StatementPolicy.DefaultUnknownRule, StatementPolicy.Default.Evaluate(Facts(StatementKind.Unknown), Noon).Rule);
        var read = StatementPolicy.Default.Evaluate(Facts(StatementKind.Write, StatementRisk.DataModifyingCte | StatementRisk.DynamicSql), Noon);
        Assert.True(read.Allowed);
        Assert.Equal(StatementPolicy.DefaultAllowRule, read.Rule);
    }

    [Fact]
    public void A_broad_allow_does_not_lift_a_default_denial_but_one_naming_the_risk_does()
    {
        var broad = new StatementPolicy([Rule("anything", PolicyDecision.Allow)]);
        Assert.Equal(StatementPolicy.DefaultRiskRule, broad.Evaluate(Facts(StatementKind.Ddl, StatementRisk.Drop), Noon).Rule);
        Assert.Equal(StatementPolicy.DefaultUnknownRule, broad.Evaluate(Facts(StatementKind.Unknown), Noon).Rule);
        Assert.Equal("anything", broad.Evaluate(Facts(StatementKind.Write), Noon).Rule);

        var drops = new StatementPolicy([new PolicyRule { Name = "dba-drop", Decision = PolicyDecision.Allow, Roles = new HashSet<string> { "dba" }, Risks = StatementRisk.Drop }]);
        Assert.True(drops.Evaluate(Facts(StatementKind.Ddl, StatementRisk.Drop, roles: ["dba"]), Noon).Allowed);
        Assert.False(drops.Evaluate(Facts(StatementKind.Ddl, StatementRisk.Drop, roles: ["analyst"]), Noon).Allowed);
        Assert.False(drops.Evaluate(Facts(StatementKind.Ddl, StatementRisk.DropDatabase, roles: ["dba"]), Noon).Allowed);
    }

    [Fact]
    public void First_matching_rule_decides_and_criteria_combine()
    {
        var policy = new StatementPolicy(
        [
            new PolicyRule { Name = "no-writes-on-prod", Decision = PolicyDecision.Deny, Upstreams = new HashSet<string> { "prod" }, Kinds = new HashSet<StatementKind> { StatementKind.Write }, Reason = "prod is read-only" },
            new PolicyRule { Name = "hold-grants", Decision = PolicyDecision.Hold, Risks = StatementRisk.GrantRevoke },
        ]);
        var prodWrite = policy.Evaluate(Facts(StatementKind.Write, upstream: "prod"), Noon);
        Assert.Equal((PolicyDecision.Deny, "no-writes-on-prod", "prod is read-only"), (prodWrite.Decision, prodWrite.Rule, prodWrite.Reason));
        Assert.True(policy.Evaluate(Facts(StatementKind.Write, upstream: "staging"), Noon).Allowed);
        Assert.Equal(PolicyDecision.Hold, policy.Evaluate(Facts(StatementKind.Dcl, StatementRisk.GrantRevoke), Noon).Decision);
        Assert.Contains("requires approval", StatementGuard.Message(policy.Evaluate(Facts(StatementKind.Dcl, StatementRisk.GrantRevoke), Noon)), StringComparison.Ordinal);
    }

    [Fact]
    public void Deny_matches_any_object_allow_needs_every_object()
    {
        var deny = new StatementPolicy([new PolicyRule { Name = "salaries", Decision = PolicyDecision.Deny, Objects = [new ObjectPattern("hr.salar*")] }]);
        Assert.False(deny.Evaluate(Facts(StatementKind.Read, objects: ["public.people", "salaries"]), Noon).Allowed); // unqualified: loose
        Assert.False(deny.Evaluate(Facts(StatementKind.Read, objects: ["HR.Salaries"]), Noon).Allowed);
        Assert.True(deny.Evaluate(Facts(StatementKind.Read, objects: ["public.people"]), Noon).Allowed);

        var allow = new StatementPolicy([
            new PolicyRule { Name = "audit-truncate", Decision = PolicyDecision.Allow, Risks = StatementRisk.Truncate, Objects = [new ObjectPattern("audit.log_*")] },
        ]);
        Assert.True(allow.Evaluate(Facts(StatementKind.Ddl, StatementRisk.Truncate, ["audit.log_2026"]), Noon).Allowed);
        Assert.False(allow.Evaluate(Facts(StatementKind.Ddl, StatementRisk.Truncate, ["audit.log_2026", "public.accounts"]), Noon).Allowed);
        Assert.False(allow.Evaluate(Facts(StatementKind.Ddl, StatementRisk.Truncate, ["log_2026"]), Noon).Allowed); // unqualified: strict for allow
    }

    [Fact]
    public void Time_windows_use_the_named_zone_and_run_past_midnight()
    {
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        var office = new TimeWindow(new HashSet<DayOfWeek> { DayOfWeek.Monday, DayOfWeek.Tuesday }, new TimeOnly(9, 0), new TimeOnly(17, 0), berlin);
        Assert.True(office.Contains(new DateTimeOffset(2026, 11, 23, 8, 0, 0, TimeSpan.Zero)));   // Mon 09:00 CET
        Assert.False(office.Contains(new DateTimeOffset(2026, 11, 23, 7, 59, 0, TimeSpan.Zero))); // Mon 08:59 CET
        Assert.False(office.Contains(new DateTimeOffset(2026, 11, 25, 10, 0, 0, TimeSpan.Zero))); // Wednesday

        var night = new TimeWindow(new HashSet<DayOfWeek> { DayOfWeek.Friday }, new TimeOnly(22, 0), new TimeOnly(6, 0), TimeZoneInfo.Utc);
        Assert.True(night.Contains(new DateTimeOffset(2026, 11, 27, 23, 0, 0, TimeSpan.Zero)));  // Fri 23:00
        Assert.True(night.Contains(new DateTimeOffset(2026, 11, 28, 5, 0, 0, TimeSpan.Zero)));   // Sat 05:00, Friday's window
        Assert.False(night.Contains(new DateTimeOffset(2026, 11, 29, 5, 0, 0, TimeSpan.Zero)));  // Sun 05:00

        var policy = new StatementPolicy([new PolicyRule { Name = "maintenance", Decision = PolicyDecision.Allow, Risks = StatementRisk.Truncate, When = night }]);
        Assert.True(policy.Evaluate(Facts(StatementKind.Ddl, StatementRisk.Truncate), new DateTimeOffset(2026, 11, 27, 23, 0, 0, TimeSpan.Zero)).Allowed);
        Assert.False(policy.Evaluate(Facts(StatementKind.Ddl, StatementRisk.Truncate), Noon).Allowed);
    }
}

public sealed class ClassificationCacheTests
{
    [Fact]
    public void A_hit_needs_the_same_bytes_not_just_the_same_hash()
    {
        var cache = new ClassificationCache();
        var result = new SqlClassification();
        result.Statements.Add(new ClassifiedStatement(0, 8, StatementKind.Read, StatementRisk.None, 0, 1));
        result.Objects.Add("t");
        cache.Add("SELECT 1"u8, 42, result);

        var filled = new SqlClassification();
        Assert.False(cache.TryFill("DROP t;1"u8, 42, filled, out _)); // same hash, other text: a miss, never the cached answer
        Assert.Empty(filled.Statements);
        Assert.True(cache.TryFill("SELECT 1"u8, 42, filled, out _));
        Assert.Equal((StatementKind.Read, "t"), (Assert.Single(filled.Statements).Kind, Assert.Single(filled.Objects)));
    }

    [Fact]
    public void The_guard_gives_a_repeated_text_the_same_verdict()
    {
        var guard = new StatementGuard(StatementPolicy.Default, new Gatehouse.Protocols.Sql.PgSqlClassifier(), new PolicySubject("s", "alice", ["analyst"], "db"));
        for (var i = 0; i < 3; i++)
        {
            Assert.False(guard.Judge("DROP TABLE t"u8).Allowed);
            Assert.True(guard.Judge("SELECT * FROM t WHERE id = $1"u8).Allowed);
        }

        Assert.False(guard.Judge("DROP TABLE u"u8).Allowed);
    }

    [Fact]
    public void A_repeated_text_is_kept_once_and_masking_reuses_that_copy()
    {
        var guard = new StatementGuard(StatementPolicy.Default, new Gatehouse.Protocols.Sql.PgSqlClassifier(), new PolicySubject("s", "alice", ["analyst"], "db"));
        var sql = "SELECT * FROM t WHERE id = $1"u8;
        guard.Judge(sql);
        var first = guard.LastText;
        Assert.NotNull(first);
        guard.Judge(sql);
        Assert.Same(first, guard.LastText);
        Assert.Same(first, StatementGuard.TextOf(sql, guard.LastText)); // no copy per statement

        var other = StatementGuard.TextOf("SELECT 2"u8, guard.LastText); // not the judged text: a copy of its own
        Assert.Equal("SELECT 2"u8.ToArray(), other);

        guard.Judge(new byte[ClassificationCache.MaxTextBytes + 1]); // too long to keep
        Assert.Null(guard.LastText);
    }

    [Fact]
    public void A_session_whose_texts_never_repeat_stops_keeping_them_and_starts_again_at_a_repeat()
    {
        var guard = new StatementGuard(StatementPolicy.Default, new Gatehouse.Protocols.Sql.PgSqlClassifier(), new PolicySubject("s", "alice", ["analyst"], "db"));
        for (var i = 0; i < 200; i++)
        {
            Assert.True(guard.Judge(System.Text.Encoding.UTF8.GetBytes($"SELECT abalance FROM pgbench_accounts WHERE aid = {i}")).Allowed);
        }

        Assert.Null(guard.LastText); // most texts are neither looked up nor kept now
        Assert.False(guard.Judge("DROP TABLE t"u8).Allowed); // every text is still judged in full
        Assert.False(guard.Judge("DELETE FROM t"u8).Allowed);

        // A text that repeats is found again within a couple of samples, and then kept for every statement.
        var sql = "SELECT * FROM t WHERE id = $1"u8;
        for (var i = 0; i < 40; i++)
        {
            guard.Judge(sql);
        }

        var kept = guard.LastText;
        Assert.NotNull(kept);
        guard.Judge(sql);
        Assert.Same(kept, guard.LastText);
    }
}
