using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Gatehouse.Protocols.Sql;
using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Tests.Policy;

/// <summary>The PostgreSQL classifier on statements whose reading is known: kind, risks, objects, splitting.</summary>
public sealed class PgClassifierTests
{
    internal static SqlClassification Classify(string sql)
    {
        var result = new SqlClassification();
        new PgSqlClassifier().Classify(Encoding.UTF8.GetBytes(sql), result);
        return result;
    }

    private static ClassifiedStatement Single(string sql)
    {
        var result = Classify(sql);
        return Assert.Single(result.Statements);
    }

    [Theory]
    [InlineData("SELECT 1", StatementKind.Read, StatementRisk.None)]
    [InlineData("select * from t where id = $1", StatementKind.Read, StatementRisk.None)]
    [InlineData("(SELECT 1) UNION (SELECT 2)", StatementKind.Read, StatementRisk.None)]
    [InlineData("VALUES (1), (2)", StatementKind.Read, StatementRisk.None)]
    [InlineData("TABLE accounts", StatementKind.Read, StatementRisk.None)]
    [InlineData("SELECT * INTO new_t FROM t", StatementKind.Ddl, StatementRisk.None)]
    [InlineData("INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2", StatementKind.Write, StatementRisk.None)]
    [InlineData("UPDATE t SET a = 1 WHERE id = 2", StatementKind.Write, StatementRisk.None)]
    [InlineData("UPDATE t SET a = 1", StatementKind.Write, StatementRisk.UnboundedUpdate)]
    [InlineData("DELETE FROM t", StatementKind.Write, StatementRisk.UnboundedDelete)]
    [InlineData("DELETE FROM t WHERE CURRENT OF c", StatementKind.Write, StatementRisk.None)]
    [InlineData("DELETE FROM t USING (SELECT id FROM u WHERE x) s", StatementKind.Write, StatementRisk.UnboundedDelete)]
    [InlineData("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", StatementKind.Write, StatementRisk.DataModifyingCte | StatementRisk.UnboundedDelete)]
    [InlineData("WITH x AS (SELECT 1 WHERE true) DELETE FROM t", StatementKind.Write, StatementRisk.UnboundedDelete)]
    [InlineData("WITH RECURSIVE x(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM x WHERE n < 5) SELECT * FROM x", StatementKind.Read, StatementRisk.None)]
    [InlineData("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", StatementKind.Write, StatementRisk.None)]
    [InlineData("DROP TABLE t", StatementKind.Ddl, StatementRisk.Drop)]
    [InlineData("drop/**/table t", StatementKind.Ddl, StatementRisk.Drop)]
    [InlineData("DROP DATABASE app", StatementKind.Ddl, StatementRisk.DropDatabase)]
    [InlineData("DROP SCHEMA s CASCADE", StatementKind.Ddl, StatementRisk.DropDatabase)]
    [InlineData("DROP ROLE bob", StatementKind.Dcl, StatementRisk.Drop)]
    [InlineData("TRUNCATE t", StatementKind.Ddl, StatementRisk.Truncate)]
    [InlineData("ALTER TABLE t DROP COLUMN c", StatementKind.Ddl, StatementRisk.AlterDrop)]
    [InlineData("ALTER TABLE t DROP c", StatementKind.Ddl, StatementRisk.AlterDrop)]
    [InlineData("ALTER TABLE t ALTER COLUMN c DROP DEFAULT", StatementKind.Ddl, StatementRisk.None)]
    [InlineData("ALTER TABLE t ADD COLUMN c int", StatementKind.Ddl, StatementRisk.None)]
    [InlineData("ALTER SYSTEM SET work_mem = '1GB'", StatementKind.Admin, StatementRisk.AlterSystem)]
    [InlineData("ALTER ROLE bob SUPERUSER", StatementKind.Dcl, StatementRisk.GrantRevoke)]
    [InlineData("GRANT SELECT ON t TO PUBLIC", StatementKind.Dcl, StatementRisk.GrantRevoke)]
    [InlineData("REVOKE ALL ON SCHEMA s FROM bob", StatementKind.Dcl, StatementRisk.GrantRevoke)]
    [InlineData("COPY t FROM STDIN", StatementKind.Write, StatementRisk.None)]
    [InlineData("COPY t (a, b) TO STDOUT WITH (FORMAT csv)", StatementKind.Read, StatementRisk.None)]
    [InlineData("COPY (SELECT * FROM t) TO STDOUT", StatementKind.Read, StatementRisk.None)]
    [InlineData("COPY t TO '/tmp/x'", StatementKind.Read, StatementRisk.FileAccess)]
    [InlineData("COPY t FROM PROGRAM 'curl evil'", StatementKind.Write, StatementRisk.Program)]
    [InlineData("COPY (SELECT 1 FROM t) TO PROGRAM 'sh'", StatementKind.Read, StatementRisk.Program)]
    [InlineData("EXPLAIN SELECT 1", StatementKind.Read, StatementRisk.None)]
    [InlineData("EXPLAIN DELETE FROM t", StatementKind.Read, StatementRisk.None)]
    [InlineData("EXPLAIN ANALYZE DELETE FROM t", StatementKind.Write, StatementRisk.ExplainAnalyzeDml | StatementRisk.UnboundedDelete)]
    [InlineData("EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1 WHERE b", StatementKind.Write, StatementRisk.ExplainAnalyzeDml)]
    [InlineData("EXPLAIN (ANALYZE false) DELETE FROM t", StatementKind.Read, StatementRisk.None)]
    [InlineData("SET ROLE postgres", StatementKind.Session, StatementRisk.RoleChange)]
    [InlineData("SET LOCAL role = 'x'", StatementKind.Session, StatementRisk.RoleChange)]
    [InlineData("set \"role\" to x", StatementKind.Session, StatementRisk.RoleChange)]
    [InlineData("SET SESSION AUTHORIZATION bob", StatementKind.Session, StatementRisk.RoleChange)]
    [InlineData("SET search_path = public", StatementKind.Session, StatementRisk.None)]
    [InlineData("SELECT set_config('role', 'x', false)", StatementKind.Read, StatementRisk.RoleChange)]
    [InlineData("SELECT pg_catalog.set_config('search_path', '', false)", StatementKind.Read, StatementRisk.None)]
    [InlineData("SELECT set_config($1, $2, false)", StatementKind.Read, StatementRisk.RoleChange)]
    [InlineData("SELECT pg_terminate_backend(pid) FROM pg_stat_activity", StatementKind.Read, StatementRisk.SideEffectFunction)]
    [InlineData("SELECT pg_catalog.pg_read_file('/etc/passwd')", StatementKind.Read, StatementRisk.SideEffectFunction)]
    [InlineData("SELECT \"lo_export\"(1, '/tmp/x')", StatementKind.Read, StatementRisk.SideEffectFunction)]
    [InlineData("SELECT * FROM dblink('host=x', 'select 1') AS t(a int)", StatementKind.Read, StatementRisk.SideEffectFunction)]
    [InlineData("CREATE TABLE t (id int)", StatementKind.Ddl, StatementRisk.None)]
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$", StatementKind.Ddl, StatementRisk.RoutineBody)]
    [InlineData("CREATE OR REPLACE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC DELETE FROM t; SELECT 1; END", StatementKind.Ddl, StatementRisk.RoutineBody)]
    [InlineData("CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f()", StatementKind.Ddl, StatementRisk.RoutineBody)]
    [InlineData("CREATE ROLE bob", StatementKind.Dcl, StatementRisk.None)]
    [InlineData("DO $$ BEGIN DROP TABLE t; END $$", StatementKind.Unknown, StatementRisk.DynamicSql)]
    [InlineData("CALL p(1)", StatementKind.Write, StatementRisk.DynamicSql)]
    [InlineData("PREPARE p (int) AS DELETE FROM t WHERE id = $1", StatementKind.Write, StatementRisk.DynamicSql)]
    [InlineData("PREPARE p AS DELETE FROM t", StatementKind.Write, StatementRisk.DynamicSql | StatementRisk.UnboundedDelete)]
    [InlineData("PREPARE TRANSACTION 'x'", StatementKind.Transaction, StatementRisk.None)]
    [InlineData("BEGIN", StatementKind.Transaction, StatementRisk.None)]
    [InlineData("start transaction isolation level serializable", StatementKind.Transaction, StatementRisk.None)]
    [InlineData("COMMIT", StatementKind.Transaction, StatementRisk.None)]
    [InlineData("LISTEN chan", StatementKind.Session, StatementRisk.None)]
    [InlineData("VACUUM ANALYZE t", StatementKind.Admin, StatementRisk.None)]
    [InlineData("LOAD 'plugin'", StatementKind.Admin, StatementRisk.FileAccess)]
    [InlineData("FROBNICATE t", StatementKind.Unknown, StatementRisk.None)]
    [InlineData("SELECT 'unterminated", StatementKind.Unknown, StatementRisk.None)]
    [InlineData("SELECT /* /* nested */ still comment", StatementKind.Unknown, StatementRisk.None)]
    [InlineData("SELECT 1 FROM t WHERE (a", StatementKind.Unknown, StatementRisk.None)]
    public void Classifies(string sql, StatementKind kind, StatementRisk risks)
    {
        var statement = Single(sql);
        Assert.Equal((kind, risks), (statement.Kind, statement.Risks));
    }

