using Gatehouse.Host;
using Gatehouse.Host.Commands;
using Gatehouse.Host.Configuration;
using Gatehouse.Tests.Postgres;
using Gatehouse.Protocols.Masking;
using Npgsql;

namespace Gatehouse.Tests.Masking;

/// <summary>
/// Masking on the PostgreSQL wire against the real server, through Npgsql (binary results, prepared
/// statements) and psql (text results): every way of naming a sensitive column returns masked data, what is
/// not sensitive is exactly what a direct query returns, and exempt roles see real values.
/// </summary>
[Collection("gateway")]
public sealed partial class PgMaskingGatewayTests(GatewayFixture fixture) : IAsyncLifetime
{
    private const string Card = "4111 1111 1111 1111";
    private const string MaskedCard = "**** **** **** 1111";

    private readonly string _schema = "mask_" + Guid.NewGuid().ToString("N")[..8];
    private GatewayHost _host = null!;
    private GatehouseSettings _settings = null!;

    private int Port => _host.BoundPorts["demo"];

    public async Task InitializeAsync()
    {
        await fixture.Postgres.PsqlAsync($"""
            CREATE SCHEMA {_schema};
            CREATE TABLE {_schema}.people (id int PRIMARY KEY, name text, card text, email text, ssn text, salary numeric, note text);
            INSERT INTO {_schema}.people VALUES
              (1, 'Ada', '{Card}', 'ada@example.com', '078-05-1120', 1000.50, 'order 1234567812345678'),
              (2, 'Alan', '5500 0000 0000 0004', 'alan@example.com', '219-09-9999', 2000, 'call me'),
              (3, 'Grace', NULL, 'ada@example.com', NULL, NULL, NULL);
            CREATE VIEW {_schema}.people_v AS SELECT id, card AS c, name AS n, upper(email) AS shout FROM {_schema}.people;
            CREATE VIEW {_schema}.people_vv AS SELECT c AS cc, n FROM {_schema}.people_v;
            CREATE FUNCTION {_schema}.people_of(int) RETURNS SETOF {_schema}.people LANGUAGE sql AS 'SELECT * FROM {_schema}.people WHERE id = $1';
            CREATE FUNCTION {_schema}.pay_of(int, int) RETURNS numeric LANGUAGE sql AS 'SELECT salary FROM {_schema}.people WHERE id = $1';
            CREATE OPERATOR {_schema}.### (FUNCTION = {_schema}.pay_of, LEFTARG = int, RIGHTARG = int);
            CREATE VIEW {_schema}.people_fv AS SELECT id, card AS k FROM {_schema}.people_of(1);
            CREATE VIEW {_schema}.pay_v AS SELECT 1 OPERATOR({_schema}.###) 0 AS amount;
            CREATE TYPE {_schema}.pay AS (amount numeric);
            CREATE FUNCTION {_schema}.to_pay(int) RETURNS {_schema}.pay LANGUAGE sql AS 'SELECT ROW(salary)::{_schema}.pay FROM {_schema}.people WHERE id = $1';
            CREATE CAST (int AS {_schema}.pay) WITH FUNCTION {_schema}.to_pay(int);
            CREATE FUNCTION {_schema}.open_people(refcursor) RETURNS refcursor LANGUAGE plpgsql
              AS $$ BEGIN OPEN $1 FOR SELECT reverse(card) AS r, upper(name) AS u FROM {_schema}.people WHERE id = 1; RETURN $1; END $$;
            GRANT USAGE, CREATE ON SCHEMA {_schema} TO gatehouse_scram;
            GRANT ALL ON ALL TABLES IN SCHEMA {_schema} TO gatehouse_scram;
            """);
        (_host, _settings) = await fixture.StartGatewayAsync(appendYaml: $"""
            masking:
              exempt_roles: [dba]
              token_key: "a test key of more than sixteen bytes"
              rules:
                - name: cards
                  columns: ["{_schema}.*.card"]
                  strategy: partial
                  keep: 4
                - name: emails
                  columns: ["{_schema}.people.email"]
                  strategy: token
                - name: ssn
                  columns: [ssn]
                  strategy: redact
                - name: pay
                  columns: ["{_schema}.people.salary"]
                  strategy: redact
                - name: ledger
                  columns: ["{_schema}.ledger.iban"]
                  strategy: redact
              detectors:
                - kinds: [all]
                  strategy: redact
            """, edit: yaml => yaml.Replace("login_timeout: 15s", "login_timeout: 15s\n    max_statement_bytes: 1048576", StringComparison.Ordinal));
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await fixture.Postgres.PsqlAsync($"DROP SCHEMA {_schema} CASCADE;");
    }

    private async Task<NpgsqlConnection> OpenAsync(string group = "analysts")
    {
        var connection = new NpgsqlConnection(fixture.ConnectionString(Token(group), port: Port));
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>A hand-spoken session of the masked role, over TLS, logged in.</summary>
    private async Task<PgRawClient> ConnectRawAsync()
    {
        var client = await PgRawClient.ConnectAsync(Port);
        await client.StartTlsAsync();
        await client.LoginAsync(Token());
        return client;
    }

    private string Token(string group = "analysts") => TokenCommand.Mint(_settings.Identity, "alice", [group], TimeSpan.FromMinutes(10));

    private static async Task<List<object?[]>> RowsAsync(NpgsqlConnection connection, string sql, bool prepare = false)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (prepare)
        {
            await command.PrepareAsync();
        }

        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<object?[]>();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    private async Task<object?> ScalarAsync(string sql, string group = "analysts")
    {
        await using var connection = await OpenAsync(group);
        var rows = await RowsAsync(connection, sql);
        return rows[0][0];
    }

    [Theory]
    [InlineData("SELECT card FROM {0}.people WHERE id = 1")]
    [InlineData("SELECT card AS x FROM {0}.people WHERE id = 1")]
    [InlineData("SELECT p.* FROM {0}.people p WHERE id = 1")]
    [InlineData("SELECT x FROM (SELECT card AS x FROM {0}.people) s LIMIT 1")]
    [InlineData("SELECT c FROM {0}.people_v WHERE id = 1")]
    [InlineData("SELECT cc FROM {0}.people_vv LIMIT 1")]
    [InlineData("WITH w AS (SELECT card AS k FROM {0}.people WHERE id = 1) SELECT k FROM w")]
    public async Task A_sensitive_column_is_masked_however_it_is_named(string template)
    {
        await using var connection = await OpenAsync();
        var rows = await RowsAsync(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, template, _schema));
        var values = rows[0].OfType<string>().ToList();
        Assert.DoesNotContain(Card, values);
        Assert.Contains(MaskedCard, values);
    }

