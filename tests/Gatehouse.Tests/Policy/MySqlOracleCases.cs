using System.Text;

namespace Gatehouse.Tests.Policy;

/// <summary>
/// One oracle text; <c>{db}</c> stands for the scratch database. Harmless cases must also classify clean.
/// A value-dependent case destroys data only because of the values involved (a WHERE or LIMIT that matches every
/// row, a lossy type change): the classifier reads syntax, not data, so a missing flag there is reported as a note
/// and does not fail the test.
/// </summary>
internal sealed record MySqlOracleCase(string Name, string Sql, bool Harmless = false, bool ValueDependent = false);

/// <summary>
/// The effect oracle's corpus: hand-written hostile and ordinary texts, and the destructive core statements
/// wrapped every way the server might read differently from a naive splitter (comments, executable comments,
/// case, quoting, multi-statement texts, PREPARE, strings whose end depends on sql_mode).
/// </summary>
internal static class MySqlOracleCases
{
    /// <summary>Statements that each change something the oracle observes.</summary>
    private static readonly string[] Core =
    [
        "DROP TABLE canary",
        "DROP TABLE IF EXISTS other",
        "DROP VIEW canary_v",
        "DROP DATABASE {db}",
        "DROP SCHEMA IF EXISTS {db}",
        "TRUNCATE TABLE canary",
        "TRUNCATE other",
        "DELETE FROM canary",
        "DELETE canary FROM canary",
        "UPDATE canary SET v = 'x'",
        "ALTER TABLE canary DROP COLUMN c2",
        "ALTER TABLE canary DROP c2",
        "DELETE FROM canary WHERE id = 1",
        "UPDATE canary SET v = 'z' WHERE id = 2",
        "INSERT INTO canary VALUES (9, 'n', 0)",
        "RENAME TABLE other TO other_renamed",
    ];

    /// <summary>Executable-comment versions around the server's (10.11 is 101100+) and MySQL's 5.7+ range, which MariaDB skips.</summary>
    private static readonly string[] Versions =
    [
        "1", "0", "00000", "32302", "40000", "40101", "50000", "50699", "50700", "50701", "80000", "99999", "100000", "101100", "101119", "101199",
        "110000", "999999", "1000000", "5000", "050000",
    ];