    [Theory]
    [InlineData("SELECT 'DROP TABLE t'")]
    [InlineData("SELECT $q$; DROP TABLE t; $q$")]
    [InlineData("SELECT $$ ' $$")]
    [InlineData("SELECT E'\\'; DROP TABLE t; --'")]
    [InlineData("SELECT 1 /* ; DROP TABLE t; /* nested */ ; */")]
    [InlineData("SELECT 1 -- ; DROP TABLE t")]
    [InlineData("SELECT \"; DROP TABLE t; \" FROM x")]
    [InlineData("SELECT U&'\\0027; DROP TABLE t; --'")]
    [InlineData("SELECT 'a' 'b'; ")]
    public void Text_inside_literals_and_comments_is_not_a_statement(string sql)
    {
        var statement = Single(sql);
        Assert.Equal(StatementKind.Read, statement.Kind);
        Assert.Equal(StatementRisk.None, statement.Risks);
    }

    [Fact]
    public void A_standard_string_does_not_take_backslash_escapes()
    {
        // standard_conforming_strings is on (the gateway ends the session otherwise): '\' is a string of one backslash.
        var result = Classify("SELECT '\\'; DROP TABLE t; --'");
        Assert.Equal(2, result.Statements.Count);
        Assert.Equal(StatementRisk.Drop, result.Statements[1].Risks);
    }

