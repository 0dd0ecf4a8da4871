using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Gatehouse.Protocols.Sql;
using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Tests.Policy;

/// <summary>The MySQL classifier on statements whose reading is known, and the properties a policy relies on.</summary>
public sealed class MySqlClassifierTests
{
    internal static SqlClassification Classify(string sql)
    {
        var result = new SqlClassification();
        new MySqlSqlClassifier().Classify(Encoding.UTF8.GetBytes(sql), result);
        return result;
    }

    private static ClassifiedStatement Single(string sql) => Assert.Single(Classify(sql).Statements);

    [Theory]
    [InlineData("SELECT 1", StatementKind.Read, StatementRisk.None)]
    [InlineData("select * from `shop`.`orders` where id = ?", StatementKind.Read, StatementRisk.None)]
    [InlineData("SELECT * FROM t INTO OUTFILE '/tmp/x'", StatementKind.Read, StatementRisk.FileAccess)]
    [InlineData("SELECT a INTO DUMPFILE '/tmp/x' FROM t", StatementKind.Read, StatementRisk.FileAccess)]
    [InlineData("SELECT a INTO @v FROM t", StatementKind.Read, StatementRisk.None)]
    [InlineData("SELECT load_file('/etc/passwd')", StatementKind.Read, StatementRisk.SideEffectFunction)]
    [InlineData("SELECT SYS_EXEC('id')", StatementKind.Read, StatementRisk.SideEffectFunction)]
    [InlineData("INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = 2", StatementKind.Write, StatementRisk.None)]
    [InlineData("REPLACE INTO t VALUES (1)", StatementKind.Write, StatementRisk.None)]
    [InlineData("UPDATE t SET a = 1", StatementKind.Write, StatementRisk.UnboundedUpdate)]
    [InlineData("UPDATE t SET a = 1 LIMIT 10", StatementKind.Write, StatementRisk.None)]
    [InlineData("DELETE FROM t", StatementKind.Write, StatementRisk.UnboundedDelete)]
    [InlineData("DELETE t1 FROM t1 JOIN t2 ON t1.a = t2.a", StatementKind.Write, StatementRisk.UnboundedDelete)]
    [InlineData("DELETE FROM t WHERE id = 1", StatementKind.Write, StatementRisk.None)]
    [InlineData("DROP TABLE t", StatementKind.Ddl, StatementRisk.Drop)]
    [InlineData("drop/**/table `t`", StatementKind.Ddl, StatementRisk.Drop)]
    [InlineData("/*!50000 DROP TABLE t */", StatementKind.Ddl, StatementRisk.Drop)]
    [InlineData("SELECT 1 /*!, (DROP) */", StatementKind.Read, StatementRisk.None)]
    [InlineData("DROP DATABASE app", StatementKind.Ddl, StatementRisk.DropDatabase)]
    [InlineData("DROP SCHEMA IF EXISTS app", StatementKind.Ddl, StatementRisk.DropDatabase)]
    [InlineData("DROP TEMPORARY TABLE IF EXISTS t", StatementKind.Ddl, StatementRisk.Drop)]
    [InlineData("DROP USER bob", StatementKind.Dcl, StatementRisk.Drop)]
    [InlineData("TRUNCATE TABLE t", StatementKind.Ddl, StatementRisk.Truncate)]
    [InlineData("ALTER TABLE t DROP COLUMN c", StatementKind.Ddl, StatementRisk.AlterDrop)]
    [InlineData("ALTER TABLE t ALTER COLUMN c DROP DEFAULT", StatementKind.Ddl, StatementRisk.None)]
    [InlineData("ALTER TABLE t ADD COLUMN c int", StatementKind.Ddl, StatementRisk.None)]
    [InlineData("ALTER USER bob IDENTIFIED BY 'x'", StatementKind.Dcl, StatementRisk.GrantRevoke)]
    [InlineData("GRANT ALL ON *.* TO bob", StatementKind.Dcl, StatementRisk.GrantRevoke)]
    [InlineData("LOAD DATA LOCAL INFILE '/x' INTO TABLE t", StatementKind.Write, StatementRisk.LoadData)]
    [InlineData("LOAD DATA INFILE '/x' INTO TABLE t", StatementKind.Write, StatementRisk.FileAccess)]
    [InlineData("SET GLOBAL max_connections = 1", StatementKind.Admin, StatementRisk.AlterSystem)]
    [InlineData("SET @@global.max_connections = 1", StatementKind.Admin, StatementRisk.AlterSystem)]
    [InlineData("SET autocommit = 1, GLOBAL general_log = 1", StatementKind.Admin, StatementRisk.AlterSystem)]
    [InlineData("SET PERSIST max_connections = 1", StatementKind.Admin, StatementRisk.AlterSystem)]
    [InlineData("SET ROLE admin", StatementKind.Session, StatementRisk.RoleChange)]
    [InlineData("SET DEFAULT ROLE admin FOR bob", StatementKind.Session, StatementRisk.RoleChange)]
    [InlineData("SET NAMES utf8mb4", StatementKind.Session, StatementRisk.None)]
    [InlineData("SET NAMES gbk", StatementKind.Unknown, StatementRisk.None)]
    [InlineData("SET character_set_client = sjis", StatementKind.Unknown, StatementRisk.None)]
    [InlineData("SET character_set_results = utf16", StatementKind.Unknown, StatementRisk.None)] // '4111…' as UTF-16 got past the card detector
    [InlineData("SET @@session.character_set_results = NULL", StatementKind.Unknown, StatementRisk.None)]
    [InlineData("SET character_set_results = utf8mb4, autocommit = 1", StatementKind.Session, StatementRisk.None)]
    [InlineData("SET sql_mode = 'STRICT_ALL_TABLES'", StatementKind.Session, StatementRisk.None)]
    [InlineData("SET PASSWORD FOR bob = 'x'", StatementKind.Dcl, StatementRisk.GrantRevoke)]
    [InlineData("CREATE TABLE t (id int)", StatementKind.Ddl, StatementRisk.None)]
    [InlineData("CREATE DEFINER = `root`@`%` PROCEDURE p() BEGIN DELETE FROM t; SELECT 1; END", StatementKind.Ddl, StatementRisk.RoutineBody)]
    [InlineData("CREATE FUNCTION sys_exec RETURNS INTEGER SONAME 'lib_mysqludf_sys.so'", StatementKind.Ddl, StatementRisk.RoutineBody | StatementRisk.FileAccess)]
    [InlineData("CREATE TRIGGER tr BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1", StatementKind.Ddl, StatementRisk.RoutineBody)]
    [InlineData("PREPARE s FROM 'DROP TABLE t'", StatementKind.Ddl, StatementRisk.Drop | StatementRisk.DynamicSql)]
    [InlineData("PREPARE s FROM 'SELECT ''a'', ''DROP'''", StatementKind.Read, StatementRisk.DynamicSql)]
    [InlineData("PREPARE s FROM @sql", StatementKind.Unknown, StatementRisk.DynamicSql)]
    [InlineData("PREPARE s FROM CONCAT('DRO', 'P TABLE t')", StatementKind.Unknown, StatementRisk.DynamicSql)]
    [InlineData("EXECUTE IMMEDIATE CONCAT('KILL ', 5)", StatementKind.Unknown, StatementRisk.DynamicSql)]
    [InlineData("BEGIN NOT ATOMIC DROP TABLE t; END", StatementKind.Unknown, StatementRisk.None)]
    [InlineData("BEGIN", StatementKind.Transaction, StatementRisk.None)]
    [InlineData("START TRANSACTION READ ONLY", StatementKind.Transaction, StatementRisk.None)]
    [InlineData("CALL p(1)", StatementKind.Write, StatementRisk.DynamicSql)]
    [InlineData("KILL QUERY 5", StatementKind.Admin, StatementRisk.None)]
    [InlineData("SHOW TABLES", StatementKind.Session, StatementRisk.None)]
    [InlineData("USE app", StatementKind.Session, StatementRisk.None)]
    [InlineData("EXPLAIN DELETE FROM t", StatementKind.Read, StatementRisk.None)]
    [InlineData("EXPLAIN ANALYZE DELETE FROM t", StatementKind.Write, StatementRisk.UnboundedDelete | StatementRisk.ExplainAnalyzeDml)]
    [InlineData("ANALYZE FORMAT=JSON DELETE FROM t WHERE a = 1", StatementKind.Write, StatementRisk.ExplainAnalyzeDml)]
    [InlineData("ANALYZE TABLE t", StatementKind.Admin, StatementRisk.None)]
    [InlineData("DESCRIBE t", StatementKind.Read, StatementRisk.None)]
    [InlineData("SHUTDOWN", StatementKind.Admin, StatementRisk.AlterSystem)]
    [InlineData("INSTALL PLUGIN p SONAME 'p.so'", StatementKind.Admin, StatementRisk.RoutineBody | StatementRisk.FileAccess)]
    [InlineData("FROBNICATE t", StatementKind.Unknown, StatementRisk.None)]
    [InlineData("SELECT 'unterminated", StatementKind.Unknown, StatementRisk.None)]
    [InlineData("SET STATEMENT max_statement_time = 0 FOR DELETE FROM t", StatementKind.Write, StatementRisk.UnboundedDelete)]
    [InlineData("SET STATEMENT sql_mode = '' FOR DROP DATABASE app", StatementKind.Ddl, StatementRisk.DropDatabase)]
    [InlineData("CREATE OR REPLACE TABLE t (id int)", StatementKind.Ddl, StatementRisk.Drop)]
    [InlineData("CREATE OR REPLACE SEQUENCE t", StatementKind.Ddl, StatementRisk.Drop)]
    [InlineData("CREATE OR REPLACE VIEW v AS SELECT 1", StatementKind.Ddl, StatementRisk.None)]
    [InlineData("ALTER TABLE t TRUNCATE PARTITION ALL", StatementKind.Ddl, StatementRisk.Truncate)]
    [InlineData("ALTER TABLE t DISCARD TABLESPACE", StatementKind.Ddl, StatementRisk.AlterDrop)]
    [InlineData("ALTER TABLE t ENGINE = BLACKHOLE", StatementKind.Ddl, StatementRisk.AlterDrop)]
    public void Classifies(string sql, StatementKind kind, StatementRisk risks)
    {
        var statement = Single(sql);
        Assert.Equal((kind, risks), (statement.Kind, statement.Risks));
    }

