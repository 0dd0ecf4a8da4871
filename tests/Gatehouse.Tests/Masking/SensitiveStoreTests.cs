using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Gatehouse.Protocols.Sql;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Tests.Masking;

/// <summary>
/// A masked session must not launder a sensitive value: store it where masking cannot follow it (another
/// column or table, a setting, a variable, a notification, a large object) or rename a table out of a rule's
/// reach. Data entry into a sensitive column stays allowed, and reads only return (masked) results.
/// </summary>
public sealed class SensitiveStoreTests
{
    private static readonly MaskingSession Session = new MaskingPolicy(
    [
        new() { Name = "cards", Columns = [Pattern("card")], Action = new MaskAction("cards", MaskStrategy.Partial) },
        new() { Name = "emails", Columns = [Pattern("shop.people.email")], Action = new MaskAction("emails", MaskStrategy.Redact) },
    ], ContentKinds.None, new Dictionary<ContentKinds, MaskAction>(), DetectorScope.Derived, strict: true, tokenKey: []).ForSession([], "db")!;

    private static readonly HashSet<string> OwnFunctions = new(StringComparer.Ordinal) { "launder" };

    // A view's column that shows card (CREATE VIEW people_v AS SELECT card AS cc ...).
    private static readonly SensitiveViewColumns ViewColumns = ViewShowing("people_v", "cc");

    private static SensitiveViewColumns ViewShowing(string view, string column)
    {
        var columns = new SensitiveViewColumns();
        columns.Add(view, column);
        return columns;
    }

    private static ColumnPattern Pattern(string text) => ColumnPattern.TryParse(text, out var p) ? p : throw new ArgumentException(text);

    private static string? Pg(string sql, bool functionsKnown = true)
    {
        var bytes = Encoding.UTF8.GetBytes(sql);
        var classification = new SqlClassification();
        new PgSqlClassifier().Classify(bytes, classification);
        var lexer = new PgLexer(bytes);
        return StrictReferences.FindStore(ref lexer, bytes, classification.Statements[0].Kind, Session,
            functionsKnown ? OwnFunctions : null, functionsKnown ? ViewColumns : null);
    }

