using Gatehouse.Host;
using Gatehouse.Host.Commands;
using Gatehouse.Host.Configuration;
using Gatehouse.Tests.Postgres;
using Npgsql;

namespace Gatehouse.Tests.Masking;

/// <summary>
/// Masking on the PostgreSQL wire against the real server, through Npgsql (binary results, prepared
/// statements) and psql (text results): every way of naming a sensitive column returns masked data, what is
/// not sensitive is exactly what a direct query returns, and exempt roles see real values.
/// </summary>
[Collection("gateway")]
public sealed class PgMaskingGatewayTests(GatewayFixture fixture) : IAsyncLifetime
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
              detectors:
                - kinds: [all]
                  strategy: redact
            """);
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
    [InlineData("SELECT row(card)::text FROM {0}.people WHERE id = 1")]
    [InlineData("SELECT string_agg(card, ',') FROM {0}.people")]
    [InlineData("SELECT to_json(p) FROM {0}.people p WHERE id = 1")]
    [InlineData("SELECT p::text FROM {0}.people p WHERE id = 1")]
    [InlineData("SELECT to_jsonb(s) FROM (SELECT * FROM {0}.people WHERE id = 1) s")]
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