    [Fact]
    public void A_no_break_space_glues_words_together_as_the_server_reads_them()
    {
        // U+00A0 is an identifier character to PostgreSQL: "DROP\u00A0TABLE" is one word, a syntax error there, unknown here.
        Assert.Equal(StatementKind.Unknown, Single("DROP\u00A0TABLE t").Kind);
        Assert.Equal(StatementKind.Unknown, Single("SELECT\u00A01").Kind);
        Assert.Equal(StatementRisk.Drop, Single("DROP TABLE \u00A0t").Risks);
    }

    [Fact]
    public void Multi_statement_texts_split_at_top_level_semicolons_only()
    {
        var result = Classify("SELECT 1; ; DELETE FROM t WHERE f(';'); CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END; DROP TABLE t");
        Assert.Equal([StatementKind.Read, StatementKind.Write, StatementKind.Ddl, StatementKind.Ddl], result.Statements.Select(s => s.Kind));
        Assert.Equal(StatementRisk.Drop, result.Statements[3].Risks);
        Assert.Equal("DROP TABLE t", "SELECT 1; ; DELETE FROM t WHERE f(';'); CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END; DROP TABLE t"
            .Substring(result.Statements[3].Start, result.Statements[3].Length));
        Assert.Empty(Classify(" ; -- nothing\n /* at all */ ;").Statements);
    }

    [Theory]
    [InlineData("SELECT a FROM public.accounts a JOIN \"Orders\" o ON o.a = a.id, LATERAL f(a.id) x, audit.log", "public.accounts,Orders,audit.log")]
    [InlineData("SELECT * FROM ONLY t1, (SELECT 1 FROM t2) s WHERE x IN (SELECT y FROM t3)", "t1,t2,t3")]
    [InlineData("INSERT INTO s.t (a, b) SELECT a, b FROM u", "s.t,u")]
    [InlineData("UPDATE t SET a = (SELECT max(b) FROM u) WHERE c", "t,u")]
    [InlineData("DELETE FROM t USING u, v WHERE t.id = u.id", "t,u,v")]
    [InlineData("DROP TABLE IF EXISTS a, s.b, \"C\" CASCADE", "a,s.b,C")]
    [InlineData("TRUNCATE TABLE ONLY audit.log_2026, audit.log_2025", "audit.log_2026,audit.log_2025")]
    [InlineData("GRANT SELECT, UPDATE ON TABLE hr.salaries TO bob", "hr.salaries")]
    [InlineData("SELECT * FROM generate_series(1, 3) g", "")]
    [InlineData("COPY hr.salaries TO STDOUT", "hr.salaries")]
    [InlineData("CREATE INDEX CONCURRENTLY i ON ONLY hr.salaries (a)", "hr.salaries")]
    [InlineData("ALTER TABLE IF EXISTS ONLY Hr.Salaries DROP COLUMN x", "hr.salaries")]
    [InlineData("DROP TRIGGER IF EXISTS audit_tr ON hr.salaries CASCADE", "audit_tr,hr.salaries")]
    public void Objects_are_normalised_as_the_server_resolves_them(string sql, string objects)
    {
        var result = Classify(sql);
        var statement = Assert.Single(result.Statements);
        Assert.Equal(objects, string.Join(',', result.ObjectsOf(statement)));
    }