    private static string? MySql(string sql)
    {
        var bytes = Encoding.UTF8.GetBytes(sql);
        var classification = new SqlClassification();
        new MySqlSqlClassifier().Classify(bytes, classification);
        var lexer = new MySqlLexer(bytes);
        return StrictReferences.FindStore(ref lexer, bytes, classification.Statements[0].Kind, Session,
            new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "launder" }, ViewColumns);
    }

    [Theory]
    [InlineData("UPDATE people SET name = card WHERE id = 1", "card")]
    [InlineData("UPDATE people SET card = 'x', name = upper(card)", "card")]
    [InlineData("UPDATE people SET (name, note) = (SELECT card, email FROM people WHERE id = 2)", "card")]
    [InlineData("INSERT INTO notes (body) SELECT card FROM people", "card")]
    [InlineData("INSERT INTO notes VALUES ((SELECT \"card\" FROM people LIMIT 1))", "card")]
    [InlineData("INSERT INTO notes SELECT * FROM people", "every column")]
    [InlineData("INSERT INTO notes SELECT p.* FROM people p", "every column")]
    [InlineData("INSERT INTO notes TABLE people", "every column")]
    [InlineData("CREATE TABLE stash AS SELECT id, card AS c FROM people", "card")]
    [InlineData("CREATE TABLE stash AS TABLE people", "every column")]
    [InlineData("CREATE MATERIALIZED VIEW m AS SELECT card FROM people", "card")]
    [InlineData("SELECT card INTO stash FROM people", "card")]
    [InlineData("SELECT id, Card INTO TEMP stash FROM people", "card")]
    [InlineData("SELECT set_config('x.y', card, false) FROM people", "card")]
    [InlineData("SELECT pg_notify('leak', card) FROM people", "card")]
    [InlineData("SELECT lo_from_bytea(0, convert_to(card, 'UTF8')) FROM people", "card")]
    [InlineData("SELECT setval('s', replace(card, ' ', '')::bigint) FROM people WHERE id = 1", "card")] // SELECT last_value FROM s
    [InlineData("SELECT pg_try_advisory_lock(replace(card, ' ', '')::bigint) FROM people", "card")] // pg_locks shows the key
    [InlineData("WITH d AS (UPDATE people SET name = 'x' RETURNING card) INSERT INTO notes SELECT card FROM d", "card")]
    [InlineData("UPDATE notes SET body = p::text FROM people p", "whole row")]
    [InlineData("INSERT INTO notes (body) SELECT launder()", "function")]
    [InlineData("INSERT INTO notes (body) SELECT query_to_xml('select card from people', true, false, '')", "runs SQL text")]
    [InlineData("INSERT INTO notes (body) SELECT query_to_xml((('select card from people')), true, false, '')", "runs SQL text")]
    [InlineData("DO $$ BEGIN INSERT INTO notes SELECT card FROM people; END $$", "string")]
    [InlineData("ALTER TABLE people RENAME COLUMN card TO c", "card")]
    [InlineData("ALTER TABLE people RENAME TO folks", "\"people\", which a masking rule names")]
    [InlineData("ALTER TABLE shop.people SET SCHEMA elsewhere", "which a masking rule names")]
    [InlineData("ALTER SCHEMA shop RENAME TO s2", "\"shop\", which a masking rule names")]
    [InlineData("ALTER TABLE ledger_low DETACH PARTITION ledger_low_a", "detaches")]
    [InlineData("ALTER TABLE people_child NO INHERIT people", "detaches")]
    [InlineData("UPDATE people SET name = 'x' WHERE card = '4111 1111 1111 1111'", "card")]
    [InlineData("PREPARE p AS INSERT INTO notes SELECT card FROM people", "card")] // over-inclusive: a read outside the targets
    [InlineData("INSERT INTO notes (body) SELECT reverse(z) FROM people AS t(i, n, z)", "alias list")] // z is card, by position
    [InlineData("INSERT INTO notes (body) SELECT ts_stat('select to_tsvector(ca' || 'rd) from people')::text", "runs SQL text")]
    [InlineData("CREATE TEMP TABLE stash AS EXECUTE rev", "prepared statement")] // PREPARE rev AS SELECT reverse(card) …: allowed, it only returns
    [InlineData("create table stash as execute rev(1)", "prepared statement")]
    public void PostgreSQL_statements_that_would_launder_a_sensitive_value_are_refused(string sql, string why)
        => Assert.Contains(why, Pg(sql) ?? "(allowed)", StringComparison.Ordinal);

    [Theory]
    [InlineData("SELECT card, upper(card) FROM people")]
    [InlineData("SELECT * FROM people")]
    [InlineData("SELECT name INTO stash FROM people")]
    [InlineData("CREATE INDEX ON shop.people (name)")]
    [InlineData("ALTER TABLE notes RENAME COLUMN body TO card")] // into a rule's reach, not out of it
    [InlineData("ALTER TABLE shop.people RENAME COLUMN name TO full_name")]
    [InlineData("ALTER TABLE shop.people RENAME name TO full_name")]
    [InlineData("INSERT INTO people (id, card) VALUES (1, '4111 1111 1111 1111')")]
    [InlineData("INSERT INTO shop.people AS p (id, card, email) VALUES ($1, $2, $3) RETURNING id")]
    [InlineData("UPDATE people SET card = $1, note = 'changed' WHERE id = $2")]
    [InlineData("INSERT INTO people (id, card) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET card = excluded.card")]
    [InlineData("DELETE FROM people WHERE id = 1")]
    [InlineData("BEGIN")]
    [InlineData("SET search_path = shop, public")]
    [InlineData("CREATE TABLE t (id int, name text)")]
    [InlineData("INSERT INTO notes (body) VALUES (lower('x'))")]
    [InlineData("UPDATE people SET card = '4000 0000 0000 0002', note = 'new card' WHERE id = 3")] // a string stored is data
    [InlineData("SELECT x::text FROM generate_series(1, 3) x")]
    [InlineData("INSERT INTO notes (body) SELECT upper(z) FROM (SELECT name FROM people) s(z)")] // renamed, but named where read
    [InlineData("EXECUTE rev")] // its result is masked (strict mode counts EXECUTE), and a storing body was judged at PREPARE
    public void PostgreSQL_reads_and_data_entry_are_allowed(string sql) => Assert.Null(Pg(sql));

    [Fact]
    public void A_statement_of_many_assignments_and_strings_is_judged_whole()
    {
        // 160,000 tokens: each SET target, INSERT list and string once started a scan of its own (quadratic, hours
        // for a 16 MiB statement); lists are now marked once and call nesting read in one pass.
        var many = string.Concat(Enumerable.Repeat("set = 'card', ", 40_000));
        Assert.Contains("string", Pg($"UPDATE notes SET {many} body = lower('card') WHERE id = 1"), StringComparison.Ordinal);
        Assert.Null(Pg($"UPDATE notes SET {many} body = 'x' WHERE id = 1"));
    }

    [Fact]
    public void Until_the_databases_functions_are_known_a_store_that_calls_any_function_is_refused()
    {
        Assert.Contains("try again", Pg("INSERT INTO notes (body) VALUES (lower('x'))", functionsKnown: false), StringComparison.Ordinal);
        Assert.Null(Pg("INSERT INTO shop.notes (body) VALUES ('x')", functionsKnown: false));
        Assert.Null(Pg("SELECT lower('x')", functionsKnown: false));
    }

    [Fact]
    public void A_view_column_that_shows_a_sensitive_one_counts_like_it()
    {
        Assert.Contains("\"cc\"", Pg("INSERT INTO notes (body) SELECT cc FROM people_v"), StringComparison.Ordinal);
        Assert.Contains("\"CC\"", Pg("CREATE TABLE stash AS SELECT v.\"CC\" FROM people_v v"), StringComparison.Ordinal); // compared ignoring case: over-inclusive
        Assert.Contains("cc", MySql("insert into notes select `cc` from people_v"), StringComparison.Ordinal);
        Assert.Null(Pg("INSERT INTO notes (body) SELECT name FROM people_v"));
        Assert.Null(Pg("UPDATE people_v SET cc = $1 WHERE id = 1")); // data entry into it
        Assert.Null(Pg("INSERT INTO notes (body) SELECT cc FROM people")); // another relation's cc: the view is not read
    }

    [Fact]
    public void What_other_sessions_run_counts_as_sensitive_and_show_stores_nothing()
    {
        Assert.Contains("processlist", MySql("insert into notes select info from information_schema.processlist"), StringComparison.Ordinal);
        Assert.Contains("pg_stat_activity", Pg("CREATE TABLE seen AS SELECT query FROM pg_stat_activity"), StringComparison.Ordinal);
        Assert.Null(MySql("show full processlist"));
    }

    [Fact]
    public void Until_the_databases_views_are_known_a_store_that_reads_a_relation_is_refused()
    {
        Assert.Contains("views", Pg("INSERT INTO notes (body) SELECT name FROM people_v", functionsKnown: false), StringComparison.Ordinal);
        Assert.Contains("views", Pg("UPDATE notes SET body = title WHERE id = 1", functionsKnown: false), StringComparison.Ordinal);
        Assert.Null(Pg("INSERT INTO notes (body) VALUES ('x')", functionsKnown: false));
        Assert.Null(Pg("SELECT name FROM people_v", functionsKnown: false)); // a read that stores nothing
    }

    [Theory]
    [InlineData("SELECT card INTO @v FROM people", "card")]
    [InlineData("SELECT @v := card FROM people", "card")]
    [InlineData("SET @v = (SELECT card FROM people LIMIT 1)", "card")]
    [InlineData("INSERT INTO notes SET body = (SELECT card FROM people LIMIT 1)", "card")]
    [InlineData("INSERT INTO people (id, card) VALUES (1, 'x') ON DUPLICATE KEY UPDATE name = card", "card")]
    [InlineData("REPLACE INTO notes SELECT * FROM people", "every column")]
    [InlineData("CREATE TABLE stash SELECT `card` FROM people", "card")]
    [InlineData("INSERT INTO notes (body) SELECT LAUNDER()", "function")]
    [InlineData("SELECT card INTO OUTFILE '/tmp/x' FROM people", "card")]
    [InlineData("RENAME TABLE shop.people TO shop.folks", "which a masking rule names")]
    [InlineData("PREPARE s FROM 'insert into notes select card from people'", "string")]
    [InlineData("GET DIAGNOSTICS CONDITION 1 @m = MESSAGE_TEXT", "diagnostic")]
    [InlineData("SELECT GET_LOCK(card, 0) FROM people LIMIT 1", "card")] // the metadata lock views show its name
    [InlineData("CALL get_card(1, @c)", "OUT parameter")] // then SELECT reverse(@c)
    [InlineData("SET STATEMENT max_statement_time = 5 FOR CALL get_card(1, @c)", "OUT parameter")]
    public void MySQL_statements_that_would_launder_a_sensitive_value_are_refused(string sql, string why)
        => Assert.Contains(why, MySql(sql) ?? "(allowed)", StringComparison.Ordinal);

    [Theory]
    [InlineData("SELECT card FROM people")]
    [InlineData("INSERT INTO people (id, card) VALUES (1, 'x') ON DUPLICATE KEY UPDATE card = VALUES(card)")]
    [InlineData("INSERT INTO people SET id = 1, card = '4111'")]
    [InlineData("UPDATE people SET card = ? WHERE id = ?")]
    [InlineData("SELECT name INTO @v FROM people LIMIT 1")]
    [InlineData("SET NAMES utf8mb4")]
    [InlineData("CALL refresh_totals(1, 'x')")] // no variable to fill: what it returns is masked
    public void MySQL_reads_and_data_entry_are_allowed(string sql) => Assert.Null(MySql(sql));

    [Fact]
    public void Comments_between_words_and_the_case_of_key_words_never_change_a_decision()
    {
        string[] pg =
        [
            "UPDATE people SET name = card WHERE id = 1", "INSERT INTO notes SELECT * FROM people", "CREATE TABLE stash AS TABLE people",
            "SELECT card INTO stash FROM people", "SELECT set_config('x.y', card, false) FROM people", "ALTER TABLE people RENAME TO folks",
            "UPDATE people SET card = $1 WHERE id = $2", "INSERT INTO people (id, card) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET card = excluded.card",
            "SELECT name INTO stash FROM people", "SELECT card FROM people",
        ];
        string[] mySql =
        [
            "SELECT card INTO @v FROM people", "SET @v = (SELECT card FROM people LIMIT 1)", "REPLACE INTO notes SELECT * FROM people",
            "INSERT INTO people (id, card) VALUES (1, 'x') ON DUPLICATE KEY UPDATE card = VALUES(card)", "INSERT INTO people SET id = 1, card = '4111'",
        ];
        var pgSeparators = new[] { " /* x */ ", "/**/", "\t", "\n", " -- c\n", "/* /* nested */ */" };
        Prop.ForAll(Gen.Choose(0, int.MaxValue).ToArbitrary(), seed =>
        {
            var random = new Random(seed);
            foreach (var sql in pg)
            {
                Assert.Equal(Pg(sql) is null, Pg(PgDisguise(sql, pgSeparators, random)) is null);
            }

            foreach (var sql in mySql)
            {
                Assert.Equal(MySql(sql) is null, MySql(Policy.MySqlClassifierTests.Disguise(sql, random)) is null);
            }
        }).Check(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    /// <summary>Each space outside quotes becomes a comment or other whitespace; letters outside quotes change case.</summary>
    private static string PgDisguise(string sql, string[] separators, Random random)
    {
        var builder = new StringBuilder();
        var quoted = false;
        foreach (var c in sql)
        {
            quoted ^= c == '\'';
            builder.Append(c == ' ' && !quoted ? separators[random.Next(separators.Length)]
                : !quoted && char.IsLetter(c) && random.Next(2) == 0 ? char.ToUpperInvariant(c).ToString() : c.ToString());
        }

        return builder.ToString();
    }

    [Fact]
    public void A_repeated_storing_statement_is_judged_once_while_the_function_names_stay_the_same()
    {
        var stores = new StoreVerdicts(Session);
        string? Judge(string sql, IReadOnlySet<string>? functions)
        {
            var bytes = Encoding.UTF8.GetBytes(sql);
            var lexer = new PgLexer(bytes);
            return stores.Find(ref lexer, bytes, StatementKind.Write, functions, functions is null ? null : ViewColumns);
        }

        var functions = new HashSet<string>(StringComparer.Ordinal) { "f" };
        Assert.Null(Judge("INSERT INTO notes (body) SELECT g(1)", functions));
        Assert.Null(Judge("INSERT INTO notes (body) SELECT g(1)", functions)); // remembered
        var reloaded = new HashSet<string>(StringComparer.Ordinal) { "g" }; // DDL created g: a new set, judged again
        Assert.Contains("function", Judge("INSERT INTO notes (body) SELECT g(1)", reloaded), StringComparison.Ordinal);
        Assert.Contains("try again", Judge("INSERT INTO notes (body) SELECT g(1)", null), StringComparison.Ordinal);
        Assert.Contains("card", Judge("UPDATE people SET name = card", reloaded), StringComparison.Ordinal);
        Assert.Contains("card", Judge("UPDATE people SET name = card", reloaded), StringComparison.Ordinal);
        for (var i = 0; i < 20; i++)
        {
            Assert.Null(Judge($"INSERT INTO notes (body) VALUES ('{i}')", reloaded)); // more texts than slots
        }

        Assert.Contains("card", Judge("UPDATE people SET name = card", reloaded), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_column_rules_no_statement_is_refused()
    {
        // Detectors alone name no sensitive column, so "*" or a whole row would only be false alarms.
        var detectorsOnly = new MaskingPolicy([], ContentKinds.All,
            Enum.GetValues<ContentKinds>().Where(k => k is not (ContentKinds.None or ContentKinds.All)).ToDictionary(k => k, k => new MaskAction("d", MaskStrategy.Redact)),
            DetectorScope.Derived, strict: true, tokenKey: []).ForSession([], "db")!;
        var bytes = "INSERT INTO notes SELECT * FROM people"u8.ToArray();
        var lexer = new PgLexer(bytes);
        Assert.Null(StrictReferences.FindStore(ref lexer, bytes, StatementKind.Write, detectorsOnly, OwnFunctions, ViewColumns));
        Assert.Contains("every column", Pg("INSERT INTO notes SELECT * FROM people"), StringComparison.Ordinal); // with a column rule
    }
}