    /// <summary>Hand-written texts: known splitting and quoting tricks, plus ordinary statements.</summary>
    private static readonly MySqlOracleCase[] Written =
    [
        // Harmless: must classify with no default-denied risk and nothing unknown.
        new("select", "SELECT * FROM canary", true),
        new("select-where", "SELECT id, v FROM canary WHERE id = 1", true),
        new("select-string-drop", "SELECT 'DROP TABLE canary'", true),
        new("select-string-semicolon", "SELECT 'a; DROP TABLE canary; '", true),
        new("select-doubled-quote", "SELECT 'it''s; DROP TABLE canary'", true),
        new("select-block-comment", "SELECT 1 /* ; DROP TABLE canary */", true),
        new("select-dash-comment", "SELECT 1 -- ; DROP TABLE canary", true),
        new("select-hash-comment", "SELECT 1 # ; DROP TABLE canary", true),
        new("select-backtick", "SELECT `v` FROM `canary`", true),
        new("select-backtick-semicolon", "SELECT 1 AS `; DROP TABLE canary; `", true),
        new("select-view", "SELECT * FROM canary_v", true),
        new("select-join", "SELECT c.id FROM canary c JOIN other o ON o.id = c.id", true),
        new("select-two", "SELECT 1; SELECT 2", true),
        new("select-info-schema", "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()", true),
        new("show-tables", "SHOW TABLES", true),
        new("describe", "DESCRIBE canary", true),
        new("explain-delete", "EXPLAIN DELETE FROM canary", true),
        new("insert", "INSERT INTO canary VALUES (4, 'd', 0)", true),
        new("update-bounded", "UPDATE canary SET v = 'q' WHERE id = 3", true),
        new("delete-bounded", "DELETE FROM canary WHERE id = 3", true),
        new("update-limit", "UPDATE canary SET v = 'q' LIMIT 1", true),
        new("set-var", "SET @a = 'DROP TABLE canary'", true),
        new("exec-comment-select", "SELECT 1 /*!50000 + 1 */", true),
        new("exec-comment-future", "SELECT 1 /*!99999 ; DROP TABLE canary */"),
        new("mariadb-comment-select", "SELECT 1 /*M! + 2 */", true),
        new("hint", "SELECT /*+ MAX_EXECUTION_TIME(1000) */ 1", true),
        new("begin-commit", "START TRANSACTION; SELECT 1; COMMIT", true),
        // No EXECUTE: the guard judges an EXECUTE by a PREPARE of an earlier, allowed text, never of the same one.
        new("prepare-select", "PREPARE s FROM 'SELECT ''DROP TABLE canary'''; DEALLOCATE PREPARE s", true),
        new("string-backslash-quote-harmless", "SELECT 'a\\'b'", false),
        new("create-table", "CREATE TABLE t2 (id int)", true),

        // Splitting: what the server runs after a ';'.
        new("two-statements", "SELECT 1; DROP TABLE canary"),
        new("trailing-semicolon", "DROP TABLE canary;"),
        new("many-semicolons", ";;SELECT 1;;DROP TABLE other;;"),
        new("dash-no-space", "SELECT 1 --x\n; DROP TABLE canary"),
        new("dash-tab", "SELECT 1 --\tx\n; DROP TABLE canary"),
        new("dash-at-end", "SELECT 1 --"),
        new("dash-newline", "SELECT 1 --\nDROP TABLE canary"),
        new("dash-cr", "SELECT 1 -- x\r; DROP TABLE canary"),
        new("hash-cr", "SELECT 1 # x\r; DROP TABLE canary"),
        new("minus-minus-number", "SELECT 1--1; DROP TABLE canary"),
        new("block-unterminated", "SELECT 1 /* ; DROP TABLE canary"),
        new("block-star-slash-in-string", "SELECT '*/'; DROP TABLE canary"),
        new("block-nested", "SELECT 1 /* /* */ ; DROP TABLE canary"),
        new("comment-in-drop", "DROP/**/TABLE/**/canary"),
        new("comment-hash-drop", "DROP#x\nTABLE canary"),
        new("comment-dash-drop", "DROP-- x\nTABLE canary"),
        new("newline-drop", "DROP\n\tTABLE\r\ncanary"),

        // Executable comments.
        new("exec-drop", "/*! DROP TABLE canary */"),
        new("exec-versioned-drop", "/*!50000 DROP TABLE canary */"),
        new("exec-versioned-6", "/*!100000 DROP TABLE canary */"),
        new("exec-versioned-future", "/*!99999 DROP TABLE canary */"),
        new("exec-mariadb", "/*M! DROP TABLE canary */"),
        new("exec-mariadb-versioned", "/*M!100100 DROP TABLE canary */"),
        new("exec-mariadb-future", "/*M!999999 DROP TABLE canary */"),
        new("exec-inside-select", "SELECT 1 /*! ; DROP TABLE canary */"),
        new("exec-semicolon-inside", "/*! SELECT 1; DROP TABLE canary */"),
        new("exec-split-keyword", "DROP /*! TABLE */ canary"),
        new("exec-split-name", "DROP TABLE /*! canary */"),
        new("exec-nested-block", "/*! SELECT 1 /* x */ */; DROP TABLE canary"),
        new("exec-no-space", "/*!DROP TABLE canary*/"),
        new("exec-version-no-space", "/*!50000DROP TABLE canary*/"),
        new("exec-version-5digit-glued", "/*!40101DROP TABLE canary*/"),
        new("exec-delete-where", "DELETE FROM canary /*! WHERE id = 1 */"),
        new("exec-future-where", "DELETE FROM canary /*!99999 WHERE id = 1 */"),
        new("exec-mariadb-future-where", "DELETE FROM canary /*M!999999 WHERE id = 1 */"),
        new("exec-update-where", "UPDATE canary SET v = 'x' /*!99999 WHERE id = 1 */"),
        new("exec-comment-then-hash", "/*! SELECT 1 # */ ; DROP TABLE canary"),
        new("exec-comment-dash", "/*! SELECT 1 -- */ ; DROP TABLE canary */"),
        new("exec-string-close", "/*! SELECT '*/' */; DROP TABLE canary"),

        // Strings whose end depends on sql_mode.
        new("backslash-quote", "SELECT 'a\\'; DROP TABLE canary; #'"),
        new("backslash-quote-select", "SELECT 'a\\'; DROP TABLE canary; SELECT '"),
        new("backslash-double", "SELECT \"a\\\"; DROP TABLE canary; #\""),
        new("double-quote-semicolon", "SELECT \"; DROP TABLE canary; \""),
        new("double-quote-doubled", "SELECT \"a\"\"; DROP TABLE canary; #\""),
        new("double-then-single", "SELECT \"'\"; DROP TABLE canary; #'"),
        new("single-then-double", "SELECT '\"'; DROP TABLE canary; #\""),
        new("backslash-backslash", "SELECT 'a\\\\'; DROP TABLE canary; #'"),
        new("doubled-single", "SELECT 'a'''; DROP TABLE canary; #'"),
        new("backslash-in-backtick", "SELECT 1 AS `a\\`; DROP TABLE canary; #`"),
        new("double-quoted-name-delete", "DELETE FROM \"canary\""),
        new("ansi-name-drop", "DROP TABLE \"canary\""),
        new("backslash-comment", "SELECT '\\'' /* ; DROP TABLE canary; #'"),
        new("nbe-string-then-delete", "SELECT 'x\\'; DELETE FROM canary; -- '"),
        new("nbe-update", "SELECT 'x\\'; UPDATE canary SET v = 'b'; -- '"),
        new("nbe-alter", "SELECT 'x\\'; ALTER TABLE canary DROP c2; -- '"),
        new("charset-introducer", "SELECT _utf8mb4'a\\'; DROP TABLE canary; #'"),
        new("national-string", "SELECT N'a\\'; DROP TABLE canary; #'"),
        new("hex-string", "SELECT X'41'; DROP TABLE canary"),
        new("bit-string", "SELECT b'1'; DROP TABLE canary"),
        new("string-concat-adjacent", "SELECT 'a' 'b\\'; DROP TABLE canary; #'"),
        new("double-in-comment", "SELECT 1 /* \" */; DROP TABLE canary"),
        new("quote-in-hash-comment", "SELECT 1 # '\nDROP TABLE canary"),
        new("quote-in-dash-comment", "SELECT 1 -- '\n; DROP TABLE canary"),

        // Hidden statements that must not run, and statements disguised as others.
        new("select-into-var", "SELECT v INTO @x FROM canary WHERE id = 1; DELETE FROM canary WHERE id = @x"),
        new("delete-where-true", "DELETE FROM canary WHERE 1 = 1", ValueDependent: true),
        new("update-where-true", "UPDATE canary SET v = 'x' WHERE 1", ValueDependent: true),
        new("delete-order-limit", "DELETE FROM canary ORDER BY id LIMIT 2"),
        new("delete-using", "DELETE FROM canary USING canary JOIN other ON 1 = 1"),
        new("delete-multi-table", "DELETE canary, other FROM canary, other"),
        new("delete-alias", "DELETE c FROM canary AS c"),
        new("delete-low-priority", "DELETE LOW_PRIORITY QUICK IGNORE FROM canary"),
        new("delete-returning", "DELETE FROM canary RETURNING id"),
        new("delete-qualified", "DELETE FROM {db}.canary"),
        new("delete-backtick", "DELETE FROM `canary`"),
        new("delete-backtick-qualified", "DELETE FROM `{db}`.`canary`"),
        new("update-multi", "UPDATE canary, other SET canary.v = other.w"),
        new("update-low-priority", "UPDATE LOW_PRIORITY IGNORE canary SET v = 'x'"),
        new("update-subquery-where", "UPDATE canary SET v = 'x' WHERE id IN (SELECT id FROM other) OR 1", ValueDependent: true),
        new("replace-select", "REPLACE INTO canary SELECT id, 'r', 0 FROM canary", ValueDependent: true),
        new("insert-on-duplicate", "INSERT INTO canary VALUES (1, 'a', 0) ON DUPLICATE KEY UPDATE v = 'dup'"),
        new("insert-select-duplicate", "INSERT INTO canary SELECT id, v, c2 FROM canary ON DUPLICATE KEY UPDATE v = 'all'", ValueDependent: true),
        new("drop-multiple", "DROP TABLE IF EXISTS nothing_here, canary"),
        new("drop-temporary-only", "DROP TEMPORARY TABLE IF EXISTS canary"),
        new("drop-temp-shadow", "CREATE TEMPORARY TABLE canary (id int); DROP TABLE canary; DROP TABLE canary"),
        new("drop-view-if", "DROP VIEW IF EXISTS canary_v"),
        new("drop-table-view", "DROP TABLE canary_v"),
        new("drop-db-backtick", "DROP DATABASE `{db}`"),
        new("drop-db-if-exists", "DROP DATABASE IF EXISTS {db}"),
        new("drop-schema-comment", "DROP/*x*/SCHEMA/*y*/{db}"),
        new("create-or-replace-table", "CREATE OR REPLACE TABLE canary (id int)"),
        new("create-or-replace-view", "CREATE OR REPLACE VIEW canary_v AS SELECT 1 AS x"),
        new("create-or-replace-table-select", "CREATE OR REPLACE TABLE other AS SELECT 1 AS id"),
        new("truncate-qualified", "TRUNCATE {db}.canary"),
        new("truncate-comment", "TRUNCATE/**/TABLE/**/canary"),
        new("alter-drop-column-if", "ALTER TABLE canary DROP COLUMN IF EXISTS c2"),
        new("alter-add-then-drop", "ALTER TABLE canary ADD COLUMN c3 int, DROP COLUMN c2"),
        new("alter-modify", "ALTER TABLE canary MODIFY v varchar(1)"),
        new("alter-rename", "ALTER TABLE canary RENAME TO canary_gone"),
        new("alter-rename-column", "ALTER TABLE canary RENAME COLUMN c2 TO c9"),
        new("alter-change-column", "ALTER TABLE canary CHANGE c2 c9 int"),
        new("alter-engine", "ALTER TABLE canary ENGINE = MyISAM"),
        new("alter-online", "ALTER ONLINE TABLE canary DROP c2"),
        new("alter-ignore", "ALTER IGNORE TABLE canary DROP c2"),
        new("rename-swap", "RENAME TABLE canary TO tmp_x, other TO canary, tmp_x TO other"),
        new("rename-to-other-db", "CREATE DATABASE IF NOT EXISTS {db}_b; RENAME TABLE canary TO {db}_b.canary"),
        new("create-table-select", "CREATE TABLE copy1 AS SELECT * FROM canary"),
        new("create-table-like", "CREATE TABLE copy2 LIKE canary"),

        // Dynamic SQL.
        new("prepare-drop", "PREPARE s FROM 'DROP TABLE canary'; EXECUTE s"),
        new("prepare-double-quoted", "PREPARE s FROM \"DROP TABLE canary\"; EXECUTE s"),
        new("prepare-var", "SET @q = 'DROP TABLE canary'; PREPARE s FROM @q; EXECUTE s"),
        new("prepare-concat", "PREPARE s FROM CONCAT('DROP ', 'TABLE canary'); EXECUTE s"),
        new("prepare-hex", "PREPARE s FROM 0x44524f50205441424c452063616e617279; EXECUTE s"),
        new("prepare-hidden-quote", "PREPARE s FROM 'SELECT ''x'''; EXECUTE s; PREPARE t FROM 'DELETE FROM canary'; EXECUTE t"),
        new("prepare-escaped-quote", "PREPARE s FROM 'SELECT \\'x\\'; DROP TABLE canary'; EXECUTE s"),
        new("prepare-comment-inside", "PREPARE s FROM 'SELECT 1 /*! ; DROP TABLE canary */'; EXECUTE s"),
        new("prepare-exec-comment", "PREPARE s FROM '/*! DROP TABLE canary */'; EXECUTE s"),
        new("prepare-nbe", "PREPARE s FROM 'SELECT \\'; DROP TABLE canary; #'; EXECUTE s"),
        new("prepare-reuse-name", "PREPARE s FROM 'SELECT 1'; PREPARE s FROM 'DELETE FROM canary'; EXECUTE s"),
        new("prepare-case-name", "PREPARE S FROM 'TRUNCATE canary'; EXECUTE s"),
        new("prepare-backtick-name", "PREPARE `s` FROM 'UPDATE canary SET v = 1'; EXECUTE s"),
        new("execute-immediate", "EXECUTE IMMEDIATE 'DROP TABLE canary'"),
        new("execute-immediate-concat", "EXECUTE IMMEDIATE CONCAT('TRUNCATE ', 'canary')"),
        new("begin-not-atomic", "BEGIN NOT ATOMIC DROP TABLE canary; END"),
        new("begin-not-atomic-if", "BEGIN NOT ATOMIC IF 1 THEN DELETE FROM canary; END IF; END"),
        new("procedure-call", "CREATE PROCEDURE p() BEGIN DROP TABLE canary; END; CALL p()"),
        new("procedure-sql", "CREATE PROCEDURE p() DELETE FROM canary; CALL p()"),
        new("function-side-effect", "CREATE FUNCTION f() RETURNS int BEGIN DELETE FROM canary; RETURN 1; END; SELECT f()"),
        new("trigger", "CREATE TRIGGER tr AFTER INSERT ON other FOR EACH ROW DELETE FROM canary; INSERT INTO other VALUES (5, 'e')"),
        new("event", "CREATE EVENT ev ON SCHEDULE AT CURRENT_TIMESTAMP DO DROP TABLE canary"),
        new("view-replace-check", "CREATE OR REPLACE ALGORITHM=MERGE VIEW canary_v AS SELECT id FROM other"),
        new("do-subquery", "DO (SELECT count(*) FROM canary)"),
        new("handler", "HANDLER canary OPEN; HANDLER canary READ FIRST; HANDLER canary CLOSE"),

        // Transactions and session state around destructive statements.
        new("transaction-rollback", "START TRANSACTION; DELETE FROM canary; ROLLBACK"),
        new("transaction-commit", "BEGIN; UPDATE canary SET v = 'x'; COMMIT"),
        new("autocommit-off", "SET autocommit = 0; DELETE FROM canary WHERE id = 2; COMMIT"),
        new("set-sql-mode-then-string", "SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SELECT 'a\\'; DROP TABLE canary; #'"),
        new("set-ansi-then-string", "SET sql_mode = 'ANSI_QUOTES'; SELECT \"; DROP TABLE canary; \""),
        new("set-session-mode", "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES'); SELECT 'x\\'; TRUNCATE canary; #'"),
        new("use-then-drop", "USE {db}; DROP TABLE other"),
        new("lock-then-delete", "LOCK TABLES canary WRITE; DELETE FROM canary; UNLOCK TABLES"),
        new("savepoint", "BEGIN; SAVEPOINT a; DELETE FROM canary; RELEASE SAVEPOINT a; COMMIT"),
        new("error-stops", "SELECT * FROM no_such_table; DROP TABLE canary"),
        new("load-local", "LOAD DATA LOCAL INFILE '/nonexistent' INTO TABLE canary"),
        new("load-local-replace", "LOAD DATA LOCAL INFILE '/nonexistent' REPLACE INTO TABLE canary"),
        new("select-outfile", "SELECT * FROM canary INTO OUTFILE '/tmp/gatehouse-oracle-never'"),
        new("keyword-as-name", "SELECT 1 AS `drop`; DROP TABLE canary"),
        new("unicode-space", "SELECT 1;\u00a0DROP TABLE canary"),
        new("null-byte-comment", "SELECT 1 /* \0 */; DROP TABLE canary"),
        new("utf8-name", "SELECT 1 AS `é`; DELETE FROM canary"),
        new("delimiter-cli-only", "DELIMITER //\nDROP TABLE canary//"),
        new("values-table", "VALUES (1); DELETE FROM canary"),
        new("with-delete", "WITH x AS (SELECT 1) DELETE FROM canary"),
        new("with-update", "WITH x AS (SELECT 1) UPDATE canary SET v = 'w'"),
        new("parenthesised-select-then", "(SELECT 1); DROP TABLE canary"),
        new("select-for-update", "SELECT * FROM canary FOR UPDATE; DELETE FROM canary"),
        new("flush-then-drop", "FLUSH TABLES canary; DROP TABLE canary"),
        new("optimize", "OPTIMIZE TABLE canary; TRUNCATE TABLE canary"),
        new("sequence-drop", "CREATE SEQUENCE sq; DROP SEQUENCE sq; DROP TABLE canary"),
        new("drop-index", "CREATE INDEX ix ON canary (v); DROP INDEX ix ON canary"),
        new("alter-drop-index", "ALTER TABLE canary ADD INDEX ix (v), DROP INDEX ix"),
        new("alter-drop-primary", "ALTER TABLE canary DROP PRIMARY KEY"),
        new("alter-partition", "ALTER TABLE canary PARTITION BY HASH (id) PARTITIONS 2; ALTER TABLE canary TRUNCATE PARTITION p0"),
        new("alter-partition-truncate-all", "ALTER TABLE canary PARTITION BY HASH (id) PARTITIONS 2; ALTER TABLE canary TRUNCATE PARTITION ALL"),
        new("alter-engine-blackhole", "ALTER TABLE canary ENGINE = BLACKHOLE"),
        new("alter-modify-lossy", "SET sql_mode = ''; ALTER TABLE canary MODIFY v int", ValueDependent: true),
        new("alter-modify-lossy-statement", "SET STATEMENT sql_mode = '' FOR ALTER TABLE canary MODIFY v int", ValueDependent: true),
        new("create-or-replace-sequence", "CREATE OR REPLACE SEQUENCE canary"),
        new("create-or-replace-table-like", "CREATE OR REPLACE TABLE canary LIKE other"),
        new("create-or-replace-view-over-table", "CREATE OR REPLACE VIEW other AS SELECT 1 AS id"),
        new("set-statement-delete", "SET STATEMENT max_statement_time = 0 FOR DELETE FROM canary"),
        new("set-statement-drop", "SET STATEMENT sql_mode = '' FOR DROP TABLE canary"),
        new("set-statement-truncate", "SET STATEMENT sql_mode = '' FOR TRUNCATE canary"),
        new("set-statement-update", "SET STATEMENT sql_mode = '' FOR UPDATE canary SET v = 'x'"),
        new("set-statement-alter", "SET STATEMENT sql_mode = '' FOR ALTER TABLE canary DROP c2"),
        new("set-statement-drop-db", "SET STATEMENT sql_mode = '' FOR DROP DATABASE {db}"),
        new("update-through-view", "UPDATE canary_v SET v = 'x'"),
        new("delete-through-view", "DELETE FROM canary_v"),
        new("delete-limit-huge", "DELETE FROM canary LIMIT 18446744073709551615", ValueDependent: true),
        new("update-limit-huge", "UPDATE canary SET v = 'x' ORDER BY id LIMIT 99", ValueDependent: true),
        new("delete-where-comment-tautology", "DELETE FROM canary WHERE /*!99999 id = 1 AND */ 1", ValueDependent: true),
        new("delete-limit-future", "DELETE FROM canary /*!99999 LIMIT 1 */"),
        new("update-limit-future", "UPDATE canary SET v = 'x' /*M!999999 LIMIT 1 */"),
        new("delete-join-future-where", "DELETE canary FROM canary /*!99999 WHERE id = 1 */"),
        new("prepare-future-where", "PREPARE s FROM 'DELETE FROM canary /*!99999 WHERE id = 1 */'; EXECUTE s"),
        new("exec-empty", "DELETE FROM canary /*!*/ WHERE id = 1"),
        new("exec-nested-future", "DELETE FROM canary /*!99999 /*! WHERE id = 1 */ */"),
        new("xa-delete", "XA START 'x'; DELETE FROM canary; XA END 'x'; XA COMMIT 'x' ONE PHASE"),
        new("alter-partition-drop", "ALTER TABLE canary PARTITION BY RANGE (id) (PARTITION p0 VALUES LESS THAN (2), PARTITION p1 VALUES LESS THAN MAXVALUE); ALTER TABLE canary DROP PARTITION p0"),
    ];