    [Theory]
    [InlineData("SELECT 'DROP TABLE t'")]
    [InlineData("SELECT 1 # ; DROP TABLE t")]
    [InlineData("SELECT 1 -- ; DROP TABLE t")]
    [InlineData("SELECT `; DROP TABLE t; ` FROM x")]
    [InlineData("SELECT 1 /* ; DROP TABLE t */")]
    public void Text_inside_literals_and_comments_is_not_a_statement(string sql)
    {
        var statement = Single(sql);
        Assert.Equal((StatementKind.Read, StatementRisk.None), (statement.Kind, statement.Risks));
    }

    [Theory]
    [InlineData("SELECT 'a\\'; DROP TABLE t; #'")] // one string with backslash escapes; two statements under NO_BACKSLASH_ESCAPES
    [InlineData("SELECT \"a\\\"; DROP TABLE t; #\"")]
    [InlineData("SELECT 'a\\'; DROP TABLE t; SELECT '")]
    public void What_another_sql_mode_would_run_is_judged_too(string sql) =>
        Assert.Contains(Classify(sql).Statements, s => s.Risks.HasFlag(StatementRisk.Drop));

    [Theory]
    [InlineData("DELETE FROM t /*!99999 WHERE id = 1 */")] // MariaDB skips 50700-99999: it runs DELETE FROM t
    [InlineData("UPDATE t SET a = 1 /*M!999999 WHERE id = 1 */")] // a MariaDB older than the version, or MySQL, skips it
    [InlineData("PREPARE s FROM 'DELETE FROM t /*!99999 LIMIT 1 */'")]
    public void A_bound_in_a_versioned_comment_may_not_run_so_it_does_not_count(string sql) =>
        Assert.Contains(Classify(sql).Statements, s => s.Risks.HasFlag(StatementRisk.UnboundedDelete) || s.Risks.HasFlag(StatementRisk.UnboundedUpdate));

