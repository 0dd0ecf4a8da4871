using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Gatehouse.Fuzz.Support;
using Gatehouse.Tests.Postgres;

namespace Gatehouse.Tests.MySql;

/// <summary>
/// The MySQL protocol's edges spoken by hand through the gateway to a real MariaDB: both ways of handing over
/// the token, hostile framing, refused commands that leave the session usable, LOCAL INFILE, and KILL
/// isolation between sessions that share the gateway's database account.
/// </summary>
[Collection("gateway")]
public sealed class MySqlWireTests(GatewayFixture fixture)
{
    private const uint ClientLocalFiles = 0x80;

    private async Task<MySqlRawClient> LoginAsync(string subject = "alice", bool tls = false)
    {
        var client = await MySqlRawClient.ConnectAsync(tls ? fixture.MySqlPort : fixture.MySqlRawPort);
        await client.LoginAsync(fixture.Token(subject), tls);
        return client;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Token_in_a_length_encoded_clear_password_handshake_response_logs_in(bool tls)
    {
        var token = fixture.Token();
        Assert.True(Encoding.UTF8.GetByteCount(token) + 1 >= 251, "a JWT needs a multi-byte length-encoded length");
        Assert.Equal(0xFC, MySqlRawClient.ClearTokenResponse("alice", token)[32 + "alice\0".Length]);

        await using var client = await MySqlRawClient.ConnectAsync(tls ? fixture.MySqlPort : fixture.MySqlRawPort);
        await client.LoginAsync(token, tls);
        Assert.Equal(0u, client.ServerCapabilities & ClientLocalFiles); // never offered to clients
        Assert.Equal(tls, (client.ServerCapabilities & MySqlRawClient.Ssl) != 0);
        Assert.StartsWith("gatehouse_native@", await ScalarAsync(client, "select current_user()"));
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(false, 20)]
    [InlineData(true, 0)]
    public async Task Token_through_an_auth_switch_to_clear_password_logs_in(bool tls, int scrambleLength)
    {
        // What a client does when it assumes mysql_native_password: the gateway switches it to clear text.
        await using var client = await MySqlRawClient.ConnectAsync(tls ? fixture.MySqlPort : fixture.MySqlRawPort);
        var sequence = await client.GreetAsync(tls);
        var caps = MySqlRawClient.DefaultCaps | (tls ? MySqlRawClient.Ssl : 0);
        await client.SendAsync(MySqlRawClient.Packet(sequence,
            MySqlMessages.HandshakeResponsePayload(caps, "alice", new byte[scrambleLength], "app", "mysql_native_password")));

        var request = await client.ReadAsync() ?? throw new InvalidOperationException("closed instead of an auth switch");
        Assert.Equal(sequence + 1, request.Sequence);
        Assert.Equal([0xFE, .. "mysql_clear_password\0"u8], request.Payload);

        await client.SendAsync(MySqlRawClient.Packet((byte)(sequence + 2), Encoding.UTF8.GetBytes(fixture.Token() + "\0")));
        var ok = await client.ReadAsync() ?? throw new InvalidOperationException("closed after the token");
        Assert.True(ok.Payload[0] == 0x00, MySqlRawClient.ErrorText(ok.Payload));
        Assert.Equal(sequence + 3, ok.Sequence);
        Assert.Equal("2", await ScalarAsync(client, "select 1 + 1"));
    }

    [Fact]
    public async Task A_query_split_into_writes_at_every_position_still_works()
    {
        await using var client = await LoginAsync();
        var packet = MySqlRawClient.Packet(0, MySqlRawClient.Command(0x03, "select 41 + 1"));

        foreach (var b in packet)
        {
            await client.SendAsync([b]);
            await Task.Delay(2);
        }

        Assert.Equal("42", ScalarOf(await client.ReadResponseAsync()));

        for (var split = 1; split < packet.Length; split++)
        {
            await client.SendAsync(packet[..split]);
            await Task.Delay(10);
            await client.SendAsync(packet[split..]);
            Assert.Equal("42", ScalarOf(await client.ReadResponseAsync()));
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("*/")]
    public async Task A_query_of_exactly_0xFFFFFF_bytes_and_its_continuation_returns_the_row(string continuation)
    {
        await using var client = await LoginAsync();
        var payload = Filled(MySqlMessages.MaxPayload, "SELECT 1 /*", continuation.Length == 0 ? "*/" : "");
        await client.SendAsync([.. MySqlRawClient.Packet(0, payload), .. MySqlRawClient.Packet(1, Encoding.ASCII.GetBytes(continuation))]);
        Assert.Equal("1", ScalarOf(await client.ReadResponseAsync()));
        Assert.Equal("2", await ScalarAsync(client, "select 2"));
    }

    [Fact]
    public async Task A_command_with_sequence_5_gets_an_error_and_ends_only_its_own_session()
    {
        await using var bystander = await LoginAsync();
        await using var client = await LoginAsync();
        await client.SendAsync(MySqlRawClient.Packet(5, MySqlRawClient.Command(0x03, "select 1")));

        var error = await client.ReadAsync() ?? throw new InvalidOperationException("closed without an error");
        Assert.Equal(0, error.Sequence);
        Assert.Equal("1156 (08S01): packet out of order: sequence 5", MySqlRawClient.ErrorText(error.Payload));
        Assert.Null(await client.ReadAsync());

        Assert.Equal("7", await ScalarAsync(bystander, "select 7"));
        Assert.Contains(fixture.Logs, l => l.Contains("protocol violation: packet out of order: sequence 5", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_continuation_with_a_garbage_sequence_ends_the_session()
    {
        await using var bystander = await LoginAsync();
        await using var client = await LoginAsync();
        var payload = Filled(MySqlMessages.MaxPayload, "SELECT 1 /*", "");
        await client.SendAsync([.. MySqlRawClient.Packet(0, payload), .. MySqlRawClient.Packet(9, "*/"u8)]);

        var error = await client.ReadAsync() ?? throw new InvalidOperationException("closed without an error");
        Assert.Equal("1156 (08S01): packet out of order: sequence 9 after 0", MySqlRawClient.ErrorText(error.Payload));
        Assert.Null(await client.ReadAsync());
        Assert.Equal("8", await ScalarAsync(bystander, "select 8"));
    }

    [Fact]
    public async Task A_login_packet_declaring_more_than_the_login_cap_is_refused_from_its_header_alone()
    {
        // The relay's own cap (1 GiB reassembled) is out of reach of a real server, which refuses at
        // max_allowed_packet first; the decoder and relay tests cover it. The login cap (64 KiB) is not.
        await using var client = await MySqlRawClient.ConnectAsync(fixture.MySqlRawPort);
        var sequence = await client.GreetAsync(false);
        var clock = Stopwatch.StartNew();
        await client.SendAsync(MySqlMessages.Header(MySqlMessages.MaxPayload, sequence)); // no body follows

        var error = await client.ReadAsync(TimeSpan.FromSeconds(2)) ?? throw new InvalidOperationException("closed without an error");
        Assert.Equal($"1043 (08S01): packet of {MySqlMessages.MaxPayload} bytes during login exceeds 65536", MySqlRawClient.ErrorText(error.Payload));
        Assert.Null(await client.ReadAsync());
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), "the gateway waited for a body it should never read");
    }

    [Fact]
    public async Task COM_CHANGE_USER_is_refused_with_1235_and_the_session_stays_usable()
    {
        await using var client = await LoginAsync();
        await client.SendAsync(MySqlMessages.ChangeUser("root"));
        var error = await client.ReadAsync() ?? throw new InvalidOperationException("closed");
        Assert.Equal(1, error.Sequence);
        Assert.StartsWith("1235 (42000): COM_CHANGE_USER is not allowed", MySqlRawClient.ErrorText(error.Payload), StringComparison.Ordinal);

        var pong = Assert.Single(await client.CommandAsync([0x0E]));
        Assert.Equal(0x00, pong[0]);
        Assert.StartsWith("gatehouse_native@", await ScalarAsync(client, "select current_user()"));
    }

    [Theory]
    [InlineData(0x1D)] // COM_DAEMON
    [InlineData(0x12)] // COM_BINLOG_DUMP
    [InlineData(0x15)] // COM_REGISTER_SLAVE
    [InlineData(0x08)] // COM_SHUTDOWN
    [InlineData(0x20)] // past the last command
    [InlineData(0xFE)]
    public async Task A_refused_or_unknown_command_gets_an_error_and_the_next_query_works(byte command)
    {
        await using var client = await LoginAsync();
        var response = Assert.Single(await client.CommandAsync([command, 1, 2, 3]));
        Assert.Equal($"1047 (08S01): command 0x{command:X2} is not allowed through the gateway", MySqlRawClient.ErrorText(response));
        Assert.Equal("3", await ScalarAsync(client, "select 3"));
    }

    [Fact]
    public async Task LOAD_DATA_LOCAL_INFILE_is_refused_by_the_statement_policy_before_it_reaches_the_server()
    {
        await using var client = await LoginAsync();
        Assert.Equal(0x00, (await client.CommandAsync(MySqlRawClient.Command(0x03, "create temporary table t (line text)")))[0][0]);

        var response = await client.CommandAsync(MySqlRawClient.Command(0x03, "LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE t"));
        var error = Assert.Single(response);
        // The default policy denies load_data; a server asking for a file anyway ends the session (MySqlFakeUpstreamTests).
        Assert.Equal(0xFF, error[0]);
        Assert.StartsWith("1142 (42000): permission denied by gateway policy: rule \"default:destructive\": load_data", MySqlRawClient.ErrorText(error), StringComparison.Ordinal);

        Assert.Equal("0", await ScalarAsync(client, "select count(*) from t"));
    }

    [Fact]
    public async Task KILL_reaches_only_the_callers_own_sessions_rewritten_to_the_upstream_thread()
    {
        await using var sleeper = await LoginAsync("alice");
        await using var same = await LoginAsync("alice");
        await using var other = await LoginAsync("bob");
        var thread = await ScalarAsync(sleeper, "select connection_id()");
        var id = sleeper.ConnectionId.ToString(CultureInfo.InvariantCulture);
        Assert.NotEqual(thread, id); // clients see the gateway's ids, never the server's

        var clock = Stopwatch.StartNew();
        await sleeper.SendAsync(MySqlRawClient.Packet(0, MySqlRawClient.Command(0x03, "SELECT SLEEP(30)")));
        var sleeping = sleeper.ReadResponseAsync();
        await WaitForQueryAsync(fixture, "SELECT SLEEP(30)");

        // Another identity: the id is unknown to it, by KILL statement and by COM_PROCESS_KILL alike.
        Assert.Equal($"1094 (HY000): Unknown thread id: {id}", MySqlRawClient.ErrorText(Assert.Single(await other.CommandAsync(MySqlRawClient.Command(0x03, $"KILL QUERY {id}")))));
        Assert.Equal($"1094 (HY000): Unknown thread id: {id}", MySqlRawClient.ErrorText(Assert.Single(await other.CommandAsync(MySqlRawClient.Command(0x03, $"KILL {id}")))));
        Assert.Equal($"1094 (HY000): Unknown thread id: {id}", MySqlRawClient.ErrorText(Assert.Single(await other.CommandAsync(MySqlMessages.ProcessKill(uint.Parse(id, CultureInfo.InvariantCulture))[4..]))));
        await Task.Delay(500);
        Assert.False(sleeping.IsCompleted, "the other identity's KILL reached the query");

        // The same identity: OK, and the sleep is cut short. MySQL's SLEEP returns 1 when interrupted;
        // MariaDB 10.11 ends the result with ER_QUERY_INTERRUPTED after the column definition.
        var ok = Assert.Single(await same.CommandAsync(MySqlRawClient.Command(0x03, $"KILL QUERY {id}")));
        Assert.True(ok[0] == 0x00, MySqlRawClient.ErrorText(ok));
        AssertInterrupted(await sleeping.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(25), $"the query ran {clock.Elapsed}");
        Assert.Contains($"KILL QUERY {thread}", await File.ReadAllTextAsync(fixture.MariaDb.GeneralLogPath!));

        // The killed session goes on, and the killer's did too.
        Assert.Equal("5", await ScalarAsync(sleeper, "select 5"));
        Assert.Equal("6", await ScalarAsync(same, "select 6"));
    }

    [Theory]
    [InlineData("/*!KILL 5*/")]
    [InlineData("/*!50000 KILL 5*/")]
    [InlineData("SELECT 1; KILL 5")]
    [InlineData("KILL 5; SELECT 1")]
    [InlineData("kill/**/query 5")]
    [InlineData("# comment\nKILL 5")]
    [InlineData("KILL USER gatehouse_native")]
    [InlineData("do 1 -- \nKILL 5")]
    public async Task Anything_with_KILL_that_is_not_exactly_one_KILL_is_refused_with_1227(string sql)
    {
        await using var client = await LoginAsync();
        var error = Assert.Single(await client.CommandAsync(MySqlRawClient.Command(0x03, sql)));
        Assert.Equal("1227 (42000): only KILL [QUERY|CONNECTION] <id> of your own sessions is allowed through the gateway", MySqlRawClient.ErrorText(error));
        Assert.Equal("4", await ScalarAsync(client, "select 4"));
    }

    /// <summary>
    /// How another identity could try to reach alice's query by its upstream thread id, which it can read from
    /// information_schema.processlist since every session shares the gateway's database account. Each must
    /// leave the query running: a KILL split across a 16 MiB continuation is judged whole and refused, and a KILL
    /// assembled at run time (EXECUTE IMMEDIATE / PREPARE FROM an expression) is dynamic SQL the statement policy
    /// cannot read, so it is refused as unknown.
    /// </summary>
    [Theory]
    [InlineData("continuation")]
    [InlineData("execute immediate")]
    [InlineData("prepare")]
    public async Task Another_identity_cannot_kill_a_query_by_its_upstream_thread_id(string how)
    {
        await using var sleeper = await LoginAsync("alice");
        await using var other = await LoginAsync("bob");
        await sleeper.SendAsync(MySqlRawClient.Packet(0, MySqlRawClient.Command(0x03, "SELECT SLEEP(20)")));
        var sleeping = sleeper.ReadResponseAsync();
        await WaitForQueryAsync(fixture, "SELECT SLEEP(20)");

        // Every session shares the gateway's database account, so the thread id is there to be read.
        var thread = await ScalarAsync(other, "select id from information_schema.processlist where info = 'SELECT SLEEP(20)'");
        switch (how)
        {
            case "continuation":
                var payload = Filled(MySqlMessages.MaxPayload, "/*", "");
                await other.SendAsync([.. MySqlRawClient.Packet(0, payload), .. MySqlRawClient.Packet(1, Encoding.ASCII.GetBytes($"*/ KILL QUERY {thread}"))]);
                await other.ReadAsync(TimeSpan.FromSeconds(10));
                break;
            case "execute immediate":
                await other.CommandAsync(MySqlRawClient.Command(0x03, $"EXECUTE IMMEDIATE CONCAT('KI', 'LL QUERY ', {thread})"));
                break;
            default:
                await other.CommandAsync(MySqlRawClient.Command(0x03, $"PREPARE s FROM CONCAT('KI', 'LL QUERY ', {thread})"));
                await other.CommandAsync(MySqlRawClient.Command(0x03, "EXECUTE s"));
                break;
        }

        await Task.Delay(1000);
        Assert.False(sleeping.IsCompleted, $"bob interrupted alice's query ({how}): "
            + (sleeping.IsCompleted ? MySqlRawClient.ErrorText(sleeping.Result[^1]) : ""));
        await fixture.MariaDb.QueryAsync($"KILL QUERY {thread}");
        AssertInterrupted(await sleeping.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    [Fact]
    public async Task Plaintext_after_the_SSL_request_closes_the_connection()
    {
        await using var client = await MySqlRawClient.ConnectAsync(fixture.MySqlPort);
        var sequence = await client.GreetAsync(false);
        Assert.NotEqual(0u, client.ServerCapabilities & MySqlRawClient.Ssl);

        // The SSL request and a plaintext handshake response in one write: bytes injected before the TLS handshake.
        var caps = MySqlRawClient.DefaultCaps | MySqlRawClient.Ssl;
        await client.SendAsync([.. MySqlRawClient.Packet(sequence, MySqlMessages.ResponseHeader(caps)),
            .. MySqlRawClient.Packet((byte)(sequence + 1), MySqlRawClient.ClearTokenResponse("alice", fixture.Token(), caps: caps))]);
        Assert.Null(await client.ReadAsync());
        Assert.Contains(fixture.Logs, l => l.Contains("data other than a TLS handshake followed the SSL request", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // claiming CLIENT_SSL in a plaintext response changes nothing (BACKRONYM, CVE-2015-3152)
    public async Task A_plaintext_login_on_the_tls_listener_is_refused_with_1045(bool claimSsl)
    {
        await using var client = await MySqlRawClient.ConnectAsync(fixture.MySqlPort);
        var sequence = await client.GreetAsync(false);
        var caps = MySqlRawClient.DefaultCaps | (claimSsl ? MySqlRawClient.Ssl : 0);
        await client.SendAsync(MySqlRawClient.Packet(sequence, MySqlRawClient.ClearTokenResponse("alice", fixture.Token(), caps: caps)));
        var error = await client.ReadAsync() ?? throw new InvalidOperationException("closed without an error");
        Assert.Equal(sequence + 1, error.Sequence);
        var text = MySqlRawClient.ErrorText(error.Payload);
        Assert.StartsWith("1045 (28000): ", text, StringComparison.Ordinal);
        Assert.Contains("requires TLS", text, StringComparison.Ordinal);
        Assert.Null(await client.ReadAsync());
    }

    /// <summary>A SELECT SLEEP(n) cut short: MariaDB's error 1317, or MySQL's row with 1.</summary>
    internal static void AssertInterrupted(List<byte[]> response)
    {
        if (response[^1][0] == 0xFF)
        {
            Assert.Equal("1317 (70100): Query execution was interrupted", MySqlRawClient.ErrorText(response[^1]));
        }
        else
        {
            Assert.Equal("1", ScalarOf(response));
        }
    }

    internal static async Task WaitForQueryAsync(GatewayFixture fixture, string info)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var count = await fixture.MariaDb.QueryAsync($"select count(*) from information_schema.processlist where info = '{info}'");
            if (count.Trim() != "0")
            {
                return;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"'{info}' never started");
            await Task.Delay(100);
        }
    }

    internal static async Task<string?> ScalarAsync(MySqlRawClient client, string sql)
        => ScalarOf(await client.CommandAsync(MySqlRawClient.Command(0x03, sql)));

    /// <summary>The first column of the only row of a text result set.</summary>
    internal static string? ScalarOf(List<byte[]> response)
    {
        var rows = Rows(response);
        return Assert.Single(rows)[0];
    }

    /// <summary>The rows of a text result set (CLIENT_DEPRECATE_EOF): column count, definitions, rows, the closing OK.</summary>
    internal static List<string?[]> Rows(List<byte[]> response)
    {
        var first = response[0];
        Assert.True(first[0] is not 0xFF and not 0x00, $"not a result set: {MySqlRawClient.ErrorText(first)}");
        var columns = first[0];
        var rows = new List<string?[]>();
        foreach (var row in response.Skip(1 + columns).SkipLast(1))
        {
            var values = new string?[columns];
            var at = 0;
            for (var i = 0; i < columns; i++)
            {
                if (row[at] == 0xFB)
                {
                    at++;
                    continue;
                }

                var (length, size) = row[at] switch
                {
                    < 0xFB => (row[at], 1),
                    0xFC => (BinaryPrimitives.ReadUInt16LittleEndian(row.AsSpan(at + 1)), 3),
                    _ => (row[at + 1] | (row[at + 2] << 8) | (row[at + 3] << 16), 4),
                };
                values[i] = Encoding.UTF8.GetString(row, at + size, length);
                at += size + length;
            }

            rows.Add(values);
        }

        Assert.Equal(0xFE, response[^1][0]);
        return rows;
    }

    /// <summary>A COM_QUERY payload of <paramref name="length"/> bytes: <paramref name="head"/>, spaces, <paramref name="tail"/>.</summary>
    internal static byte[] Filled(int length, string head, string tail)
    {
        var payload = new byte[length];
        payload.AsSpan().Fill((byte)' ');
        payload[0] = 0x03;
        Encoding.ASCII.GetBytes(head).CopyTo(payload, 1);
        Encoding.ASCII.GetBytes(tail).CopyTo(payload, length - tail.Length);
        return payload;
    }
}