    /// <summary>Every case: the written ones, then each core statement under every wrapper.</summary>
    public static IReadOnlyList<MySqlOracleCase> All(string database)
    {
        var cases = new List<MySqlOracleCase>();
        foreach (var c in Written)
        {
            cases.Add(c with { Sql = c.Sql.Replace("{db}", database, StringComparison.Ordinal) });
        }

        // Which executable-comment versions the server runs: a WHERE inside one bounds the DELETE only if it runs.
        foreach (var version in Versions)
        {
            cases.Add(new MySqlOracleCase($"version/{version}/delete-where", $"DELETE FROM canary /*!{version} WHERE id = 1 */"));
            cases.Add(new MySqlOracleCase($"version/M{version}/delete-where", $"DELETE FROM canary /*M!{version} WHERE id = 1 */"));
            cases.Add(new MySqlOracleCase($"version/{version}/update-where", $"UPDATE canary SET v = 'x' /*!{version} WHERE id = 1 */"));
            cases.Add(new MySqlOracleCase($"version/{version}/drop", $"/*!{version} DROP TABLE canary */"));
            cases.Add(new MySqlOracleCase($"version/M{version}/drop", $"/*M!{version} DROP TABLE canary */"));
            cases.Add(new MySqlOracleCase($"version/{version}/glued-drop", $"/*!{version}DROP TABLE canary*/"));
        }

        // Comment boundaries per character: a comment the server sees and the classifier does not (or one that ends
        // earlier for the classifier) can hide a WHERE from the server or a statement from the classifier.
        for (var c = 0; c <= 0x20; c++)
        {
            AddBoundary(cases, ((char)c).ToString(), $"{c:x2}");
        }

        foreach (var c in new[] { '\u007f', '\u0085', '\u00a0', '\u2028', '\u3000' })
        {
            AddBoundary(cases, c.ToString(), $"{(int)c:x4}");
        }

        var random = new Random(20260101); // fixed, so a failure names the same text on every run
        for (var i = 0; i < Core.Length; i++)
        {
            var core = Core[i].Replace("{db}", database, StringComparison.Ordinal);
            foreach (var (wrapper, text) in Wrap(core, random))
            {
                cases.Add(new MySqlOracleCase($"core{i}/{wrapper}", text));
            }
        }

        return cases;
    }