    [Theory]
    [InlineData("SELECT card || '' FROM {0}.people WHERE id = 1")]
    [InlineData("SELECT upper(card) FROM {0}.people WHERE id = 1")]
    [InlineData("SELECT substr(card, 1, 19) FROM {0}.people WHERE id = 1")]
    [InlineData("SELECT card::varchar(40) FROM {0}.people WHERE id = 1")]
    [InlineData("SELECT replace(card, ' ', '-') FROM {0}.people WHERE id = 1")]
    [InlineData("SELECT coalesce(card, 'none') FROM {0}.people WHERE id = 1")]
    [InlineData("SELECT name FROM {0}.people WHERE id = 3 UNION ALL SELECT card FROM {0}.people WHERE id = 1")]
    [InlineData("SELECT shout FROM {0}.people_v WHERE id = 1")]
    [InlineData("SELECT reverse(c) FROM {0}.people_v WHERE id = 1")] // a view's copy of card, by the view's name for it
    [InlineData("SELECT reverse(v.cc) FROM {0}.people_vv v")]
    [InlineData("SELECT lower(shout) FROM {0}.people_v WHERE id = 1")]
    [InlineData("SELECT upper(U&\"c\\0061rd\") FROM {0}.people WHERE id = 1")] // U&"c\0061rd" is card
    [InlineData("SELECT k FROM {0}.people_fv")] // a view over a function that reads the table itself: its columns follow nothing
    [InlineData("SELECT * FROM {0}.pay_v")] // a view calling an operator of the database's own
    [InlineData("SELECT reverse(x) FROM (SELECT cc AS x FROM {0}.people_vv) s")]
    [InlineData("SELECT name FROM {0}.people WHERE id = 3 UNION ALL SELECT reverse(c) FROM {0}.people_v WHERE id = 1")]
    [InlineData("SELECT row(card)::text FROM {0}.people WHERE id = 1")]
    [InlineData("SELECT string_agg(card, ',') FROM {0}.people")]
    [InlineData("SELECT to_json(p) FROM {0}.people p WHERE id = 1")]
    [InlineData("SELECT p::text FROM {0}.people p WHERE id = 1")]
    [InlineData("SELECT to_jsonb(s) FROM (SELECT * FROM {0}.people WHERE id = 1) s")]
    [InlineData("SELECT ts_stat('SELECT to_tsvector(''simple'', reverse(ca' || 'rd)) FROM {0}.people')")] // SQL built as it runs
    [InlineData("SELECT ts_rewrite('a'::tsquery, 'SELECT ''a''::tsquery, plainto_tsquery(''simple'', reverse(ca' || 'rd)) FROM {0}.people WHERE id = 1')")]
    // Columns read without their names (a table with an alias list, *, TABLE), renamed by position.
    [InlineData("SELECT reverse(z) FROM {0}.people t(i, n, z) WHERE i = 1")]
    [InlineData("WITH x(i, n, z) AS (SELECT * FROM {0}.people) SELECT reverse(z) FROM x WHERE i = 1")]
    [InlineData("SELECT reverse(z) FROM (SELECT 1 i, '' n, '' z, '' e, '' s, 0.0 m, '' o WHERE false UNION ALL TABLE {0}.people) s WHERE i = 1")]
    public async Task A_derived_value_of_a_sensitive_column_is_masked_whole(string template)
    {
        await using var connection = await OpenAsync();
        var rows = await RowsAsync(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, template, _schema));
        foreach (var row in rows)
        {
            foreach (var value in row)
            {
                Assert.True(value is null or "Grace", $"derived value leaked: {value}");
            }
        }
    }

    [Fact]
    public async Task Derived_columns_of_statements_that_read_nothing_sensitive_are_untouched()
    {
        Assert.Equal(3L, await ScalarAsync($"SELECT count(*) FROM {_schema}.people"));
        Assert.Equal("ADA", await ScalarAsync($"SELECT upper(p.name) FROM {_schema}.people p WHERE p.id = 1"));
    }

    [Fact]
    public async Task A_prepared_statement_run_by_name_is_masked_like_its_text()
    {
        // EXECUTE's text does not show what the PREPARE before it read: reverse(card) got past strict mode (and the
        // detectors, since a reversed card number fails Luhn) until 2026-12-07, and was storable by AS EXECUTE.
        await using var connection = await OpenAsync();
        await ExecuteAsync(connection, $"PREPARE rev AS SELECT reverse(card), card, name FROM {_schema}.people WHERE id = 1");
        var row = (await RowsAsync(connection, "EXECUTE rev"))[0];
        Assert.Null(row[0]);
        Assert.Equal(MaskedCard, row[1]); // by identity, as ever
        Assert.Equal("Ada", row[2]);

        var error = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(connection, "CREATE TEMP TABLE stash AS EXECUTE rev"));
        Assert.Equal("42501", error.SqlState);
        Assert.Contains("prepared statement", error.MessageText, StringComparison.Ordinal);
        Assert.Null((await RowsAsync(connection, "SELECT to_regclass('pg_temp.stash')::text"))[0][0]);

        // The session goes on; an exempt session's EXECUTE is untouched.
        Assert.Null((await RowsAsync(connection, "EXECUTE rev"))[0][0]);
        await using var dba = await OpenAsync("dba");
        await ExecuteAsync(dba, $"PREPARE rev AS SELECT reverse(card) FROM {_schema}.people WHERE id = 1");
        Assert.Equal(new string(Card.Reverse().ToArray()), (await RowsAsync(dba, "EXECUTE rev"))[0][0]);
    }

    [Fact]
    public async Task Detectors_catch_sensitive_content_in_values_without_table_identity()
    {
        Assert.Equal("[redacted]", await ScalarAsync("SELECT '4111-1111-1111-1111'::text"));
        // The whole value goes, not only the match: what surrounds a card number is often more of the same.
        Assert.Equal("[redacted]", await ScalarAsync("SELECT 'paid with ' || '4111111111111111' || ' today'"));
        Assert.Equal("[redacted]", await ScalarAsync("SELECT 'mail ' || 'someone@example.org'"));
        Assert.Equal("order 1234567812345678", await ScalarAsync("SELECT 'order 1234567812345678'")); // fails Luhn
        Assert.Equal("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", await ScalarAsync("SELECT 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'"));
        Assert.Equal("2026-12-03 10:11:12", await ScalarAsync("SELECT '2026-12-03 10:11:12'"));
    }

    [Fact]
    public async Task Strategies_redact_partial_token_and_whole_values_of_types_the_masker_cannot_rewrite()
    {
        await using var connection = await OpenAsync();
        var rows = await RowsAsync(connection, $"SELECT id, card, email, ssn, salary FROM {_schema}.people ORDER BY id");
        Assert.Equal(3, rows.Count);
        Assert.Equal([1, 2, 3], rows.Select(r => (int)r[0]!));
        Assert.Equal([MaskedCard, "**** **** **** 0004", null], rows.Select(r => (string?)r[1]));
        var tokens = rows.Select(r => (string)r[2]!).ToList();
        Assert.All(tokens, t => Assert.Matches("^tok_[0-9a-f]{24}$", t));
        Assert.Equal(tokens[0], tokens[2]); // equal e-mails give equal tokens, so joins and GROUP BY still work
        Assert.NotEqual(tokens[0], tokens[1]);
        Assert.Equal(["[redacted]", "[redacted]", null], rows.Select(r => (string?)r[3]));
        Assert.Equal([null, null, null], rows.Select(r => r[4])); // numeric has no text form to redact in binary: replaced whole
    }

    [Fact]
    public async Task Prepared_statements_and_parameters_are_masked()
    {
        await using var connection = await OpenAsync();
        for (var i = 0; i < 3; i++)
        {
            await using var command = new NpgsqlCommand($"SELECT card AS alias, name FROM {_schema}.people WHERE id = $1", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = 1 });
            await command.PrepareAsync();
            await using var reader = await command.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(MaskedCard, reader.GetString(0));
            Assert.Equal("Ada", reader.GetString(1));
        }
    }

    [Fact]
    public async Task Unmasked_columns_and_row_counts_are_identical_to_a_direct_query()
    {
        const string Sql = "SELECT id, name, note, length(name) FROM {0}.people ORDER BY id";
        var sql = string.Format(System.Globalization.CultureInfo.InvariantCulture, Sql, _schema);
        var direct = await fixture.Postgres.PsqlAsync(sql);
        var result = await Psql.RunOnPortAsync(Port, Token(), null, "-c", sql);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(direct, result.Stdout.TrimEnd('\n'));

        var masked = await Psql.RunOnPortAsync(Port, Token(), null, "-c", $"SELECT id, card, name FROM {_schema}.people ORDER BY id");
        Assert.Equal($"1|{MaskedCard}|Ada\n2|**** **** **** 0004|Alan\n3||Grace", masked.Stdout.TrimEnd('\n'));
    }

    [Fact]
    public async Task A_function_called_in_from_is_no_whole_row_but_a_subquery_alias_is()
    {
        await using var connection = await OpenAsync();
        var series = await RowsAsync(connection, "SELECT g, g * 2 AS twice FROM generate_series(1, 3) g ORDER BY g");
        Assert.Equal([1, 2], series[0]);
        var rows = await RowsAsync(connection, $"SELECT s::text AS whole, g FROM generate_series(1, 1) g, (SELECT * FROM {_schema}.people WHERE id = 1) s");
        Assert.Null(rows[0][0]); // strict: a whole row of people carries its card
        Assert.Null(rows[0][1]); // and strict judges the statement, so its every derived column is masked

        // A function that reads a sensitive table itself returns derived columns: strict masks them whole
        // (salary is a number, which no detector would catch).
        await fixture.Postgres.PsqlAsync($"INSERT INTO {_schema}.people (id, name, salary) VALUES (4, 'Eve', 3000.25);");
        var viaFunction = await RowsAsync(connection, $"SELECT * FROM {_schema}.people_of(1)");
        Assert.Null(viaFunction[0][5]);
        Assert.Null(viaFunction[0][1]);

        // Called in the select list, it returns the row as one composite value: a function of the database's own
        // may read a sensitive table, so strict masks what a statement calling one derives. A built-in does not.
        await using var fresh = await OpenAsync();
        Assert.Null((await RowsAsync(fresh, $"SELECT {_schema}.people_of(4)::text AS whole"))[0][0]); // no detector finds 3000.25
        Assert.Null((await RowsAsync(fresh, $"SELECT (x).salary + 0 FROM (SELECT {_schema}.\"people_of\"(1) AS x) s"))[0][0]); // a number: NULL
        Assert.Equal("ADA", (await RowsAsync(fresh, "SELECT upper('ada') AS shout"))[0][0]);
        var psql = await Psql.RunOnPortAsync(Port, Token(), null, "-c", $"COPY (SELECT {_schema}.people_of(4)::text) TO STDOUT");
        Assert.True(psql.ExitCode == 0, psql.Stderr);
        Assert.Equal("\\N", psql.Stdout.TrimEnd('\n'));
    }

    [Fact]
    public async Task An_operator_of_the_databases_own_counts_as_a_call_of_its_function()
    {
        // `1 ### 0` calls pay_of(1, 0), which reads a sensitive column no detector recognises (a salary): strict
        // masks what the statement derives, as for a call by name. Built-in operators, and the same characters in
        // a string, do not count.
        await using var masked = await OpenAsync();
        Assert.Null((await RowsAsync(masked, $"SELECT 1 OPERATOR({_schema}.###) 0 AS pay"))[0][0]);
        await ExecuteAsync(masked, $"SET search_path = {_schema}, public");
        Assert.Null((await RowsAsync(masked, "SELECT (1###0) + 0 AS pay"))[0][0]);
        Assert.Equal(3, (await RowsAsync(masked, "SELECT 1 # 2 AS xor"))[0][0]);
        Assert.Equal("###", (await RowsAsync(masked, "SELECT '###' AS text"))[0][0]);

        await using var exempt = await OpenAsync("dba");
        Assert.Equal(1000.50m, (await RowsAsync(exempt, $"SELECT 1 OPERATOR({_schema}.###) 0 AS pay"))[0][0]);
    }

    [Fact]
    public async Task A_cast_through_a_function_of_the_databases_own_counts_as_a_call_of_it()
    {
        // 1::pay runs to_pay(1), which reads a salary: strict masks what the statement derives, in either cast
        // syntax; an alias that merely shares the type's name, outside CAST, does not count.
        await using var masked = await OpenAsync();
        Assert.Null((await RowsAsync(masked, $"SELECT (1::{_schema}.pay).amount AS amount"))[0][0]);
        Assert.Null((await RowsAsync(masked, $"SELECT (CAST(1 AS {_schema}.pay)).amount AS amount"))[0][0]);
        Assert.Equal(2, (await RowsAsync(masked, "SELECT 1 + 1 AS pay"))[0][0]);

        await using var exempt = await OpenAsync("dba");
        Assert.Equal(1000.50m, (await RowsAsync(exempt, $"SELECT (1::{_schema}.pay).amount AS amount"))[0][0]);
    }

    // This gateway inspects messages up to 1 MiB (max_statement_bytes): larger masked rows stream.
    private const int Huge = 3_000_000;

    private Task InsertHugeRowAsync() => fixture.Postgres.PsqlAsync($"""
        INSERT INTO {_schema}.people VALUES (10, 'Big', '{Card}', 'ada@example.com', '078-05-1120', 5, repeat('n', {Huge}));
        """);

    [Fact]
    public async Task A_row_larger_than_the_inspection_limit_is_masked_as_it_streams()
    {
        await InsertHugeRowAsync();
        await using var connection = await OpenAsync();
        var small = await RowsAsync(connection, $"SELECT email FROM {_schema}.people WHERE id = 1");
        foreach (var prepare in new[] { false, true })
        {
            var rows = await RowsAsync(connection, $"SELECT id, card, email, ssn, note, name FROM {_schema}.people WHERE id = 10", prepare);
            var row = Assert.Single(rows);
            Assert.Equal(MaskedCard, row[1]);
            Assert.Equal(small[0][0], row[2]); // the same token as the value's in a small row
            Assert.Equal("[redacted]", row[3]);
            Assert.Equal(new string('n', Huge), row[4]);
            Assert.Equal("Big", row[5]);
        }

        // The session goes on, and psql's text results stream the same way.
        Assert.Equal("Ada", (await RowsAsync(connection, $"SELECT name FROM {_schema}.people WHERE id = 1"))[0][0]);
        var psql = await Psql.RunOnPortAsync(Port, Token(), null, "-c", $"SELECT card, ssn, name, note FROM {_schema}.people WHERE id = 10");
        Assert.True(psql.ExitCode == 0, psql.Stderr);
        Assert.Equal($"{MaskedCard}|[redacted]|Big|{new string('n', Huge)}", psql.Stdout.TrimEnd('\n'));
    }

    [Fact]
    public async Task A_huge_sensitive_or_derived_value_is_masked_without_being_held()
    {
        await using var connection = await OpenAsync();
        var rows = await RowsAsync(connection,
            $"SELECT repeat(card, 200000) AS derived, repeat('ab', {Huge}) AS unscannable, name FROM {_schema}.people WHERE id = 1");
        var row = Assert.Single(rows);
        Assert.DoesNotContain("1111 4111", (string?)row[0] ?? "");
        Assert.Null(row[1]); // too large to run the detectors over: masked whole
        Assert.Equal("Ada", row[2]);
    }

    [Fact]
    public async Task A_masked_column_behind_a_huge_one_ends_the_session_instead_of_leaking()
    {
        await InsertHugeRowAsync();
        await using (var connection = await OpenAsync())
        {
            var error = await Assert.ThrowsAnyAsync<NpgsqlException>(() => RowsAsync(connection, $"SELECT note, card FROM {_schema}.people WHERE id = 10"));
            Assert.Contains("masked column", error.Message);
        }

        Assert.Equal(MaskedCard, await ScalarAsync($"SELECT card FROM {_schema}.people WHERE id = 10"));
    }

    [Theory]
    [InlineData("\\copy {0}.people (id, card, name) to stdout", "1\t**** **** **** 1111\tAda|2\t**** **** **** 0004\tAlan|3\t\\N\tGrace")]
    [InlineData("\\copy (select id, card as c, name from {0}.people order by id) to stdout", "1\t**** **** **** 1111\tAda|2\t**** **** **** 0004\tAlan|3\t\\N\tGrace")]
    [InlineData("\\copy (select id, ssn, name from {0}.people order by id) to stdout with (format csv, header)", "id,ssn,name|1,\"[redacted]\",Ada|2,\"[redacted]\",Alan|3,,Grace")]
    [InlineData("COPY (SELECT id, card || '', name FROM {0}.people ORDER BY id) TO STDOUT (FORMAT csv, NULL 'NULL')", "1,NULL,Ada|2,NULL,Alan|3,NULL,Grace")]
    [InlineData("COPY (SELECT id, salary, note FROM {0}.people ORDER BY id) TO STDOUT", "1\t\\N\torder 1234567812345678|2\t\\N\tcall me|3\t\\N\t\\N")]
    public async Task Copy_to_stdout_is_masked_in_text_and_csv(string template, string expected)
    {
        var result = await Psql.RunOnPortAsync(Port, Token(), null, "-c", string.Format(System.Globalization.CultureInfo.InvariantCulture, template, _schema));
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal(expected, result.Stdout.TrimEnd('\n').Replace('\n', '|'));
    }

    [Fact]
    public async Task Binary_copy_is_masked()
    {
        await using var connection = await OpenAsync();
        await using var reader = await connection.BeginBinaryExportAsync($"COPY (SELECT id, card FROM {_schema}.people ORDER BY id) TO STDOUT (FORMAT binary)");
        Assert.Equal(2, await reader.StartRowAsync());
        Assert.Equal(1, await reader.ReadAsync<int>());
        Assert.Equal(MaskedCard, await reader.ReadAsync<string>());
    }

    [Theory]
    [InlineData("CREATE TEMP TABLE t_secret AS SELECT name, 7 AS n FROM {0}.people WHERE id = 1", "COPY t_secret TO STDOUT", "\\N\t\\N")]
    [InlineData("BEGIN; CREATE TABLE {0}.fresh AS SELECT 'x' AS a, 2 AS b", "COPY {0}.fresh TO STDOUT (FORMAT csv, HEADER)", "a,b|,")]
    [InlineData("BEGIN; CREATE TABLE {0}.fresh (a text, b int); INSERT INTO {0}.fresh VALUES ('4111 1111 1111 1111', 3)", "COPY {0}.fresh TO STDOUT (FORMAT binary)", null)]
    public async Task A_copy_the_gateway_cannot_describe_sends_every_value_as_null_with_a_warning(string setup, string copy, string? expected)
    {
        // Such a table exists only in the client's own session (or its open transaction): the gateway's connection
        // cannot describe it, so it cannot attribute the columns, and it does not pass them.
        await using var connection = await OpenAsync();
        var notices = new List<string>();
        connection.Notice += (_, e) => notices.Add(e.Notice.MessageText);
        await ExecuteAsync(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, setup, _schema));
        var sql = string.Format(System.Globalization.CultureInfo.InvariantCulture, copy, _schema);
        if (expected is null)
        {
            await using var binary = await connection.BeginBinaryExportAsync(sql);
            Assert.Equal(2, await binary.StartRowAsync());
            Assert.True(binary.IsNull);
            await binary.SkipAsync();
            Assert.True(binary.IsNull);
            await binary.SkipAsync();
            Assert.Equal(-1, await binary.StartRowAsync());
        }
        else
        {
            using var export = await connection.BeginTextExportAsync(sql);
            Assert.Equal(expected, (await export.ReadToEndAsync()).TrimEnd('\n').Replace('\n', '|'));
        }

        Assert.Contains(notices, n => n.Contains("every value is sent as NULL", StringComparison.Ordinal));
        await using var next = new NpgsqlCommand("SELECT 1", connection);
        Assert.Equal(1, await next.ExecuteScalarAsync()); // the session goes on
        if (copy.Contains("t_secret", StringComparison.Ordinal))
        {
            // A committed temporary table is in the catalog by its OID, which a SELECT's RowDescription names.
            await using var select = new NpgsqlCommand("SELECT name FROM t_secret", connection);
            Assert.Equal("Ada", await select.ExecuteScalarAsync());
        }
    }

    [Fact]
    public async Task A_copy_through_the_extended_protocol_is_masked_and_the_session_goes_on()
    {
        await using var client = await ConnectRawAsync();
        var copy = $"COPY (SELECT id, card, name FROM {_schema}.people WHERE id <= 2 ORDER BY id) TO STDOUT";
        await client.SendAsync([
            .. PgRawClient.Message('P', [.. PgRawClient.CString("copy_out"), .. PgRawClient.CString(copy), 0, 0]),
            .. PgRawClient.Message('B', [.. PgRawClient.CString(""), .. PgRawClient.CString("copy_out"), 0, 0, 0, 0, 0, 0]),
            .. PgRawClient.Message('E', [.. PgRawClient.CString(""), 0, 0, 0, 0]),
            .. PgRawClient.Message('S', []),
        ]);
        var rows = new List<string>();
        var types = new List<char>();
        while (await client.ReadAsync() is { } message)
        {
            types.Add(message.Type);
            if (message.Type == 'd')
            {
                rows.Add(System.Text.Encoding.UTF8.GetString(message.Body).TrimEnd('\n'));
            }

            if (message.Type == 'Z')
            {
                break;
            }
        }

        Assert.Equal("12HddcCZ", string.Concat(types));
        Assert.Equal([$"1	{MaskedCard}	Ada", "2	**** **** **** 0004	Alan"], rows);

        // The same portal's statement again, bound anew, and a plain query after it: the session goes on.
        await client.SendAsync([
            .. PgRawClient.Message('B', [.. PgRawClient.CString(""), .. PgRawClient.CString("copy_out"), 0, 0, 0, 0, 0, 0]),
            .. PgRawClient.Message('E', [.. PgRawClient.CString(""), 0, 0, 0, 0]),
            .. PgRawClient.Message('S', []),
            .. PgRawClient.Message('Q', PgRawClient.CString($"SELECT name FROM {_schema}.people WHERE id = 3")),
        ]);
        var after = new List<char>();
        var readies = 0;
        while (readies < 2 && await client.ReadAsync() is { } message)
        {
            after.Add(message.Type);
            readies += message.Type == 'Z' ? 1 : 0;
        }

        Assert.Equal("2HddcCZTDCZ", string.Concat(after));
    }

    [Theory]
    [InlineData("text")]
    [InlineData("csv")]
    public async Task A_copy_row_larger_than_the_inspection_limit_is_masked_as_it_streams(string format)
    {
        await InsertHugeRowAsync();
        var psql = await Psql.RunOnPortAsync(Port, Token(), null,
            "-c", $"COPY (SELECT id, card, email, ssn, note, name FROM {_schema}.people WHERE id IN (1, 10) ORDER BY id) TO STDOUT (FORMAT {format})",
            "-c", $"SELECT name FROM {_schema}.people WHERE id = 2");
        Assert.True(psql.ExitCode == 0, psql.Stderr);
        var lines = psql.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        var (separator, redacted) = format == "csv" ? (',', "\"[redacted]\"") : ('\t', "[redacted]");
        var small = lines[0].Split(separator);
        var huge = lines[1].Split(separator);
        Assert.Equal(["1", MaskedCard], small[..2]);
        Assert.Equal(["10", MaskedCard, small[2], redacted, new string('n', Huge), "Big"], huge); // the same e-mail token as the small row's
        Assert.DoesNotContain("ada@", small[2], StringComparison.Ordinal);
        Assert.Equal("Alan", lines[2]); // the session went on
    }

    [Fact]
    public async Task A_binary_copy_row_larger_than_the_inspection_limit_is_masked_as_it_streams()
    {
        await InsertHugeRowAsync();
        await using var connection = await OpenAsync();
        await using (var reader = await connection.BeginBinaryExportAsync(
            $"COPY (SELECT id, card, note FROM {_schema}.people WHERE id = 10) TO STDOUT (FORMAT binary)"))
        {
            Assert.Equal(3, await reader.StartRowAsync()); // the file header and this tuple come in one CopyData
            Assert.Equal(10, await reader.ReadAsync<int>());
            Assert.Equal(MaskedCard, await reader.ReadAsync<string>());
            Assert.Equal(new string('n', Huge), await reader.ReadAsync<string>());
            Assert.Equal(-1, await reader.StartRowAsync());
        }

        Assert.Equal("Ada", (await RowsAsync(connection, $"SELECT name FROM {_schema}.people WHERE id = 1"))[0][0]);
    }

    [Fact]
    public async Task A_copy_with_a_masked_column_behind_a_huge_one_ends_the_session_instead_of_leaking()
    {
        await InsertHugeRowAsync();
        var psql = await Psql.RunOnPortAsync(Port, Token(), null, "-c", $"COPY (SELECT note, card FROM {_schema}.people WHERE id = 10) TO STDOUT");
        Assert.NotEqual(0, psql.ExitCode);
        Assert.Contains("masked column", psql.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("4111", psql.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_masked_session_cannot_launder_a_sensitive_value_where_masking_cannot_follow_it()
    {
        await using var connection = await OpenAsync();
        string[] laundering =
        [
            $"CREATE TABLE {_schema}.stash AS SELECT id, card AS c FROM {_schema}.people",
            $"UPDATE {_schema}.people SET name = card WHERE id = 1",
            $"INSERT INTO {_schema}.people (id, name, note) SELECT 20, card, email FROM {_schema}.people WHERE id = 2",
            $"SELECT card INTO {_schema}.stash FROM {_schema}.people",
            $"SELECT set_config('gatehouse.leak', card, false) FROM {_schema}.people WHERE id = 1",
            $"SELECT pg_notify('leak', ssn) FROM {_schema}.people",
            $"ALTER TABLE {_schema}.people RENAME COLUMN card TO c",
            $"ALTER TABLE {_schema}.people RENAME TO folks",
            // A view shows card under names no rule has: its columns count by where they come from.
            $"CREATE TABLE {_schema}.stash AS SELECT c FROM {_schema}.people_v",
            $"INSERT INTO {_schema}.people (id, name) SELECT 21, cc FROM {_schema}.people_vv",
            $"SELECT set_config('gatehouse.leak', shout, false) FROM {_schema}.people_v WHERE id = 1",
            $"CREATE VIEW {_schema}.people_vvv AS SELECT cc AS k FROM {_schema}.people_vv",
            $"CREATE TABLE {_schema}.stash AS SELECT U&\"c\\0061rd\" AS x FROM {_schema}.people",
            $"SELECT setval('{_schema}.stash_seq', replace(card, ' ', '')::bigint) FROM {_schema}.people WHERE id = 1", // read back as last_value
        ];
        foreach (var sql in laundering)
        {
            foreach (var prepare in new[] { false, true })
            {
                var error = await Assert.ThrowsAsync<PostgresException>(() => RowsAsync(connection, sql, prepare));
                Assert.Equal("42501", error.SqlState);
                Assert.Contains("rule \"masking:store\"", error.MessageText, StringComparison.Ordinal);
            }
        }

        var psql = await Psql.RunOnPortAsync(Port, Token(), null, "-c", $"UPDATE {_schema}.people SET note = email WHERE id = 1");
        Assert.Contains("masking:store", psql.Stderr, StringComparison.Ordinal);

        // Nothing ran (as the exempt DBA sees), the session goes on, and entering a card number is still data entry.
        Assert.Equal("Ada", await ScalarAsync($"SELECT name FROM {_schema}.people WHERE id = 1", group: "dba"));
        Assert.Null(await ScalarAsync($"SELECT to_regclass('{_schema}.stash')::text", group: "dba"));
        Assert.Null(await ScalarAsync($"SELECT current_setting('gatehouse.leak', true)"));
        await ExecuteAsync(connection, $"UPDATE {_schema}.people SET card = '4000 0000 0000 0002', note = 'new card' WHERE id = 3");
        Assert.Equal("**** **** **** 0002", (await RowsAsync(connection, $"SELECT card FROM {_schema}.people WHERE id = 3"))[0][0]);

        // An exempt session has no masker, so nothing to launder: the same statement runs.
        await using var dba = await OpenAsync("dba");
        await ExecuteAsync(dba, $"UPDATE {_schema}.people SET note = card WHERE id = 3");
        Assert.Equal("4000 0000 0000 0002", await ScalarAsync($"SELECT note FROM {_schema}.people WHERE id = 3", group: "dba"));
    }

    [Fact]
    public async Task A_partition_or_inheritance_child_of_a_table_a_rule_names_is_masked_like_it()
    {
        await fixture.Postgres.PsqlAsync($"""
            CREATE TABLE {_schema}.people_child (since date) INHERITS ({_schema}.people);
            INSERT INTO {_schema}.people_child VALUES (30, 'Kid', '{Card}', 'kid@example.com', '078-05-1120', 9, 'n', '2026-01-01');
            CREATE TABLE {_schema}.ledger (id int, iban text) PARTITION BY RANGE (id);
            CREATE TABLE {_schema}.ledger_low PARTITION OF {_schema}.ledger FOR VALUES FROM (0) TO (100) PARTITION BY RANGE (id);
            CREATE TABLE {_schema}.ledger_low_a PARTITION OF {_schema}.ledger_low FOR VALUES FROM (0) TO (50);
            INSERT INTO {_schema}.ledger VALUES (1, 'DE89 3704 0044 0532 0130 00');
            GRANT ALL ON ALL TABLES IN SCHEMA {_schema} TO gatehouse_scram;
            """);
        await using var connection = await OpenAsync();
        var parent = await RowsAsync(connection, $"SELECT email, salary FROM {_schema}.people WHERE id = 30");
        var child = await RowsAsync(connection, $"SELECT email, salary, name FROM {_schema}.people_child");
        Assert.Equal(parent[0][0], child[0][0]); // the same token as through the parent, not kid@example.com
        Assert.StartsWith("tok_", (string)child[0][0]!, StringComparison.Ordinal);
        Assert.Null(child[0][1]);
        Assert.Equal("Kid", child[0][2]);
        Assert.Equal("2026-01-01", (await RowsAsync(connection, $"SELECT since::text FROM {_schema}.people_child"))[0][0]); // the child's own column
        foreach (var table in new[] { "ledger", "ledger_low", "ledger_low_a" })
        {
            Assert.Equal("[redacted]", (await RowsAsync(connection, $"SELECT iban FROM {_schema}.{table}"))[0][0]);
        }
    }

    [Fact]
    public async Task Errors_and_notices_do_not_show_what_masking_hides()
    {
        await fixture.Postgres.PsqlAsync($"""
            CREATE TABLE {_schema}.cards_nn (id int PRIMARY KEY, card text, label text NOT NULL);
            INSERT INTO {_schema}.cards_nn VALUES (1, '{Card}', 'x');
            CREATE FUNCTION {_schema}.shout(t text) RETURNS int LANGUAGE plpgsql AS $f$ BEGIN RAISE NOTICE 'value: %', t; RETURN 1; END $f$;
            GRANT ALL ON ALL TABLES IN SCHEMA {_schema} TO gatehouse_scram;
            """);
        await using var connection = await OpenWithDetailAsync("analysts");
        var notices = new List<string>();
        connection.Notice += (_, e) => notices.Add(e.Notice.MessageText);

        var cast = await Assert.ThrowsAsync<PostgresException>(() => RowsAsync(connection, $"SELECT card::int FROM {_schema}.people WHERE id = 1"));
        Assert.Equal("22P02", cast.SqlState);
        Assert.Equal("invalid input syntax for type integer: \"[masked]\"", cast.MessageText);

        var json = await Assert.ThrowsAsync<PostgresException>(() => RowsAsync(connection, $"SELECT card::jsonb FROM {_schema}.people WHERE id = 1"));
        Assert.Equal(ServerMessageMasking.Withheld, json.Detail);
        Assert.Equal(ServerMessageMasking.Withheld, json.Where);

        var notNull = await Assert.ThrowsAsync<PostgresException>(() => RowsAsync(connection, $"UPDATE {_schema}.cards_nn SET label = NULL WHERE id = 1"));
        Assert.Equal("23502", notNull.SqlState);
        Assert.Equal(ServerMessageMasking.Withheld, notNull.Detail); // "Failing row contains (1, 4111 …, null)"
        Assert.Equal("label", notNull.ColumnName);

        Assert.Single(await RowsAsync(connection, $"SELECT {_schema}.shout(card) FROM {_schema}.people WHERE id = 1")); // its NOTICE prints the card
        Assert.Equal([ServerMessageMasking.Withheld], notices);

        foreach (var error in new[] { cast, json, notNull })
        {
            Assert.DoesNotContain("4111", $"{error.MessageText} {error.Detail} {error.Where} {error.Hint} {error.InternalQuery}", StringComparison.Ordinal);
        }

        // The session goes on; an exempt session sees the server's own text.
        Assert.Equal("Ada", (await RowsAsync(connection, $"SELECT name FROM {_schema}.people WHERE id = 1"))[0][0]);
        await using var dba = await OpenWithDetailAsync("dba");
        var plain = await Assert.ThrowsAsync<PostgresException>(() => RowsAsync(dba, $"SELECT card::int FROM {_schema}.people WHERE id = 1"));
        Assert.Contains(Card, plain.MessageText, StringComparison.Ordinal);
        var plainDetail = await Assert.ThrowsAsync<PostgresException>(() => RowsAsync(dba, $"UPDATE {_schema}.cards_nn SET label = NULL WHERE id = 1"));
        Assert.Contains(Card, plainDetail.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SELECT ('x' || replace(card, ' ', ''))::regtype FROM {0}.people WHERE id = 1", "42704")] // type "x4111…" does not exist
    [InlineData("SELECT ('x.y.z.' || replace(card, ' ', ''))::regclass FROM {0}.people WHERE id = 1", "42601")] // too many dotted names: x.y.z.4111…
    [InlineData("SELECT nextval('x' || replace(card, ' ', '')) FROM {0}.people WHERE id = 1", "42P01")]
    [InlineData("SELECT current_setting('x' || replace(card, ' ', '')) FROM {0}.people WHERE id = 1", "42704")]
    [InlineData("SELECT has_schema_privilege('x' || replace(card, ' ', ''), 'USAGE') FROM {0}.people WHERE id = 1", "3F000")]
    public async Task Errors_the_server_composes_from_a_rows_value_do_not_show_it(string template, string sqlState)
    {
        var sql = string.Format(System.Globalization.CultureInfo.InvariantCulture, template, _schema);
        await using var connection = await OpenWithDetailAsync("analysts");
        var error = await Assert.ThrowsAsync<PostgresException>(() => RowsAsync(connection, sql));
        Assert.True(sqlState == error.SqlState, error.MessageText);
        Assert.Equal(ServerMessageMasking.Withheld, error.MessageText);
        Assert.DoesNotContain("4111", $"{error.Detail} {error.Where} {error.Hint} {error.InternalQuery}", StringComparison.Ordinal);

        // The simple protocol too; the session goes on, and an error in the statement's own text keeps its words.
        var psql = await Psql.RunOnPortAsync(Port, Token(), null, "-c", sql);
        Assert.Contains(ServerMessageMasking.Withheld, psql.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("4111", psql.Stderr, StringComparison.Ordinal);
        var typo = await Assert.ThrowsAsync<PostgresException>(() => RowsAsync(connection, $"SELECT card FROM {_schema}.nope"));
        Assert.Contains("nope", typo.MessageText, StringComparison.Ordinal);
        await ExecuteAsync(connection, "SET statement_timeout = '50ms'");
        var timeout = await Assert.ThrowsAsync<PostgresException>(() => RowsAsync(connection, $"SELECT reverse(card), pg_sleep(1) FROM {_schema}.people WHERE id = 1"));
        Assert.Equal("canceling statement due to statement timeout", timeout.MessageText); // worded without a value: kept
        await ExecuteAsync(connection, "RESET statement_timeout");

        await using var dba = await OpenWithDetailAsync("dba");
        var plain = await Assert.ThrowsAsync<PostgresException>(() => RowsAsync(dba, sql));
        Assert.Contains("4111", $"{plain.MessageText} {plain.Detail} {plain.Where}", StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_notification_whose_payload_shows_a_value_is_withheld_from_a_masked_listener()
    {
        var channel = "ch_" + _schema;
        await using var listener = await OpenAsync();
        var received = new List<string>();
        listener.Notification += (_, e) => received.Add($"{e.Channel}: {e.Payload}");
        await ExecuteAsync(listener, $"LISTEN {channel}");
        await using (var app = await OpenAsync("dba"))
        {
            await ExecuteAsync(app, $"NOTIFY {channel}, 'paid with {Card}'");
            await ExecuteAsync(app, $"NOTIFY {channel}, 'order 17 shipped'");
        }

        while (received.Count < 2 && await listener.WaitAsync(TimeSpan.FromSeconds(10)))
        {
        }

        Assert.Equal([$"{channel}: {ServerMessageMasking.Withheld}", $"{channel}: order 17 shipped"], received);
    }

    /// <summary>Npgsql hides an error's detail unless asked; these tests read what the gateway let through.</summary>
    private async Task<NpgsqlConnection> OpenWithDetailAsync(string group)
    {
        var builder = new NpgsqlConnectionStringBuilder(fixture.ConnectionString(Token(group), port: Port)) { IncludeErrorDetail = true };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    [Fact]
    public async Task Planner_statistics_do_not_show_the_values_of_a_sensitive_column()
    {
        await fixture.Postgres.PsqlAsync($"ANALYZE {_schema}.people;");
        foreach (var sql in new[]
        {
            $"SELECT attname, most_common_vals, histogram_bounds FROM pg_stats WHERE schemaname = '{_schema}' AND tablename = 'people' ORDER BY attname",
            $"SELECT attname, most_common_vals::text, histogram_bounds::text FROM pg_catalog.pg_stats WHERE schemaname = '{_schema}' AND tablename = 'people' ORDER BY attname",
        })
        {
            var psql = await Psql.RunOnPortAsync(Port, Token(), null, "-c", sql);
            Assert.True(psql.ExitCode == 0, psql.Stderr);
            Assert.Contains("salary||", psql.Stdout, StringComparison.Ordinal); // every value column masked whole (NULL)
            Assert.DoesNotContain("1000.50", psql.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("Alan", psql.Stdout, StringComparison.Ordinal);
        }

        var dba = await Psql.RunOnPortAsync(Port, Token("dba"), null, "-c", $"SELECT histogram_bounds FROM pg_stats WHERE schemaname = '{_schema}' AND attname = 'salary'");
        Assert.Contains("1000.50", dba.Stdout, StringComparison.Ordinal); // exempt: the statistics as they are
    }

    [Fact]
    public async Task Masked_values_are_counted_per_rule_and_detector_in_metrics()
    {
        await ScalarAsync($"SELECT card FROM {_schema}.people WHERE id = 1");
        await ScalarAsync("SELECT 'someone@example.org'::text");
        using var http = new HttpClient();
        var text = await http.GetStringAsync(new Uri(_host.HttpAddress!, "metrics"));
        Assert.Matches("(?m)^gatehouse_masking_values_total\\{source=\"cards\"\\} [1-9]", text);
        Assert.Matches("(?m)^gatehouse_masking_values_total\\{source=\"detector:email\"\\} [1-9]", text);
    }

    [Fact]
    public async Task An_exempt_role_sees_real_values()
    {
        Assert.Equal(Card, await ScalarAsync($"SELECT card AS x FROM {_schema}.people WHERE id = 1", group: "dba"));
        Assert.Equal("ada@example.com", await ScalarAsync($"SELECT email FROM {_schema}.people WHERE id = 1", group: "dba"));
    }

    [Fact]
    public async Task Ddl_through_the_gateway_refreshes_the_catalog_at_once()
    {
        await using var connection = await OpenAsync();
        await ExecuteAsync(connection, $"CREATE TABLE {_schema}.late (kept text); INSERT INTO {_schema}.late VALUES ('{Card}')");
        Assert.Equal(Card, (await RowsAsync(connection, $"SELECT kept FROM {_schema}.late"))[0][0]); // not a sensitive column (yet)

        // Renamed to a column the rule names: a stale catalog would still call it "kept" and leak it.
        await ExecuteAsync(connection, $"ALTER TABLE {_schema}.late RENAME COLUMN kept TO card");
        Assert.Equal(MaskedCard, (await RowsAsync(connection, $"SELECT card FROM {_schema}.late"))[0][0]);
        await using var other = await OpenAsync();
        Assert.Equal(MaskedCard, (await RowsAsync(other, $"SELECT * FROM {_schema}.late"))[0][0]);
    }

    [Fact]
    public async Task What_other_sessions_run_is_not_shown_to_a_masked_session()
    {
        // Every session shares the gateway's database account, so pg_stat_activity shows a masked session what an
        // exempt one typed: here its last statement, which stays there while it idles.
        await using var dba = await OpenAsync("dba");
        Assert.Equal($"typed {Card}", (await RowsAsync(dba, $"SELECT 'typed {Card}' AS typed"))[0][0]);
        await using var connection = await OpenAsync();
        foreach (var sql in new[]
                 {
                     "SELECT pid, query FROM pg_stat_activity WHERE query LIKE '%typed%'",
                     "SELECT pid, upper(query) FROM pg_stat_activity WHERE query LIKE '%typed%'",
                     "SELECT pid, (pg_stat_get_activity(pid)).query FROM pg_stat_activity WHERE query LIKE '%typed%'",
                     "SELECT i, pg_stat_get_backend_activity(i) FROM generate_series(1, 100) i WHERE pg_stat_get_backend_activity(i) LIKE '%typed%'",
                 })
        {
            var rows = await RowsAsync(connection, sql);
            Assert.True(rows.Count >= 2, sql); // the exempt session's and this one's
            Assert.All(rows, row => Assert.Null(row[1]));
        }

        await using var other = await OpenAsync("dba");
        var dbaSees = await RowsAsync(other, "SELECT query FROM pg_stat_activity WHERE query LIKE '%typed%'"); // an exempt session has no masker
        Assert.Contains(dbaSees, row => ((string)row[0]!).Contains(Card, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_view_created_during_a_masked_session_counts_at_once()
    {
        await using var connection = await OpenAsync();
        Assert.Equal("Ada", (await RowsAsync(connection, $"SELECT n FROM {_schema}.people_v WHERE id = 1"))[0][0]); // the catalog is loaded
        await using (var dba = await OpenAsync("dba"))
        {
            await ExecuteAsync(dba, $"CREATE VIEW {_schema}.people_new AS SELECT id, card AS plain FROM {_schema}.people");
        }

        // The DDL dropped the catalog: the next statement waits for its views, so the new view's names count.
        var error = await Assert.ThrowsAsync<PostgresException>(() => RowsAsync(connection, $"CREATE TABLE {_schema}.stash AS SELECT plain FROM {_schema}.people_new"));
        Assert.Contains("rule \"masking:store\"", error.MessageText, StringComparison.Ordinal);
        Assert.Null((await RowsAsync(connection, $"SELECT reverse(plain) FROM {_schema}.people_new WHERE id = 1"))[0][0]);
        Assert.Equal(MaskedCard, (await RowsAsync(connection, $"SELECT plain FROM {_schema}.people_new WHERE id = 1"))[0][0]);
        Assert.Equal("ADA", (await RowsAsync(connection, $"SELECT upper(n) FROM {_schema}.people_v WHERE id = 1"))[0][0]); // its other columns stay plain
    }

    [Fact]
    public async Task Ddl_in_an_exempt_session_refreshes_the_masked_sessions_catalog_too()
    {
        await using var connection = await OpenAsync();
        await ExecuteAsync(connection, $"CREATE TABLE {_schema}.later (kept text); INSERT INTO {_schema}.later VALUES ('{Card}')");
        Assert.Equal(Card, (await RowsAsync(connection, $"SELECT kept FROM {_schema}.later"))[0][0]);
        await using (var dba = await OpenAsync("dba"))
        {
            await ExecuteAsync(dba, $"ALTER TABLE {_schema}.later RENAME COLUMN kept TO card");
        }

        Assert.Equal(MaskedCard, (await RowsAsync(connection, $"SELECT * FROM {_schema}.later"))[0][0]);
    }

    [Fact]
    public async Task A_copy_after_a_rule_of_several_actions_is_found_where_the_server_splits_the_query()
    {
        // A rule's actions are one statement with ';'s inside parentheses. The COPY after it in the same Query was
        // looked for at the wrong place (a piece of the rule), and the session was ended instead of masked.
        var (host, settings) = await fixture.StartGatewayAsync(appendYaml: $$"""
            masking:
              exempt_roles: [dba]
              rules:
                - name: cards
                  columns: ["{{_schema}}.*.card"]
                  strategy: partial
                  keep: 4
            policy:
              rules:
                - name: rules-and-functions
                  decision: allow
                  risks: [routine_body]
            """);
        await using (host)
        {
            var token = TokenCommand.Mint(settings.Identity, "alice", ["analysts"], TimeSpan.FromMinutes(10));
            var result = await Psql.RunOnPortAsync(host.BoundPorts["demo"], token, null, "-c",
                $"CREATE TEMP TABLE t (x int); CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2); COPY (SELECT id, card FROM {_schema}.people WHERE id = 1) TO STDOUT");
            Assert.True(result.ExitCode == 0, result.Stderr);
            Assert.EndsWith($"CREATE RULE\n1\t{MaskedCard}", result.Stdout.Trim(), StringComparison.Ordinal);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    [Fact]
    public async Task Errors_in_a_masked_session_leave_it_usable()
    {
        await using var connection = await OpenAsync();
        await using (var bad = new NpgsqlCommand($"SELECT card FROM {_schema}.nope", connection))
        {
            await Assert.ThrowsAsync<PostgresException>(() => bad.ExecuteReaderAsync());
        }

        Assert.Equal(MaskedCard, (await RowsAsync(connection, $"SELECT card FROM {_schema}.people WHERE id = 1"))[0][0]);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand($"SELECT card FROM {_schema}.people WHERE id = 1"),
                new NpgsqlBatchCommand($"SELECT name FROM {_schema}.people WHERE id = 1"),
                new NpgsqlBatchCommand($"SELECT ssn FROM {_schema}.people WHERE id = 1"),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(MaskedCard, reader.GetString(0));
        Assert.True(await reader.NextResultAsync() && await reader.ReadAsync());
        Assert.Equal("Ada", reader.GetString(0));
        Assert.True(await reader.NextResultAsync() && await reader.ReadAsync());
        Assert.Equal("[redacted]", reader.GetString(0));
    }
}
