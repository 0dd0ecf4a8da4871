using Gatehouse.Tests.Postgres;
using Npgsql;

namespace Gatehouse.Tests.Policy;

/// <summary>
/// The statement guard on the PostgreSQL wire, with the safe defaults, against the real server: a refused
/// statement never runs (the table is still there), the client gets 42501 naming the rule, and the same
/// session goes on working — in and out of transactions, with the simple and the extended protocol.
/// </summary>
[Collection("gateway")]
public sealed class PgPolicyGatewayTests(GatewayFixture fixture) : IAsyncLifetime
{
    private readonly string _table = "guarded_" + Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync() => await fixture.Postgres.PsqlAsync(
        $"CREATE TABLE {_table} (id int primary key, v text); INSERT INTO {_table} VALUES (1, 'one'), (2, 'two'); ALTER TABLE {_table} OWNER TO gatehouse_scram;");

    public async Task DisposeAsync() => await fixture.Postgres.PsqlAsync($"DROP TABLE IF EXISTS {_table};");

    private async Task<long> RowsDirectAsync() => long.Parse((await fixture.Postgres.PsqlAsync($"SELECT count(*) FROM {_table}")).Trim(), System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<PostgresException> RefusedAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var error = await Assert.ThrowsAsync<PostgresException>(() => command.ExecuteNonQueryAsync());
        Assert.Equal("42501", error.SqlState);
        return error;
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    [Theory]
    [InlineData("DROP TABLE {0}")]
    [InlineData("drop /* hidden */ table {0}")]
    [InlineData("/* a; b */ DrOp\n\tTABLE {0} CASCADE")]
    [InlineData("TRUNCATE {0}")]
    [InlineData("DELETE FROM {0}")]
    [InlineData("UPDATE {0} SET v = 'x'")]
    [InlineData("SELECT 1; DROP TABLE {0}")]
    [InlineData("DO $$BEGIN EXECUTE 'DROP TABLE {0}'; END$$")]
    [InlineData("ALTER TABLE {0} DROP COLUMN v")]
    [InlineData("COPY {0} TO PROGRAM 'cat > /dev/null'")]
    [InlineData("SELECT pg_terminate_backend(pg_backend_pid())")]
    [InlineData("CREATE FUNCTION gh_evil() RETURNS void LANGUAGE sql AS $$ DROP TABLE {0} $$")]
    [InlineData("PREPARE gh_drop AS DELETE FROM {0}")]
    public async Task Refused_statements_do_not_run_and_the_session_goes_on(string template)
    {
        await using var connection = await fixture.OpenAsync();
        var error = await RefusedAsync(connection, string.Format(System.Globalization.CultureInfo.InvariantCulture, template, _table));
        Assert.Contains("permission denied by gateway policy: rule \"default:", error.MessageText, StringComparison.Ordinal);
        Assert.Equal(2L, await ScalarAsync(connection, $"SELECT count(*) FROM {_table}"));
        Assert.Equal(2L, await RowsDirectAsync());
        Assert.Equal("one", await ScalarAsync(connection, $"SELECT v FROM {_table} WHERE id = 1"));
    }

    [Fact]
    public async Task Strings_that_merely_contain_drop_table_are_allowed()
    {
        await using var connection = await fixture.OpenAsync();
        Assert.Equal($"DROP TABLE {_table}", await ScalarAsync(connection, $"SELECT 'DROP TABLE {_table}'"));
        Assert.Equal($"; DROP TABLE {_table}; ", await ScalarAsync(connection, $"SELECT $q$; DROP TABLE {_table}; $q$"));
        Assert.Equal(1L, await ScalarAsync(connection, $"DELETE FROM {_table} WHERE id = 2 RETURNING 1::bigint"));
        Assert.Equal(1L, await RowsDirectAsync());
    }

    [Fact]
    public async Task A_refusal_inside_a_transaction_aborts_it_as_a_server_error_would()
    {
        await using var connection = await fixture.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        await ScalarAsync(connection, $"INSERT INTO {_table} VALUES (3, 'three')");
        await RefusedAsync(connection, $"TRUNCATE {_table}");
        var aborted = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(connection, "SELECT 1"));
        Assert.Equal("25P02", aborted.SqlState); // current transaction is aborted: the true status, from the server
        await tx.RollbackAsync();
        Assert.Equal(2L, await ScalarAsync(connection, $"SELECT count(*) FROM {_table}"));
    }