    private static void AddBoundary(List<MySqlOracleCase> cases, string c, string name)
    {
        cases.Add(new MySqlOracleCase($"boundary/{name}/dash-start-where", $"DELETE FROM canary --{c} WHERE id = 1"));
        cases.Add(new MySqlOracleCase($"boundary/{name}/dash-end-where", $"DELETE FROM canary -- x{c}WHERE id = 1"));
        cases.Add(new MySqlOracleCase($"boundary/{name}/hash-end-where", $"DELETE FROM canary # x{c}WHERE id = 1"));
        cases.Add(new MySqlOracleCase($"boundary/{name}/dash-start-drop", $"SELECT 1 --{c}; DROP TABLE canary"));
        cases.Add(new MySqlOracleCase($"boundary/{name}/dash-end-drop", $"SELECT 1 -- x{c}; DROP TABLE canary"));
        cases.Add(new MySqlOracleCase($"boundary/{name}/hash-end-drop", $"SELECT 1 # x{c}; DROP TABLE canary"));
        cases.Add(new MySqlOracleCase($"boundary/{name}/space-drop", $"DROP{c}TABLE{c}canary"));
        cases.Add(new MySqlOracleCase($"boundary/{name}/space-delete-where", $"DELETE{c}FROM{c}canary{c}WHERE{c}id = 1"));
    }