    [Fact]
    public void Escapes_and_double_quotes_that_read_the_same_in_every_mode_add_nothing()
    {
        Assert.Equal(StatementKind.Read, Single("SELECT \"plain\" FROM t").Kind);
        // Under NO_BACKSLASH_ESCAPES this string never ends: the server would reject it whole, so only one reading counts.
        Assert.Equal(StatementKind.Read, Single("SELECT 'it\\'s'").Kind);
    }

    [Fact]
    public void Dashes_need_a_space_to_start_a_comment()
    {
        // "--x" is two minus signs: the DROP after it on the same line is not commented out.
        var result = Classify("SELECT 1 --x\n; DROP TABLE t");
        Assert.Equal(2, result.Statements.Count);
        Assert.Equal(StatementRisk.Drop, result.Statements[1].Risks);
    }

    [Fact]
    public void Routine_bodies_keep_their_semicolons_and_the_next_statement_is_judged()
    {
        var result = Classify("CREATE PROCEDURE p() BEGIN IF a THEN SELECT CASE WHEN 1 THEN 2 END; END IF; WHILE b DO SET c = 1; END WHILE; END; DROP TABLE t");
        Assert.Equal([StatementKind.Ddl, StatementKind.Ddl], result.Statements.Select(s => s.Kind));
        Assert.Equal(StatementRisk.Drop, result.Statements[1].Risks);
    }

