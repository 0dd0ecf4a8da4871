using System.Data;
using Npgsql;
using NpgsqlTypes;

namespace Gatehouse.Tests.Postgres;

/// <summary>Real clients through the gateway: what a user does every day must behave as with a direct connection.</summary>
[Collection("gateway")]
public sealed class GatewayClientTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Simple_query_runs_as_the_gateways_upstream_user_over_tls()
    {
        await using var connection = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("select current_user, (select ssl from pg_stat_ssl where pid = pg_backend_pid()), count(*) from customers", connection);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("gatehouse_scram", reader.GetString(0)); // the client never held these credentials
        Assert.True(reader.GetBoolean(1)); // gateway → database leg is TLS (verify-full)
        Assert.Equal(3, reader.GetInt64(2));
    }

    [Fact]
    public async Task Parameters_and_prepared_statements_use_the_extended_protocol()
    {
        await using var connection = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("select name from customers where id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer });
        await command.PrepareAsync();
        var names = new List<string>();
        for (var id = 1; id <= 3; id++)
        {
            command.Parameters[0].Value = id;
            names.Add((string)(await command.ExecuteScalarAsync())!);
        }

        Assert.Equal(["Ada Lovelace", "Alan Turing", "Grace Hopper"], names);
    }

    [Fact]
    public async Task Pipelined_batch_reports_an_error_in_the_middle_and_the_session_stays_usable()
    {
        await using var connection = await fixture.OpenAsync();
        await using (var ok = new NpgsqlBatch(connection)
        {
            BatchCommands = { new("select 1"), new("select 2"), new("select 3") },
        })
        {
            await using var reader = await ok.ExecuteReaderAsync();
            var values = new List<int>();
            do
            {
                while (await reader.ReadAsync())
                {
                    values.Add(reader.GetInt32(0));
                }
            }
            while (await reader.NextResultAsync());
            Assert.Equal([1, 2, 3], values);
        }

        await using (var failing = new NpgsqlBatch(connection) { BatchCommands = { new("select 1"), new("select 1/0"), new("select 3") } })
        {
            var error = await Assert.ThrowsAsync<PostgresException>(async () =>
            {
                await using var reader = await failing.ExecuteReaderAsync();
                while (await reader.NextResultAsync())
                {
                }
            });
            Assert.Equal("22012", error.SqlState);
        }

        await using var after = new NpgsqlCommand("select 42", connection);
        Assert.Equal(42, await after.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Copy_in_and_out_round_trip_ten_thousand_rows()
    {
        await using var connection = await fixture.OpenAsync();
        await using (var create = new NpgsqlCommand("create temp table copied (id int, label text)", connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using (var import = await connection.BeginBinaryImportAsync("copy copied (id, label) from stdin (format binary)"))
        {
            for (var i = 0; i < 10_000; i++)
            {
                await import.StartRowAsync();
                await import.WriteAsync(i, NpgsqlDbType.Integer);
                await import.WriteAsync("row " + i, NpgsqlDbType.Text);
            }

            Assert.Equal(10_000UL, await import.CompleteAsync());
        }

        using var export = await connection.BeginTextExportAsync("copy (select id, label from copied order by id) to stdout");
        var lines = 0;
        while (await export.ReadLineAsync() is { } line)
        {
            Assert.Equal($"{lines}\trow {lines}", line);
            lines++;
        }

        Assert.Equal(10_000, lines);
    }

    [Fact]
    public async Task Listen_and_notify_cross_sessions()
    {
        await using var listener = await fixture.OpenAsync();
        await using var notifier = await fixture.OpenAsync();
        var received = new TaskCompletionSource<string>();
        listener.Notification += (_, e) => received.TrySetResult(e.Channel + ":" + e.Payload);
        await using (var listen = new NpgsqlCommand("listen gatehouse_test", listener))
        {
            await listen.ExecuteNonQueryAsync();
        }

        await using (var notify = new NpgsqlCommand("notify gatehouse_test, 'hello'", notifier))
        {
            await notify.ExecuteNonQueryAsync();
        }

        await listener.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("gatehouse_test:hello", await received.Task.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Cancel_reaches_the_running_query_through_the_minted_key()
    {
        await using var connection = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("select pg_sleep(30)", connection);
        var running = command.ExecuteNonQueryAsync();
        await Task.Delay(500);
        command.Cancel();
        var error = await Assert.ThrowsAnyAsync<Exception>(() => running.WaitAsync(TimeSpan.FromSeconds(15)));
        var postgres = error as PostgresException ?? error.InnerException as PostgresException;
        Assert.NotNull(postgres);
        Assert.Equal("57014", postgres.SqlState); // query_canceled: the upstream really got the cancel
        await using var after = new NpgsqlCommand("select 1", connection);
        Assert.Equal(1, await after.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_100_MB_value_streams_through()
    {
        const int size = 100 * 1024 * 1024;
        await using var connection = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand($"select repeat('x', {size})", connection);
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SequentialAccess);
        Assert.True(await reader.ReadAsync());
        await using var stream = await reader.GetStreamAsync(0);
        var buffer = new byte[1 << 20];
        long total = 0;
        int n;
        while ((n = await stream.ReadAsync(buffer)) > 0)
        {
            Assert.True(buffer.AsSpan(0, n).IndexOfAnyExcept((byte)'x') < 0);
            total += n;
        }

        Assert.Equal(size, total);
    }

    [Fact]
    public async Task A_million_rows_stream_in_order()
    {
        await using var connection = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("select g from generate_series(1, 1000000) g", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var expected = 1;
        while (await reader.ReadAsync())
        {
            Assert.Equal(expected++, reader.GetInt32(0));
        }

        Assert.Equal(1_000_001, expected);
    }

    [Fact]
    public async Task Psql_runs_queries_and_copy_through_the_gateway()
    {
        var output = await Psql.RunAsync(fixture, fixture.Token(), "-c", "select name from customers order by id", "-c", "\\copy (select id from customers order by id) to stdout");
        Assert.Equal(0, output.ExitCode);
        Assert.True(output.Stdout.Trim() == "Ada Lovelace\nAlan Turing\nGrace Hopper\n1\n2\n3", output.Stdout + "|" + output.Stderr);
    }

    [Fact]
    public async Task Psql_copy_from_stdin_loads_rows()
    {
        var output = await Psql.RunWithInputAsync(fixture, fixture.Token(), "7\n8\n9\n",
            "-c", "create temp table t (x int)", "-c", "\\copy t from stdin", "-c", "select sum(x) from t");
        Assert.Equal(0, output.ExitCode);
        Assert.EndsWith("24", output.Stdout.Trim());
    }
}