    private static IEnumerable<(string Wrapper, string Text)> Wrap(string core, Random random)
    {
        var quoted = core.Replace("'", "''", StringComparison.Ordinal);
        yield return ("plain", core);
        yield return ("block-comments", Separate(core, " /* x */ "));
        yield return ("hash-comments", Separate(core, " #c\n"));
        yield return ("dash-comments", Separate(core, " -- c\n"));
        yield return ("empty-comments", Separate(core, "/**/"));
        yield return ("exec", $"/*! {core} */");
        yield return ("exec-50000", $"/*!50000 {core} */");
        yield return ("exec-mariadb", $"/*M! {core} */");
        yield return ("exec-future", $"/*!99999 {core} */");
        yield return ("case", FlipCase(core, random));
        yield return ("disguise", Disguise(core, random));
        yield return ("after-select", $"SELECT 1; {core}");
        yield return ("before-select", $"{core}; SELECT 1");
        yield return ("hidden-string", $"SELECT '{quoted}'");
        yield return ("hidden-block", $"SELECT 1 /* ; {core} */");
        yield return ("hidden-dash", $"SELECT 1 -- ; {core}");
        yield return ("hidden-hash", $"SELECT 1 # ; {core}");
        yield return ("hidden-backtick", $"SELECT 1 AS `; {core}; `");
        yield return ("hidden-double", $"SELECT \"; {core.Replace("\"", "\"\"", StringComparison.Ordinal)}; \"");
        yield return ("dash-no-space", $"SELECT 1 --x\n; {core}");
        yield return ("backslash-string", $"SELECT 'a\\'; {core}; #'");
        yield return ("backslash-double", $"SELECT \"a\\\"; {core}; #\"");
        yield return ("doubled-quote", $"SELECT 'a'''; {core}; #'");
        yield return ("prepare", $"PREPARE s FROM '{quoted}'; EXECUTE s");
        yield return ("prepare-var", $"SET @q = '{quoted}'; PREPARE s FROM @q; EXECUTE s");
        yield return ("execute-immediate", $"EXECUTE IMMEDIATE '{quoted}'");
        yield return ("exec-in-select", $"SELECT 1 /*! ; {core} */");
    }

    private static string Separate(string sql, string separator)
    {
        // Only spaces outside quotes, so string contents keep their meaning.
        var builder = new StringBuilder();
        var quoted = false;
        foreach (var c in sql)
        {
            if (c == '\'')
            {
                quoted = !quoted;
            }

            builder.Append(c == ' ' && !quoted ? separator : c.ToString());
        }

        return builder.ToString();
    }

    private static string FlipCase(string sql, Random random)
    {
        var builder = new StringBuilder();
        var quoted = false;
        foreach (var c in sql)
        {
            if (c == '\'')
            {
                quoted = !quoted;
            }

            // Key words are upper case in the core and names lower case: only key words change (names are case-sensitive).
            builder.Append(!quoted && char.IsUpper(c) && random.Next(2) == 0 ? char.ToLowerInvariant(c) : c);
        }

        return builder.ToString();
    }

    /// <summary>Each space outside quotes becomes a random comment or whitespace, and key words change case.</summary>
    private static string Disguise(string sql, Random random)
    {
        string[] separators = [" /* x */ ", "/**/", "\t", "\n", " -- c\n", " #c\n", "/*+ hint */", "\r\n"];
        var builder = new StringBuilder();
        var quoted = false;
        foreach (var c in FlipCase(sql, random))
        {
            if (c == '\'')
            {
                quoted = !quoted;
            }

            builder.Append(c == ' ' && !quoted ? separators[random.Next(separators.Length)] : c.ToString());
        }

        return builder.ToString();
    }
}
