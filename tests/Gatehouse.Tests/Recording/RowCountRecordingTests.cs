using System.Buffers.Binary;
using Gatehouse.Host.Commands;
using Gatehouse.Host.Configuration;
using Gatehouse.Host.Recording;
using Gatehouse.Proxy.Core.Recording;
using Gatehouse.Tests.Masking;
using Gatehouse.Tests.MySql;
using Gatehouse.Tests.Postgres;
using Npgsql;

namespace Gatehouse.Tests.Recording;

/// <summary>
/// <c>results: row_count</c>: the client gets every row, the recording keeps everything else (statements,
/// column descriptions, tags, errors) and, where rows went by, a RowsOmitted record with their exact count —
/// for PostgreSQL simple and extended queries and COPY TO STDOUT, and MySQL text, binary and cursor rows,
/// masked or not. Another upstream keeps full results.
/// </summary>
[Collection("gateway")]
public sealed class RowCountRecordingTests(GatewayFixture fixture)
{
    private readonly string _marker = "rc" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task Postgres_rows_go_to_the_client_and_only_their_count_is_recorded()
    {
        var (gateway, settings) = await StartAsync("results: row_count");
        await using var owner = gateway;
        var connectionString = fixture.ConnectionString(Token(settings, "alice", ["analysts"]), port: gateway.BoundPorts["demo"]);
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using (var extended = new NpgsqlCommand($"SELECT 'v' || g || $1 AS value FROM generate_series(1, 20000) g", connection))
            {
                extended.Parameters.AddWithValue(_marker);
                var rows = 0;
                await using var reader = await extended.ExecuteReaderAsync();
                while (await reader.ReadAsync())
                {
                    Assert.Equal($"v{++rows}{_marker}", reader.GetString(0));
                }

                Assert.Equal(20000, rows);
            }

            await using (var simple = new NpgsqlBatch(connection) { BatchCommands = { new NpgsqlBatchCommand($"SELECT 'w' || g || '{_marker}' FROM generate_series(1, 7) g") } })
            {
                Assert.Equal($"w1{_marker}", await simple.ExecuteScalarAsync());
            }

            using var copy = await connection.BeginTextExportAsync($"COPY (SELECT 'c' || g || '{_marker}' FROM generate_series(1, 250) g) TO STDOUT");
            Assert.Equal(250, (await copy.ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        }

        var session = await WaitForEndedSessionAsync(settings);
        var lines = session.Transcribe(out _).Select(l => l.Line).ToList();
        Assert.Equal([20000, 7, 250], Omitted(session).TakeLast(3)); // after Npgsql's own type query at connect
        Assert.Contains(lines, l => l.Contains("SELECT 20000", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("COPY 250", StringComparison.Ordinal));
        Assert.Contains(lines, l => l == "(20000 rows sent, not recorded: results: row_count)");
        AssertNoRowValues(session);
        Assert.All(SegmentVerifier.Verify(new DirectorySegmentStore(settings.Recording!.Directory), settings.Recording.Key, allowOpenLast: true), v => Assert.True(v.Ok, v.Message));
    }

    [Fact]
    public async Task Mysql_text_binary_and_cursor_rows_are_counted_not_recorded_masked_or_not()
    {
        var (gateway, settings) = await StartAsync("results: row_count");
        await using var owner = gateway;
        var port = gateway.BoundPorts["demo-mysql"];
        var cli = await MariaDbCli.RunAsync(fixture, Token(settings, "alice", ["analysts"]),
            $"with recursive s(n) as (select 1 union all select n + 1 from s where n < 300) select concat('v', n, '{_marker}') from s;", port: port);
        Assert.True(cli.ExitCode == 0, cli.Stderr);
        Assert.Equal(300, cli.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        var textSession = await WaitForEndedSessionAsync(settings);
        Assert.Equal(300, Omitted(textSession).Last()); // after the client's own version query
        AssertNoRowValues(textSession);

        // A contractor's binary rows are masked (rewritten by the gateway), then left out all the same.
        await using (var client = await MySqlRawClient.ConnectAsync(port))
        {
            await client.LoginAsync(Token(settings, "carol", ["contractors"]), user: "carol");
            var id = await MySqlMaskingGatewayTests.PrepareAsync(client, $"select card_number, '{_marker}' from customers order by id");
            var binary = await client.CommandAsync(MySqlMaskingGatewayTests.Execute(id, cursor: false));
            Assert.Equal(3, binary.Count(p => p[0] == 0x00 && p.AsSpan().IndexOf("****"u8) >= 0));

            var cursor = await MySqlMaskingGatewayTests.PrepareAsync(client, $"select name, '{_marker}' from customers order by id");
            await client.CommandAsync(MySqlMaskingGatewayTests.Execute(cursor, cursor: true));
            var fetch = new byte[9];
            fetch[0] = 0x1C;
            BinaryPrimitives.WriteUInt32LittleEndian(fetch.AsSpan(1), cursor);
            BinaryPrimitives.WriteUInt32LittleEndian(fetch.AsSpan(5), 2);
            await client.SendAsync(MySqlRawClient.Packet(0, fetch));
            var fetched = 0;
            while ((await client.ReadAsync())!.Value.Payload[0] == 0x00)
            {
                fetched++;
            }

            Assert.Equal(2, fetched);
        }

        var rawSession = await WaitForEndedSessionAsync(settings);
        Assert.Equal([3, 2], Omitted(rawSession));
        AssertNoRowValues(rawSession);
        var results = ResultBytes(rawSession);
        Assert.True(results.AsSpan().IndexOf("****"u8) < 0, "a masked row was recorded");
        Assert.True(results.AsSpan().IndexOf("Ada Lovelace"u8) < 0, "a fetched row was recorded");
    }

    [Fact]
    public async Task The_mode_is_per_upstream_and_a_bad_value_is_refused_at_load()
    {
        var (gateway, settings) = await StartAsync("results: row_count\n  results_by_upstream:\n    demo-db: full");
        await using (gateway)
        {
            Assert.Equal(ResultRecording.Full, settings.Recording!.ResultsFor("demo-db"));
            Assert.Equal(ResultRecording.RowCount, settings.Recording.ResultsFor("demo-mariadb"));
            await using var connection = new NpgsqlConnection(fixture.ConnectionString(Token(settings, "alice", ["analysts"]), port: gateway.BoundPorts["demo"]));
            await connection.OpenAsync();
            await using var select = new NpgsqlCommand($"SELECT 'kept-{_marker}'", connection);
            await select.ExecuteScalarAsync();
        }

        var session = await WaitForEndedSessionAsync(settings);
        Assert.Empty(Omitted(session));
        Assert.True(ResultBytes(session).AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes($"kept-{_marker}")) >= 0);

        var error = await Assert.ThrowsAnyAsync<Exception>(() => StartAsync("results: rows\n  results_by_upstream:\n    nowhere: row_count"));
        Assert.Contains("recording.results: \"rows\" is not full or row_count", error.Message, StringComparison.Ordinal);
        Assert.Contains("recording.results_by_upstream.nowhere: no upstream has this name", error.Message, StringComparison.Ordinal);
    }

    private Task<(Gatehouse.Host.GatewayHost Host, GatehouseSettings Settings)> StartAsync(string recordingYaml)
        => fixture.StartGatewayAsync(withMySql: true, edit: yaml => System.Text.RegularExpressions.Regex.Replace(yaml,
            @"(?m)^(  key_file: .*)$", $"$1\n  {recordingYaml}"));

    private static string Token(GatehouseSettings settings, string user, string[] groups) => TokenCommand.Mint(settings.Identity, user, groups, TimeSpan.FromMinutes(5));

    /// <summary>The row counts replay shows: one per run of RowsOmitted records (a result's rows may span reads, one record each).</summary>
    private static List<long> Omitted(RecordedSession session) => session.Transcribe(out _)
        .Select(l => System.Text.RegularExpressions.Regex.Match(l.Line, @"^\((\d+) rows sent, not recorded: results: row_count\)$"))
        .Where(m => m.Success).Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();

    private static byte[] ResultBytes(RecordedSession session)
        => session.Records.Where(r => r.Header.Kind == RecordKind.Result).SelectMany(r => r.Payload).ToArray();

    /// <summary>Row values carry the marker right after a number; column names (kept) carry it after a quote.</summary>
    private void AssertNoRowValues(RecordedSession session)
        => Assert.DoesNotMatch($"[0-9]{_marker}", System.Text.Encoding.UTF8.GetString(ResultBytes(session)));

    private Task<RecordedSession> WaitForEndedSessionAsync(GatehouseSettings settings)
        => RecordedSessions.WaitForEndedAsync(settings.Recording!.Directory, settings.Recording.Key, _marker);
}
