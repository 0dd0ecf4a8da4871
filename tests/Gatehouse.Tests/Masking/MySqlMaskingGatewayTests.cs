using Gatehouse.Host.Commands;
using System.Buffers.Binary;
using System.Text;
using Gatehouse.Tests.MySql;
using Gatehouse.Tests.Postgres;

namespace Gatehouse.Tests.Masking;

/// <summary>
/// Masking on the MySQL wire against the real MariaDB, as the demo configures it (a contractor sees
/// card_number partially masked and email redacted; analysts are exempt): text rows through the `mariadb`
/// client, binary rows (COM_STMT_EXECUTE, and COM_STMT_FETCH of a cursor) through the raw protocol client,
/// and every way around a rule a MySQL statement offers — aliases, t.*, views, views over views, derived
/// tables and CTEs that take a real table's name, expressions, UNION, SQL-level PREPARE/EXECUTE.
/// </summary>
[Collection("gateway")]
public sealed class MySqlMaskingGatewayTests(GatewayFixture fixture) : IAsyncLifetime
{
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..8];

    private string View => "cards_v_" + _suffix;

    private string ViewOverView => "cards_vv_" + _suffix;

    // Created through the gateway (by an exempt analyst), whose DDL drops the masking catalog at once: a view
    // created behind its back is known to masked sessions within the catalog's minute only.
    public async Task InitializeAsync()
    {
        var created = await MariaDbCli.RunAsync(fixture, fixture.Token(),
            $"CREATE VIEW {View} AS SELECT id, card_number AS cc, upper(email) AS mail, name FROM customers; "
            + $"CREATE VIEW {ViewOverView} AS SELECT cc AS card, name FROM {View};");
        Assert.True(created.ExitCode == 0, created.Stderr);
    }

    public async Task DisposeAsync() => await fixture.MariaDb.QueryAsync($"DROP VIEW IF EXISTS {ViewOverView}; DROP VIEW IF EXISTS {View};");

    private string Contractor => fixture.Token("carol", ["contractors"]);

    private async Task<string[]> AsContractorAsync(string sql)
    {
        var result = await MariaDbCli.RunAsync(fixture, Contractor, sql);
        Assert.True(result.ExitCode == 0, result.Stderr);
        return result.Stdout.TrimEnd('\n').Split('\n');
    }

    [Fact]
    public async Task A_contractor_sees_cards_partially_and_email_redacted_and_an_analyst_sees_them_stored()
    {
        const string Query = "select name, email, card_number from customers order by id";
        Assert.Equal(
        [
            "Ada Lovelace\t[redacted]\t**** **** **** 1111",
            "Alan Turing\t[redacted]\t**** **** **** 0004",
            "Grace Hopper\t[redacted]\t**** **** ***0 009",
        ], await AsContractorAsync(Query));

        var analyst = await MariaDbCli.RunAsync(fixture, fixture.Token(), Query);
        Assert.Equal("Ada Lovelace\tada@example.com\t4111 1111 1111 1111", analyst.Stdout.Split('\n')[0]);
    }

    [Theory]
    [InlineData("select card_number as x from customers order by id limit 1", "**** **** **** 1111")]
    [InlineData("select t.card_number `Name` from customers t order by id limit 1", "**** **** **** 1111")]
    [InlineData("select t.* from customers t order by id limit 1", "1\tAda Lovelace\t[redacted]\t**** **** **** 1111")]
    [InlineData("select x.c from (select card_number c from customers order by id limit 1) x", "NULL")] // a materialised derived table: strict
    [InlineData("select name from customers union all select card_number from customers", "NULL")] // the first branch's identity: strict
    [InlineData("select concat(card_number, '') c from customers order by id limit 1", "NULL")]
    [InlineData("select upper(email), substr(card_number, 1, 19) from customers order by id limit 1", "NULL\tNULL")]
    [InlineData("select card_number from customers union all select email from customers limit 1", "**** **** **** 1111")]
    [InlineData("select (select card_number from customers order by id limit 1) s", "NULL")]
    [InlineData("select cast(replace(card_number, ' ', '') as unsigned) n from customers order by id limit 1", "NULL")]
    // Columns read by *, renamed by position: strict mode goes by names, so these count as reading a sensitive one.
    [InlineData("with x(a, b, c, z) as (select * from customers) select reverse(z) from x order by a limit 1", "NULL")]
    [InlineData("select reverse(z) from (select 1 a, '' b, '' c, '' z from dual where false union all select * from customers) s order by a limit 1", "NULL")]
    public async Task Aliases_subqueries_and_expressions_do_not_get_around_a_rule(string sql, string expected)
    {
        var rows = await AsContractorAsync(sql);
        Assert.Equal(expected, rows[0]);
    }

    [Fact]
    public async Task Results_in_a_character_set_the_detectors_cannot_read_are_refused()
    {
        // As UTF-32, '4111 1111 1111 1111' is no text the card detector reads: it came through whole until 2026-12-07.
        var refused = await MariaDbCli.RunAsync(fixture, Contractor, "set character_set_results = utf32; select concat('4111 1111 ', '1111 1111') x");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("default:unreadable", refused.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("1", refused.Stdout, StringComparison.Ordinal);
        Assert.Equal("[redacted]", (await AsContractorAsync("set character_set_results = utf8mb4; select concat('4111 1111 ', '1111 1111') x"))[^1]);
    }

    [Fact]
    public async Task A_cte_or_derived_table_named_like_a_real_table_is_no_way_around()
    {
        // The server reports a materialised CTE or derived table in org_table like a table: here "customers",
        // whose "name" column is no rule's. The gateway sees the statement define that name and judges the column as derived.
        var cte = await AsContractorAsync("with customers as (select card_number as name from app.customers order by id limit 1) select name from customers");
        Assert.DoesNotContain("4111", cte[0], StringComparison.Ordinal);
        var derived = await AsContractorAsync("select name from (select distinct card_number as name from customers) customers order by 1 limit 1");
        Assert.DoesNotContain("3400", derived[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Views_and_views_over_views_are_masked_by_where_their_columns_come_from()
    {
        Assert.Equal("1\t**** **** **** 1111\tNULL\tAda Lovelace", (await AsContractorAsync($"select * from {View} order by id limit 1"))[0]);
        Assert.Equal("**** **** **** 1111\tAda Lovelace", (await AsContractorAsync($"select card, name from {ViewOverView} order by name limit 1"))[0]);
    }

    [Theory]
    [InlineData("select reverse(\"cc\") from {0} order by id limit 1")] // a view's column, quoted the ANSI way
    [InlineData("with \"customers\" as (select card_number as name from customers) select name from \"customers\" order by 1 limit 1")] // a CTE named like the table
    public async Task Ansi_quotes_do_not_hide_a_column_or_a_name_from_strict_mode(string template)
    {
        var sql = "set sql_mode = 'ANSI_QUOTES'; " + string.Format(System.Globalization.CultureInfo.InvariantCulture, template, View);
        Assert.Equal(["NULL"], await AsContractorAsync(sql));
    }

    [Fact]
    public async Task What_other_sessions_run_is_not_shown_to_a_masked_session()
    {
        // Every session shares the gateway's database account, so the process list shows a masked session what
        // an exempt one runs. Caught while it runs (the analyst sees it in the list first).
        var running = MariaDbCli.RunAsync(fixture, fixture.Token(), "select sleep(4), 'typed 4111 1111 1111 1111'");
        var seen = false;
        for (var i = 0; i < 40 && !seen; i++)
        {
            seen = (await MariaDbCli.RunAsync(fixture, fixture.Token(), "select info from information_schema.processlist")).Stdout.Contains("typed 4111", StringComparison.Ordinal);
            await Task.Delay(seen ? 0 : 100);
        }

        Assert.True(seen, "the analyst's statement never showed in the process list: nothing to hide"); // else the rest proves nothing

        var list = await AsContractorAsync("show full processlist");
        string[] engine;
        const string Account = "'gatehouse_native'@'127.0.0.1', 'gatehouse_native'@'localhost'"; // the gateway's: InnoDB's report needs PROCESS
        await fixture.MariaDb.QueryAsync($"GRANT PROCESS ON *.* TO {Account}", "mysql");
        try
        {
            engine = await AsContractorAsync("show engine innodb status");
        }
        finally
        {
            await fixture.MariaDb.QueryAsync($"REVOKE PROCESS ON *.* FROM {Account}", "mysql");
        }

        var info = await AsContractorAsync("select id, info, upper(info) from information_schema.processlist");
        var bytes = await AsContractorAsync("select id, info_binary from information_schema.processlist"); // MariaDB's copy of INFO
        await running;
        Assert.True(list.Length >= 2 && info.Length >= 2 && bytes.Length >= 2);
        Assert.All(bytes, row => Assert.EndsWith("\tNULL", row, StringComparison.Ordinal));
        Assert.All(list, row => Assert.Equal("NULL", row.Split('\t')[7])); // Info
        Assert.All(list, row => Assert.NotEqual("NULL", row.Split('\t')[0])); // Id and the rest show no row's value
        Assert.All(info, row => Assert.EndsWith("\tNULL\tNULL", row, StringComparison.Ordinal));
        Assert.Equal("InnoDB\t\tNULL", Assert.Single(engine)); // its report quotes the last deadlock's statements
    }

    [Fact]
    public async Task The_plan_another_session_runs_is_not_shown_to_a_masked_session()
    {
        // SHOW EXPLAIN FOR shows a running session's conditions as it typed them; every session shares the
        // gateway's account, so a contractor could read an exempt analyst's literals there until 2026-12-07.
        // A row a tenth of a second: the server answers SHOW EXPLAIN between rows.
        var running = MariaDbCli.RunAsync(fixture, fixture.Token(), "select seq from seq_1_to_30 where concat(seq, '') = 'typed-secret-7Q' or sleep(0.1) = 1");
        string? id = null;
        var seen = "";
        for (var i = 0; i < 40 && id is null; i++)
        {
            var list = await MariaDbCli.RunAsync(fixture, fixture.Token(), "select id, info from information_schema.processlist");
            seen = list.Stdout + list.Stderr;
            id = list.Stdout.Split('\n').FirstOrDefault(line => line.Contains("typed-secret-7Q", StringComparison.Ordinal) && !line.Contains("processlist", StringComparison.Ordinal))?.Split('\t')[0];
            await Task.Delay(id is null ? 50 : 0);
        }

        Assert.True(id is not null, seen); // else the rest proves nothing
        var explain = $"show explain format=json for {id}; show explain for {id}; explain format=json for connection {id}";
        var analyst = await MariaDbCli.RunAsync(fixture, fixture.Token(), explain);
        var masked = await AsContractorAsync(explain);
        await running;
        Assert.True(analyst.Stdout.Contains("typed-secret-7Q", StringComparison.Ordinal), analyst.Stderr); // exempt: the plan as the server gives it
        Assert.DoesNotContain("typed-secret-7Q", string.Join('\n', masked), StringComparison.Ordinal);
        Assert.DoesNotContain("seq_1_to_30", string.Join('\n', masked), StringComparison.Ordinal); // the tabular plan's columns too
    }

    [Fact]
    public async Task The_optimizer_trace_does_not_show_values_the_optimizer_computed()
    {
        // The range analysis quotes a constant subquery's result: the reversed card of customer 1 came out whole,
        // in a later statement that names no sensitive column, until 2026-12-07.
        const string Sql = "create temporary table tk (k varchar(64), key(k)); insert into tk values ('a'),('b'),('c'),('d'),('e'); "
            + "set optimizer_trace='enabled=on'; "
            + "select count(*) from tk where k > (select reverse(card_number) from customers order by id limit 1); "
            + "select trace, substr(trace, 1, 100000) from information_schema.optimizer_trace; "
            + "insert into tk select substr(trace, 1, 60) from information_schema.OPTIMIZER_TRACE";
        var masked = await MariaDbCli.RunAsync(fixture, Contractor, Sql);
        Assert.DoesNotContain("1111 1111 1111 1114", masked.Stdout, StringComparison.Ordinal);
        Assert.Contains("NULL\tNULL", masked.Stdout, StringComparison.Ordinal);
        Assert.Contains("1142", masked.Stderr, StringComparison.Ordinal); // storing the trace is refused (masking:store)

        var analyst = await MariaDbCli.RunAsync(fixture, fixture.Token(), Sql.Replace("; insert into tk select substr(trace, 1, 60) from information_schema.OPTIMIZER_TRACE", "", StringComparison.Ordinal));
        Assert.True(analyst.ExitCode == 0, analyst.Stderr);
        Assert.Contains("1111 1111 1111 1114", analyst.Stdout, StringComparison.Ordinal); // the test's premise: the trace does quote it
    }

    [Fact]
    public async Task The_servers_statement_log_is_not_shown_to_a_masked_session()
    {
        const string Account = "'gatehouse_native'@'127.0.0.1', 'gatehouse_native'@'localhost'"; // the gateway's
        // Other tests read the general log's file: it goes on, with the table beside it, and is put back after.
        var generalLog = (await fixture.MariaDb.QueryAsync("SELECT @@GLOBAL.general_log", "mysql")).Trim();
        var logOutput = (await fixture.MariaDb.QueryAsync("SELECT @@GLOBAL.log_output", "mysql")).Trim();
        await fixture.MariaDb.QueryAsync($"SET GLOBAL log_output = 'FILE,TABLE'; SET GLOBAL general_log = 1; GRANT SELECT ON mysql.general_log TO {Account}", "mysql");
        try
        {
            var typed = await MariaDbCli.RunAsync(fixture, fixture.Token(), "select 'typed 4111 1111 1111 1111'");
            Assert.True(typed.ExitCode == 0, typed.Stderr);
            var rows = await AsContractorAsync("select argument, upper(argument) from mysql.general_log where argument like '%typed 4111%'");
            Assert.True(rows.Length >= 2, string.Join('\n', rows)); // the analyst's statement and this one
            Assert.All(rows, row => Assert.Equal("NULL\tNULL", row));
        }
        finally
        {
            await fixture.MariaDb.QueryAsync(
                $"SET GLOBAL log_output = '{logOutput}'; SET GLOBAL general_log = {generalLog}; REVOKE SELECT ON mysql.general_log FROM {Account}; TRUNCATE mysql.general_log", "mysql");
        }
    }

    [Fact]
    public async Task Procedure_analyse_does_not_show_the_values_of_a_sensitive_column()
    {
        // Its min, max and ENUM of every distinct value, for each column * reads, are derived columns naming none.
        var rows = await AsContractorAsync("select * from customers procedure analyse()");
        Assert.Equal(4, rows.Length); // one row per column: id, name, email, card_number
        Assert.All(rows, row => Assert.DoesNotContain("example.com", row, StringComparison.Ordinal));
        Assert.All(rows, row => Assert.DoesNotContain("1111", row, StringComparison.Ordinal));
    }

    [Fact]
    public async Task What_a_view_shows_of_a_sensitive_column_is_masked_in_expressions_too()
    {
        Assert.Equal(["NULL"], await AsContractorAsync($"select reverse(cc) from {View} order by id limit 1"));
        Assert.Equal(["NULL"], await AsContractorAsync($"select lower(mail) from {View} order by id limit 1"));
        Assert.Equal(["NULL"], await AsContractorAsync($"select reverse(v.card) from {ViewOverView} v order by name limit 1"));
        Assert.Equal(["NULL"], await AsContractorAsync($"select reverse(x) from (select cc as x from {View}) s order by 1 limit 1"));
        Assert.Equal(["ADA LOVELACE"], await AsContractorAsync($"select upper(name) from {View} order by id limit 1")); // its other columns stay plain
    }

    [Fact]
    public async Task Sql_level_prepare_and_execute_are_masked()
    {
        var rows = await AsContractorAsync("""
            prepare s from 'select card_number, concat(email, "") from customers order by id limit 1';
            execute s;
            deallocate prepare s;
            """);
        Assert.Equal("**** **** **** 1111\tNULL", rows[0]);
    }

    [Fact]
    public async Task A_contractor_cannot_launder_a_card_number_into_another_column_table_or_variable()
    {
        var notes = "notes_" + _suffix;
        await fixture.MariaDb.QueryAsync($"CREATE TABLE {notes} (id int primary key, body text)");
        try
        {
            string[] laundering =
            [
                $"insert into {notes} select id, card_number from customers",
                $"create table {notes}_copy select `card_number` from customers",
                $"insert into {notes} (id, body) values (9, 'x') on duplicate key update body = (select email from customers limit 1)",
                "select card_number into @v from customers limit 1",
                "set @v = (select card_number from customers order by id limit 1)",
                "select @w := email from customers",
                "alter table customers rename column card_number to cc",
                // A view shows card under names no rule has: its columns count by where they come from.
                $"insert into {notes} select id, cc from {View}",
                $"create table {notes}_copy select card from {ViewOverView}",
                $"select mail into @v from {View} limit 1",
                // Under ANSI_QUOTES "card_number" is the column, not a string: every sql_mode is judged.
                $"set sql_mode = 'ANSI_QUOTES'; insert into {notes} (id, body) select id, \"card_number\" from customers",
            ];
            foreach (var sql in laundering)
            {
                var result = await MariaDbCli.RunAsync(fixture, Contractor, sql + "; select 'after', @v");
                Assert.True(result.ExitCode != 0, $"not refused: {sql}");
                Assert.Contains("masking:store", result.Stderr, StringComparison.Ordinal);
                Assert.Contains("1142", result.Stderr, StringComparison.Ordinal);
            }

            // Nothing ran, and typing a value in is still data entry.
            Assert.DoesNotContain("4111", await fixture.MariaDb.QueryAsync($"SELECT * FROM {notes}"), StringComparison.Ordinal);
            Assert.Contains("card_number", await fixture.MariaDb.QueryAsync("SHOW COLUMNS FROM customers"), StringComparison.Ordinal);
            Assert.Equal(["1	typed by hand"], await AsContractorAsync($"insert into {notes} (id, body) values (1, 'typed by hand'); select * from {notes}"));
        }
        finally
        {
            await fixture.MariaDb.QueryAsync($"DROP TABLE IF EXISTS {notes}; DROP TABLE IF EXISTS {notes}_copy");
        }
    }

    [Theory]
    [InlineData("select extractvalue(1, concat(0x7e, (select card_number from customers order by id limit 1)))", "XPATH syntax error: '[masked]'")]
    [InlineData("select updatexml(1, concat(0x7e, (select email from customers order by id limit 1)), 1)", "XPATH syntax error: '[masked]'")]
    public async Task Error_messages_do_not_show_what_masking_hides(string sql, string expected)
    {
        var masked = await MariaDbCli.RunAsync(fixture, Contractor, sql);
        Assert.NotEqual(0, masked.ExitCode);
        Assert.Contains(expected, masked.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("4111", masked.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("@example.com", masked.Stderr, StringComparison.Ordinal);

        var analyst = await MariaDbCli.RunAsync(fixture, fixture.Token(), sql); // exempt: the server's own text
        Assert.Contains("XPATH syntax error: '~", analyst.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("[masked]", analyst.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Warnings_do_not_show_what_masking_hides()
    {
        // "Truncated incorrect DOUBLE value: '4111 1111 1111 1111'" on the direct connection.
        var direct = await MariaDbCli.RunAsync(fixture, fixture.Token(), "select card_number + 0 from customers order by id limit 1; show warnings");
        Assert.Contains("Truncated incorrect DOUBLE value: '4111", direct.Stdout, StringComparison.Ordinal);

        var rows = await AsContractorAsync("select card_number + 0 from customers order by id limit 1; show warnings");
        Assert.Contains("Warning\t1292\tNULL", rows); // level and code stay; the text is withheld
        Assert.DoesNotContain(rows, r => r.Contains("4111", StringComparison.Ordinal));

        var copied = await MariaDbCli.RunAsync(fixture, Contractor,
            "select card_number + 0 from customers order by id limit 1; get diagnostics condition 1 @m = message_text; select @m");
        Assert.Contains("masking:store", copied.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("4111 1111", copied.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Column_statistics_do_not_show_the_values_of_a_sensitive_column()
    {
        // A gateway account allowed to read MariaDB's engine-independent statistics would otherwise show each
        // column's smallest and largest value: for card_number, two card numbers.
        await fixture.MariaDb.QueryAsync("GRANT SELECT ON mysql.column_stats TO 'gatehouse_native'@'127.0.0.1'; ANALYZE TABLE app.customers PERSISTENT FOR ALL;");
        try
        {
            var analyst = await MariaDbCli.RunAsync(fixture, fixture.Token(), "select min_value from mysql.column_stats where db_name = 'app' and table_name = 'customers' and column_name = 'card_number'");
            Assert.True(analyst.ExitCode == 0, analyst.Stderr);
            Assert.Contains("3400", analyst.Stdout, StringComparison.Ordinal); // exempt: the statistics as they are

            foreach (var sql in new[]
            {
                "select column_name, min_value, max_value from mysql.column_stats where db_name = 'app' and table_name = 'customers'",
                "select concat(max_value, '') from mysql.column_stats where db_name = 'app' and table_name = 'customers'",
            })
            {
                var rows = await AsContractorAsync(sql);
                Assert.DoesNotContain(rows, r => r.Contains("4111", StringComparison.Ordinal) || r.Contains("3400", StringComparison.Ordinal) || r.Contains("@example", StringComparison.Ordinal));
            }
        }
        finally
        {
            await fixture.MariaDb.QueryAsync("REVOKE SELECT ON mysql.column_stats FROM 'gatehouse_native'@'127.0.0.1';");
        }
    }

    [Fact]
    public async Task Unmasked_columns_and_row_counts_are_the_same_as_a_direct_query()
    {
        const string Query = "select id, name, card_number from customers order by id";
        var masked = await AsContractorAsync(Query);
        var direct = (await fixture.MariaDb.QueryAsync(Query)).TrimEnd('\n').Split('\n').Where(l => !l.StartsWith("id\t", StringComparison.Ordinal)).ToArray();
        Assert.Equal(direct.Length, masked.Length);
        Assert.Equal(direct.Select(l => string.Join('\t', l.Split('\t')[..2])), masked.Select(l => string.Join('\t', l.Split('\t')[..2])));
    }

    [Fact]
    public async Task Binary_rows_of_prepared_statements_are_masked_and_a_masked_number_becomes_null()
    {
        await using var client = await MySqlRawClient.ConnectAsync(fixture.MySqlPort);
        await client.LoginAsync(Contractor, user: "carol");
        var id = await PrepareAsync(client, "select id, name, card_number, email, cast(replace(card_number, ' ', '') as unsigned) n from customers order by id");
        var rows = BinaryRows(await client.CommandAsync(Execute(id, cursor: false)), [Type.Long, Type.Text, Type.Text, Type.Text, Type.LongLong]);
        Assert.Equal(3, rows.Count);
        Assert.Equal(new string?[] { "1", "Ada Lovelace", "**** **** **** 1111", "[redacted]", null }, rows[0]);
        Assert.Equal(new string?[] { "3", "Grace Hopper", "**** **** ***0 009", "[redacted]", null }, rows[2]);

        var analyst = await MySqlRawClient.ConnectAsync(fixture.MySqlPort);
        await using (analyst)
        {
            await analyst.LoginAsync(fixture.Token());
            var plain = BinaryRows(await analyst.CommandAsync(Execute(await PrepareAsync(analyst, "select card_number, cast(replace(card_number, ' ', '') as unsigned) from customers order by id"), cursor: false)),
                [Type.Text, Type.LongLong]);
            Assert.Equal(new string?[] { "4111 1111 1111 1111", "4111111111111111" }, plain[0]);
        }
    }

    [Fact]
    public async Task What_a_stored_function_reads_from_a_sensitive_column_is_masked()
    {
        // The card's first six digits: no detector recognises them, and the statement names no sensitive column.
        var function = "bin_of_" + _suffix;
        await fixture.MariaDb.QueryAsync(
            $"CREATE FUNCTION {function}(i INT) RETURNS VARCHAR(16) READS SQL DATA RETURN (SELECT substr(card_number, 1, 7) FROM customers WHERE id = i)");
        // A gateway of its own, whose catalog has not loaded the function names before the function existed
        // (the shared one's names may be up to a minute old, as for DDL made behind the gateway's back).
        var (gateway, settings) = await fixture.StartGatewayAsync(withMySql: true);
        try
        {
            var port = gateway.BoundPorts["demo-mysql"];
            async Task<string> AsAsync(string[] groups, string sql)
            {
                var result = await MariaDbCli.RunAsync(fixture, TokenCommand.Mint(settings.Identity, "carol", groups, TimeSpan.FromMinutes(5)), sql, port: port);
                Assert.True(result.ExitCode == 0, result.Stderr);
                return result.Stdout.TrimEnd('\n').Split('\n')[^1];
            }

            Assert.Equal("NULL", await AsAsync(["contractors"], $"select {function}(1) b"));
            Assert.Equal("NULL", await AsAsync(["contractors"], $"select app.`{function.ToUpperInvariant()}`(1) b"));
            Assert.Equal("4111 11", await AsAsync(["analysts"], $"select {function}(1) b"));
        }
        finally
        {
            await gateway.DisposeAsync();
            await fixture.MariaDb.QueryAsync($"DROP FUNCTION IF EXISTS {function}");
        }
    }

    [Fact]
    public async Task A_procedures_out_parameter_cannot_carry_a_sensitive_value_into_a_variable()
    {
        // The procedure's OUT parameter stored a card number in @c, which SELECT reverse(@c) then showed: a
        // masked session may not pass a user variable to a procedure.
        var procedure = "card_of_" + _suffix;
        await fixture.MariaDb.QueryAsync(
            $"CREATE PROCEDURE {procedure}(IN i INT, OUT c VARCHAR(40)) SELECT card_number INTO c FROM customers WHERE id = i");
        try
        {
            var refused = await MariaDbCli.RunAsync(fixture, Contractor, $"call {procedure}(1, @c); select reverse(@c)");
            Assert.Contains("masking:store", refused.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("1111 1111 1111 1114", refused.Stdout, StringComparison.Ordinal);

            // An exempt session's call runs as ever.
            var analyst = await MariaDbCli.RunAsync(fixture, fixture.Token(), $"call {procedure}(1, @c); select reverse(@c) r");
            Assert.EndsWith("1111 1111 1111 1114", analyst.Stdout.TrimEnd('\n'), StringComparison.Ordinal);
        }
        finally
        {
            await fixture.MariaDb.QueryAsync($"DROP PROCEDURE IF EXISTS {procedure}");
        }
    }

    [Fact]
    public async Task A_view_redefined_in_an_exempt_session_is_read_anew_by_masked_ones()
    {
        var view = "redefined_" + _suffix;
        await fixture.MariaDb.QueryAsync($"CREATE VIEW {view} AS SELECT id, name AS x FROM customers");
        try
        {
            Assert.Equal("Ada Lovelace", (await AsContractorAsync($"select x from {view} order by id limit 1"))[0]); // the view is now cached
            var analyst = await MariaDbCli.RunAsync(fixture, fixture.Token(), $"create or replace view {view} as select id, card_number as x from customers");
            Assert.True(analyst.ExitCode == 0, analyst.Stderr);
            Assert.Equal("**** **** **** 1111", (await AsContractorAsync($"select x from {view} order by id limit 1"))[0]);
        }
        finally
        {
            await fixture.MariaDb.QueryAsync($"DROP VIEW IF EXISTS {view}");
        }
    }

    [Fact]
    public async Task Column_defaults_are_withheld_from_a_masked_session()
    {
        var table = "keys_" + _suffix;
        await fixture.MariaDb.QueryAsync($"CREATE TABLE {table} (id int, api_key varchar(64) DEFAULT 'sk_live_not_for_contractors', note varchar(10))");
        try
        {
            await using (var contractor = await MySqlRawClient.ConnectAsync(fixture.MySqlPort))
            {
                await contractor.LoginAsync(Contractor, user: "carol");
                var masked = await FieldListAsync(contractor, table);
                Assert.Equal(["id", "api_key", "note"], masked.Select(c => c.Name));
                Assert.All(masked, c => Assert.Null(c.Default));
                var next = await contractor.CommandAsync(MySqlRawClient.Command(0x03, "select 1"));
                Assert.Equal([1, (byte)'1'], next[2]); // the session goes on: a column count, its definition, the row
            }

            // The same defaults through SHOW COLUMNS and information_schema, which showed them until 2026-12-07.
            Assert.Equal(["id\tNULL", "api_key\tNULL", "note\tNULL"],
                (await AsContractorAsync($"show columns from {table}")).Select(row => string.Join('\t', row.Split('\t')[0], row.Split('\t')[4])));
            Assert.Equal(["api_key\tNULL"], await AsContractorAsync(
                $"select column_name, column_default from information_schema.columns where table_name = '{table}' and column_name = 'api_key'"));

            await using var analyst = await MySqlRawClient.ConnectAsync(fixture.MySqlPort);
            await analyst.LoginAsync(fixture.Token());
            var plain = await FieldListAsync(analyst, table);
            Assert.Equal("sk_live_not_for_contractors", plain[1].Default);
            var shown = await MariaDbCli.RunAsync(fixture, fixture.Token(), $"show columns from {table}");
            Assert.Contains("sk_live_not_for_contractors", shown.Stdout, StringComparison.Ordinal);
        }
        finally
        {
            await fixture.MariaDb.QueryAsync($"DROP TABLE {table}");
        }
    }

    /// <summary>COM_FIELD_LIST: each column definition's name and default (null = NULL), up to the EOF.</summary>
    private static async Task<List<(string Name, string? Default)>> FieldListAsync(MySqlRawClient client, string table)
    {
        await client.SendAsync(MySqlRawClient.Packet(0, [0x04, .. Encoding.UTF8.GetBytes(table), 0]));
        var columns = new List<(string, string?)>();
        while (true)
        {
            var payload = (await client.ReadAsync() ?? throw new InvalidOperationException("closed in a field list")).Payload;
            Assert.NotEqual(0xFF, payload[0]);
            if (payload[0] == 0xFE && payload.Length < 9)
            {
                return columns;
            }

            var at = 0;
            string? name = null;
            for (var i = 0; i < 6; i++)
            {
                var length = payload[at++];
                name = i == 4 ? Encoding.UTF8.GetString(payload, at, length) : name;
                at += length;
            }

            at += 1 + payload[at]; // the fixed fields' length, then the fields
            columns.Add((name!, payload[at] == 0xFB ? null : Encoding.UTF8.GetString(payload, at + 1, payload[at])));
        }
    }

    [Fact]
    public async Task Rows_fetched_from_a_cursor_are_masked()
    {
        await using var client = await MySqlRawClient.ConnectAsync(fixture.MySqlPort);
        await client.LoginAsync(Contractor, user: "carol");
        var id = await PrepareAsync(client, "select name, card_number from customers order by id");
        var opened = await client.CommandAsync(Execute(id, cursor: true)); // columns, then an EOF saying a cursor is open
        Assert.Equal(2, opened[0][0]);
        var fetch = new byte[9];
        fetch[0] = 0x1C;
        BinaryPrimitives.WriteUInt32LittleEndian(fetch.AsSpan(1), id);
        BinaryPrimitives.WriteUInt32LittleEndian(fetch.AsSpan(5), 10);
        await client.SendAsync(MySqlRawClient.Packet(0, fetch));
        var rows = new List<string?[]>();
        while (true)
        {
            var packet = (await client.ReadAsync())!.Value.Payload;
            if (packet[0] != 0x00)
            {
                Assert.Equal(0xFE, packet[0]);
                break;
            }

            rows.Add(BinaryRow(packet, [Type.Text, Type.Text]));
        }

        Assert.Equal([["Ada Lovelace", "**** **** **** 1111"], ["Alan Turing", "**** **** **** 0004"], ["Grace Hopper", "**** **** ***0 009"]], rows);
    }

    internal static async Task<uint> PrepareAsync(MySqlRawClient client, string sql)
    {
        await client.SendAsync(MySqlRawClient.Packet(0, MySqlRawClient.Command(0x16, sql)));
        var ok = (await client.ReadAsync())!.Value.Payload;
        Assert.True(ok[0] == 0x00, MySqlRawClient.ErrorText(ok));
        var statementId = BinaryPrimitives.ReadUInt32LittleEndian(ok.AsSpan(1));
        var columns = BinaryPrimitives.ReadUInt16LittleEndian(ok.AsSpan(5));
        var parameters = BinaryPrimitives.ReadUInt16LittleEndian(ok.AsSpan(7));
        for (var i = 0; i < columns + parameters; i++)
        {
            await client.ReadAsync(); // definitions (DEPRECATE_EOF: no EOF packets)
        }

        return statementId;
    }

    internal static byte[] Execute(uint statementId, bool cursor)
    {
        var packet = new byte[10];
        packet[0] = 0x17;
        BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(1), statementId);
        packet[5] = cursor ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteUInt32LittleEndian(packet.AsSpan(6), 1);
        return packet;
    }

    private enum Type { Long, LongLong, Text }

    /// <summary>The rows of a binary result (after the column count and definitions, up to the closing OK).</summary>
    private static List<string?[]> BinaryRows(List<byte[]> packets, Type[] types)
    {
        Assert.Equal(types.Length, packets[0][0]);
        return packets.Skip(1 + types.Length).Where(p => p[0] == 0x00).Select(p => BinaryRow(p, types)).ToList();
    }

    private static string?[] BinaryRow(byte[] row, Type[] types)
    {
        var values = new string?[types.Length];
        var at = 1 + ((types.Length + 9) / 8);
        for (var i = 0; i < types.Length; i++)
        {
            if ((row[1 + ((i + 2) >> 3)] & (1 << ((i + 2) & 7))) != 0)
            {
                continue;
            }

            switch (types[i])
            {
                case Type.Long:
                    values[i] = BinaryPrimitives.ReadInt32LittleEndian(row.AsSpan(at)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    at += 4;
                    break;
                case Type.LongLong:
                    values[i] = BinaryPrimitives.ReadUInt64LittleEndian(row.AsSpan(at)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                    at += 8;
                    break;
                default:
                    var length = row[at]; // short test values: a one-byte length
                    values[i] = Encoding.UTF8.GetString(row, at + 1, length);
                    at += 1 + length;
                    break;
            }
        }

        Assert.Equal(row.Length, at);
        return values;
    }
}