    [Fact]
    public void Long_names_are_truncated_like_the_server_does()
    {
        var name = new string('a', 70);
        var result = Classify($"SELECT * FROM {name}");
        Assert.Equal(new string('a', 63), Assert.Single(result.Objects));
    }

    [Fact]
    public void Prepared_names_are_carried_for_the_guard()
    {
        var prepare = Single("PREPARE Gh_Drop AS DELETE FROM t WHERE id = 1");
        Assert.Equal((PreparedAction.Prepare, "gh_drop"), (prepare.Prepared, prepare.PreparedName));
        var execute = Single("EXECUTE gh_drop");
        Assert.Equal((PreparedAction.Execute, "gh_drop", StatementKind.Unknown), (execute.Prepared, execute.PreparedName, execute.Kind));
        Assert.Equal((PreparedAction.Deallocate, "gh_drop"), (Single("DEALLOCATE PREPARE gh_drop").Prepared, Single("DEALLOCATE PREPARE gh_drop").PreparedName));
        Assert.Null(Single("DISCARD ALL").PreparedName);
        Assert.Equal(PreparedAction.Deallocate, Single("DEALLOCATE ALL").Prepared);
    }

    [Fact]
    public void A_bulk_insert_is_read_in_one_pass_without_holding_its_tokens()
    {
        var sql = new StringBuilder("INSERT INTO t VALUES ");
        for (var i = 0; i < 100_000; i++)
        {
            sql.Append(i == 0 ? "" : ",").Append("(1, 'x', $1)");
        }

        var statement = Single(sql.ToString());
        Assert.Equal((StatementKind.Write, StatementRisk.None), (statement.Kind, statement.Risks));
        Assert.Equal(StatementRisk.SideEffectFunction, Single(sql + ", (pg_terminate_backend(1), 'y', 2)").Risks);
    }
}

/// <summary>Properties a policy relies on, over generated disguises of known statements (FsCheck).</summary>
public sealed class PgClassifierProperties
{
    private static readonly string[] Statements =
    [
        "DROP TABLE accounts", "TRUNCATE audit_log", "DELETE FROM accounts", "UPDATE accounts SET balance = 0",
        "SELECT id FROM accounts WHERE id = 1", "INSERT INTO accounts VALUES (1, 'x')", "ALTER TABLE accounts DROP COLUMN balance",
        "GRANT SELECT ON accounts TO bob", "SELECT 'DROP TABLE accounts'", "COPY accounts TO PROGRAM 'sh'", "SET ROLE admin",
        "WITH gone AS (DELETE FROM accounts RETURNING id) SELECT count(*) FROM gone",
    ];

    private static readonly string[] Separators = [" /* x */ ", "/**/", "\t", "\n", " -- c\n", " /* a /* nested */ b */ ", "\r\n", "\f"];

    [Fact]
    public void Comments_whitespace_and_keyword_case_do_not_change_the_classification()
    {
        var property = Prop.ForAll(Gen.Elements(Statements).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (sql, seed) =>
        {
            var disguised = Disguise(sql, new Random(seed));
            var (plain, other) = (Single(sql), Single(disguised));
            return (plain.Kind, plain.Risks) == (other.Kind, other.Risks);
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), property);
    }

    [Fact]
    public void Strings_and_comments_that_merely_contain_a_statement_add_no_risk()
    {
        var property = Prop.ForAll(Gen.Elements(Statements).ToArbitrary(), Gen.Elements("'{0}'", "$${0}$$", "$q$ {0}; $q$", "E'{0}\\''", "/* {0}; */ 1", "\"{0}\"").ToArbitrary(),
            (inner, wrapper) =>
            {
                var sql = "SELECT " + string.Format(System.Globalization.CultureInfo.InvariantCulture, wrapper, inner.Replace("'", "''", StringComparison.Ordinal));
                var statement = Single(sql);
                return statement.Kind == StatementKind.Read && statement.Risks == StatementRisk.None;
            });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), property);
    }

    private static ClassifiedStatement Single(string sql) => Assert.Single(PgClassifierTests.Classify(sql).Statements);

    private static string Disguise(string sql, Random random)
    {
        var builder = new StringBuilder();
        var quoted = false;
        foreach (var c in sql)
        {
            quoted ^= c == '\'';
            if (c == ' ' && !quoted)
            {
                builder.Append(Separators[random.Next(Separators.Length)]);
            }
            else
            {
                builder.Append(!quoted && char.IsLetter(c) && random.Next(2) == 0 ? (char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)) : c);
            }
        }

        return builder.ToString();
    }
}
