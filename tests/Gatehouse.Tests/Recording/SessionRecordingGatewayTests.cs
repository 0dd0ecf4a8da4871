using Gatehouse.Host.Recording;
using Gatehouse.Proxy.Core.Recording;
using Gatehouse.Tests.MySql;
using Gatehouse.Tests.Postgres;
using Npgsql;

namespace Gatehouse.Tests.Recording;

/// <summary>
/// Real sessions through the gateway (the demo configuration records every session): the recording replays to
/// exactly the statements the database ran (PostgreSQL's log_statement=all, MariaDB's general log), with bound
/// parameter values, results as the client saw them (masked), each refused statement with its decision, and
/// the session's end; and the live recording verifies.
/// </summary>
[Collection("gateway")]
public sealed class SessionRecordingGatewayTests(GatewayFixture fixture)
{
    private readonly string _marker = "rec" + Guid.NewGuid().ToString("N")[..10];

    private DirectorySegmentStore Store => new(fixture.Settings.Recording!.Directory);

    private byte[] Key => fixture.Settings.Recording!.Key;

    [Fact]
    public async Task A_postgres_session_replays_to_what_the_server_ran_with_parameters_results_and_refusals()
    {
        await using (var connection = await fixture.OpenAsync())
        {
            await using (var select = new NpgsqlCommand($"SELECT $1::text || '-{_marker}' AS echoed", connection))
            {
                select.Parameters.AddWithValue("p1");
                Assert.Equal($"p1-{_marker}", await select.ExecuteScalarAsync());
            }

            await using (var simple = new NpgsqlBatch(connection) { BatchCommands = { new NpgsqlBatchCommand($"SELECT count(*) AS n_{_marker} FROM customers") } })
            {
                Assert.Equal(3L, await simple.ExecuteScalarAsync());
            }

            await using var drop = new NpgsqlCommand($"DROP TABLE customers /* {_marker} */", connection);
            await Assert.ThrowsAsync<PostgresException>(() => drop.ExecuteNonQueryAsync());
        }

        var session = await WaitForEndedSessionAsync();
        Assert.Equal("alice", session.Start!.User);
        Assert.Equal("postgres", session.Start.Protocol);
        Assert.Equal("client_closed", session.End!.Reason);
        Assert.Matches(@"^TLSv1\.[23] TLS_\w+$", session.Start.ClientTls); // what was negotiated, both legs
        Assert.Matches(@"^TLSv1\.[23] TLS_\w+$", session.Start.UpstreamTls);
        var lines = session.Transcribe(out var transcript).Select(l => l.Line).ToList();
        Assert.Contains(lines, l => l.Contains("$1 = 'p1'", StringComparison.Ordinal));
        Assert.Contains(lines, l => l == $"< row: p1-{_marker}");
        Assert.Contains(lines, l => l.StartsWith("! deny by rule default:", StringComparison.Ordinal) && l.Contains($"DROP TABLE customers /* {_marker} */", StringComparison.Ordinal));

        // What the server ran (log_statement=all) is exactly what the recording holds as sent to it.
        var ran = ServerStatements(File.ReadAllLines(fixture.Postgres.LogPath));
        Assert.NotEmpty(ran);
        Assert.All(ran, statement => Assert.Contains(statement, transcript.Statements));
        Assert.DoesNotContain(ran, s => s.StartsWith("DROP", StringComparison.Ordinal));
        Assert.All(SegmentVerifier.Verify(Store, Key, allowOpenLast: true), v => Assert.True(v.Ok, v.Message));

        // The recorder's own series: it wrote and synced, and it is up.
        using var http = new HttpClient();
        var metrics = (await http.GetStringAsync(new Uri(fixture.Gateway.HttpAddress!, "metrics"))).Split('\n');
        double Value(string name) => double.Parse(metrics.Single(l => l.StartsWith(name + " ", StringComparison.Ordinal))[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(Value("gatehouse_recording_records_total") > 0);
        Assert.True(Value("gatehouse_recording_bytes_total") > 0);
        Assert.True(Value("gatehouse_recording_syncs_total") > 0);
        Assert.True(Value("gatehouse_recording_sync_seconds_total") > 0);
        Assert.Equal(1, Value("gatehouse_recording_up"));
        Assert.InRange(Value("gatehouse_recording_queue_records"), 0, 4096);
    }

    [Fact]
    public async Task A_masked_session_is_recorded_masked()
    {
        await using (var connection = await fixture.OpenAsync(fixture.Token("carol", ["contractors"])))
        {
            await using var select = new NpgsqlCommand($"SELECT card_number AS c_{_marker} FROM customers ORDER BY id", connection);
            Assert.Equal("**** **** **** 1111", await select.ExecuteScalarAsync());
        }

        var session = await WaitForEndedSessionAsync();
        var results = session.Records.Where(r => r.Header.Kind == RecordKind.Result).SelectMany(r => r.Payload).ToArray();
        Assert.True(results.AsSpan().IndexOf("**** **** **** 1111"u8) >= 0);
        Assert.True(results.AsSpan().IndexOf("4111 1111 1111 1111"u8) < 0, "the recording holds an unmasked card number");
    }

    [Fact]
    public async Task A_mysql_session_replays_to_what_the_server_ran()
    {
        var result = await MariaDbCli.RunAsync(fixture, fixture.Token(), $"select concat('a', '{_marker}'); select count(*) from customers where name <> '{_marker}';");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var session = await WaitForEndedSessionAsync();
        Assert.Equal("mysql", session.Start!.Protocol);
        Assert.Matches(@"^TLSv1\.[23] TLS_\w+$", session.Start.ClientTls);
        Assert.Matches(@"^TLSv1\.[23] TLS_\w+$", session.Start.UpstreamTls);
        var lines = session.Transcribe(out var transcript).Select(l => l.Line).ToList();
        Assert.Contains(lines, l => l == $"< row: a{_marker}");
        // The general log's lines: "time\t    thread Query\tstatement".
        var ran = File.ReadAllLines(fixture.MariaDb.GeneralLogPath!)
            .Select(l => l.Split(" Query\t", 2)).Where(p => p.Length == 2 && p[1].Contains(_marker, StringComparison.Ordinal)).Select(p => p[1]).ToList();
        Assert.Equal(2, ran.Count);
        Assert.All(ran, statement => Assert.Contains(statement, transcript.Statements));
    }

    private Task<RecordedSession> WaitForEndedSessionAsync() => RecordedSessions.WaitForEndedAsync(fixture.Settings.Recording!.Directory, Key, _marker);

    /// <summary>Statements with the marker in PostgreSQL's log: "statement: ..." (simple) and "execute ...: ..." (extended).</summary>
    private List<string> ServerStatements(string[] log)
        => log.Where(l => l.Contains(_marker, StringComparison.Ordinal))
            .Select(l => l.IndexOf("statement: ", StringComparison.Ordinal) is var s and >= 0 ? l[(s + 11)..]
                : l.IndexOf("execute <unnamed>: ", StringComparison.Ordinal) is var e and >= 0 ? l[(e + 19)..] : null)
            .OfType<string>().ToList();
}