    [Theory]
    [InlineData("SELECT a FROM shop.orders o JOIN `Customers` c ON c.id = o.c, t3", "shop.orders,Customers,t3")]
    [InlineData("UPDATE a, b SET a.x = b.x WHERE a.id = b.id", "a,b")]
    [InlineData("DELETE QUICK FROM hr.salaries WHERE id = 1", "hr.salaries")]
    [InlineData("LOAD DATA INFILE 'x' INTO TABLE audit.log", "audit.log")]
    [InlineData("DROP TABLE IF EXISTS a, `b``c`", "a,b`c")]
    public void Objects_are_the_names_the_statement_touches(string sql, string objects)
    {
        var result = Classify(sql);
        Assert.Equal(objects, string.Join(',', result.ObjectsOf(Assert.Single(result.Statements))));
    }

    [Fact]
    public void Prepared_names_are_case_insensitive()
    {
        var prepare = Single("PREPARE StMt FROM 'DELETE FROM t WHERE id = ?'");
        Assert.Equal((PreparedAction.Prepare, "stmt", StatementKind.Write), (prepare.Prepared, prepare.PreparedName, prepare.Kind));
        Assert.Equal((PreparedAction.Execute, "stmt"), (Single("EXECUTE STMT USING @a").Prepared, Single("EXECUTE STMT USING @a").PreparedName));
        Assert.Equal((PreparedAction.Deallocate, "stmt"), (Single("DEALLOCATE PREPARE Stmt").Prepared, Single("DROP PREPARE stmt").PreparedName));
    }

    [Fact]
    public void The_guard_judges_an_EXECUTE_by_the_PREPARE_before_it_in_the_same_text()
    {
        var guard = new StatementGuard(StatementPolicy.Default, new MySqlSqlClassifier(), new PolicySubject("s", "alice", ["analyst"], "db"));
        Assert.True(guard.Judge("PREPARE s FROM 'DELETE FROM t WHERE id = ?'; EXECUTE s USING @a"u8).Allowed);
        Assert.False(guard.Judge("PREPARE d FROM 'DELETE FROM t'; EXECUTE d"u8).Allowed);
        Assert.False(guard.Judge("EXECUTE d"u8).Allowed); // never prepared through the gateway: unknown
        Assert.True(guard.Judge("EXECUTE s USING @b"u8).Allowed); // prepared by an earlier, allowed text
        Assert.False(guard.Judge("DEALLOCATE PREPARE s; EXECUTE s"u8).Allowed);
    }

    private static readonly string[] Statements =
    [
        "DROP TABLE accounts", "TRUNCATE TABLE audit_log", "DELETE FROM accounts", "UPDATE accounts SET balance = 0",
        "SELECT id FROM accounts WHERE id = 1", "INSERT INTO accounts VALUES (1, 'x')", "ALTER TABLE accounts DROP COLUMN balance",
        "GRANT SELECT ON accounts TO bob", "SELECT 'DROP TABLE accounts'",
    ];

    /// <summary>Comments between tokens and the case of key words never change a decision (FsCheck).</summary>
    [Fact]
    public void Comments_and_keyword_case_do_not_change_the_classification()
    {
        var property = Prop.ForAll(Gen.Elements(Statements).ToArbitrary(), Gen.Choose(0, int.MaxValue).ToArbitrary(), (sql, seed) =>
        {
            var random = new Random(seed);
            var disguised = Disguise(sql, random);
            var (plain, other) = (Single(sql), Single(disguised));
            return (plain.Kind, plain.Risks) == (other.Kind, other.Risks);
        });
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(500), property);
        Assert.Equal(StatementRisk.Drop, Single(Disguise("DROP TABLE accounts", new Random(7))).Risks);
    }

    /// <summary>Replaces each space by a comment or whitespace and flips the case of key-word letters outside quotes.</summary>
    internal static string Disguise(string sql, Random random)
    {
        string[] separators = [" /* x */ ", "/**/", "\t", "\n", " -- c\n", " # c\n", "/*+ hint */"];
        var builder = new StringBuilder();
        var quoted = false;
        foreach (var c in sql)
        {
            if (c == '\'')
            {
                quoted = !quoted;
            }

            if (c == ' ' && !quoted)
            {
                builder.Append(separators[random.Next(separators.Length)]);
            }
            else
            {
                builder.Append(!quoted && char.IsLetter(c) && random.Next(2) == 0 ? (char.IsUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)) : c);
            }
        }

        return builder.ToString();
    }
}