    [Fact]
    public async Task Extended_protocol_prepare_and_pipelined_batches_are_judged_and_stay_usable()
    {
        await using var connection = await fixture.OpenAsync();
        await using (var prepared = new NpgsqlCommand($"DELETE FROM {_table}", connection))
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => prepared.PrepareAsync());
            Assert.Equal("42501", error.SqlState);
        }

        await using (var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand($"INSERT INTO {_table} VALUES (4, 'four')"),
                new NpgsqlBatchCommand($"DROP TABLE {_table}"),
                new NpgsqlBatchCommand("SELECT 42"),
            },
        })
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => batch.ExecuteNonQueryAsync());
            Assert.Equal("42501", error.SqlState);
        }

        // The batch ran as one implicit transaction: the INSERT before the refusal is gone too.
        Assert.Equal(2L, await RowsDirectAsync());
        await using var ok = new NpgsqlCommand($"SELECT v FROM {_table} WHERE id = $1", connection) { Parameters = { new() { Value = 2 } } };
        await ok.PrepareAsync();
        Assert.Equal("two", await ok.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_rule_naming_the_risk_lets_the_dba_role_drop_and_a_hold_says_approval_is_needed()
    {
        await using var dba = new NpgsqlConnection(fixture.ConnectionString(fixture.Token("bob", ["dba"])));
        await dba.OpenAsync();
        var held = await RefusedAsync(dba, $"GRANT SELECT ON {_table} TO PUBLIC");
        Assert.Contains("rule \"grants-need-approval\" requires approval", held.MessageText, StringComparison.Ordinal);
        await ScalarAsync(dba, $"DROP TABLE {_table}");
        Assert.Equal("0", (await fixture.Postgres.PsqlAsync($"SELECT count(*) FROM pg_class WHERE relname = '{_table}'")).Trim());
    }

    [Fact]
    public async Task Psql_sees_the_rule_and_reason()
    {
        var result = await Psql.RunAsync(fixture, fixture.Token(), "-v", "ON_ERROR_STOP=0", "-c", $"DROP TABLE {_table}", "-c", "SELECT 7");
        Assert.Contains("permission denied by gateway policy", result.Stderr, StringComparison.Ordinal);
        Assert.Contains("7", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(2L, await RowsDirectAsync());
        Assert.Contains(fixture.Logs, l => l.Contains("refused (deny) by rule default:destructive", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Decisions_and_the_time_spent_judging_show_in_metrics()
    {
        using var http = new HttpClient();
        var metrics = new Uri(fixture.Gateway.HttpAddress!, "metrics");
        var before = await http.GetStringAsync(metrics);
        await using (var connection = await fixture.OpenAsync())
        {
            await RefusedAsync(connection, $"TRUNCATE {_table}");
            Assert.Equal(2L, await ScalarAsync(connection, $"SELECT count(*) FROM {_table}"));
        }

        var after = await http.GetStringAsync(metrics);
        const string refused = "gatehouse_policy_decisions_total{decision=\"deny\",kind=\"ddl\",rule=\"default:destructive\"}";
        Assert.True(Value(after, refused) >= Value(before, refused) + 1, after);
        Assert.Contains("# TYPE gatehouse_policy_time_seconds counter", after, StringComparison.Ordinal);
        Assert.True(Value(after, "gatehouse_policy_time_seconds_total") > Value(before, "gatehouse_policy_time_seconds_total"), after);
    }

    /// <summary>A series' value in a scrape; 0 when it is not there yet.</summary>
    private static double Value(string scrape, string series)
    {
        var line = scrape.Split('\n').FirstOrDefault(l => l.StartsWith(series + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
