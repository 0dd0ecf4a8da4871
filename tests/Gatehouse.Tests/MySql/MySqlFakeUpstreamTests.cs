using System.Globalization;
using Gatehouse.Fuzz.Support;
using Gatehouse.Host;
using Gatehouse.Host.Commands;
using Gatehouse.Tests.Postgres;

namespace Gatehouse.Tests.MySql;

/// <summary>
/// Whole gateway sessions in front of <see cref="FakeMySqlServer"/>, for what only a hostile server does: a
/// LOCAL INFILE request must end the session, and the request must never reach the client.
/// </summary>
[Collection("gateway")]
public sealed class MySqlFakeUpstreamTests(GatewayFixture fixture)
{
    private const string Listener = "fake-mysql";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>A second gateway with a plaintext-on-loopback MySQL listener whose upstream is the fake server.</summary>
    private async Task<(GatewayHost Host, string Token)> StartAsync(FakeMySqlServer server)
    {
        var (host, settings) = await fixture.StartGatewayAsync(edit: yaml => yaml
            .Replace("listeners:\n", $"""
                listeners:
                  - name: {Listener}
                    protocol: mysql
                    bind: 127.0.0.1:0
                    upstream: fake-upstream
                    allow_plaintext_on_loopback: true
                    login_timeout: 10s

                """, StringComparison.Ordinal)
            .Replace("upstreams:\n", string.Create(CultureInfo.InvariantCulture, $"""
                upstreams:
                  - name: fake-upstream
                    protocol: mysql
                    host: 127.0.0.1
                    port: {server.Port}
                    database: app
                    user: gatehouse
                    password: fake-upstream-password
                    auth_plugins: [mysql_native_password]
                    tls: disable

                """), StringComparison.Ordinal));
        return (host, TokenCommand.Mint(settings.Identity, "alice", ["dba"], TimeSpan.FromMinutes(5)));
    }

    /// <summary>The fake's login: greeting (native password), the gateway's response, OK.</summary>
    private static async Task LoginAsync(FakeMySqlConnection c)
    {
        await c.ReadHandshakeResponseAsync();
        await c.WriteAsync(2, MySqlMessages.OkPayload());
    }

    public static TheoryData<string, string> InfileResponses => new()
    {
        // The first packet of the response: 0xFB and a file name.
        { "first packet", Convert.ToHexString(MySqlMessages.Response(MySqlMessages.LocalInfilePayload("/etc/passwd"))) },
    };

    /// <summary>
    /// src bug: only a response's first packet (sequence 1) is checked for 0xFB, so a request that opens the
    /// second result of a multi-statement reaches the client. Un-skip with the fix.
    /// </summary>
    public static TheoryData<string, string> InfileResponsesAfterMoreResults => new()
    {
        // An OK saying more results follow (SERVER_MORE_RESULTS_EXISTS), then the request.
        { "after an OK with more results", Convert.ToHexString(MySqlMessages.Response(MySqlMessages.OkPayload(0x000A), MySqlMessages.LocalInfilePayload("/etc/passwd"))) },

        // ... or after a whole result set with more results.
        { "after a result set with more results", Convert.ToHexString(MySqlMessages.Response(
            [.. MySqlMessages.ResultSetPayloads(["a"], ["1"])[..^1], MySqlMessages.EofOkPayload(0x000A), MySqlMessages.LocalInfilePayload("/etc/passwd")])) },
    };

    [Theory]
    [MemberData(nameof(InfileResponsesAfterMoreResults))]
    public Task A_LOCAL_INFILE_request_after_more_results_ends_the_session_too(string what, string responseHex)
        => A_LOCAL_INFILE_request_ends_the_session_and_never_reaches_the_client(what, responseHex);

    [Theory]
    [MemberData(nameof(InfileResponses))]
    public async Task A_LOCAL_INFILE_request_ends_the_session_and_never_reaches_the_client(string what, string responseHex)
    {
        (byte Sequence, byte[] Payload)? afterRequest = null;
        await using var server = new FakeMySqlServer(async c =>
        {
            await LoginAsync(c);
            var query = await c.ExpectAsync(0);
            Assert.Equal(0x03, query.Payload[0]);
            await c.WriteRawAsync(Convert.FromHexString(responseHex));
            afterRequest = await c.ReadAsync(TimeSpan.FromSeconds(10)); // a client that complied would send the file here
        });
        var (host, token) = await StartAsync(server);
        await using (host)
        {
            await using var client = await MySqlRawClient.ConnectAsync(host.BoundPorts[Listener]);
            await client.LoginAsync(token, tls: false);
            await client.SendAsync(MySqlRawClient.Packet(0, MySqlRawClient.Command(0x03, "select * from t")));

            var received = new List<(byte Sequence, byte[] Payload)>();
            while (await client.ReadAsync(Timeout) is { } packet)
            {
                received.Add(packet);
            }

            Assert.False(received.Any(p => p.Payload[0] == 0xFB), $"{what}: the file request reached the client");
            var error = Assert.Single(received, p => p.Payload[0] == 0xFF);
            Assert.Equal(1, error.Sequence);
            Assert.StartsWith("1184 (08S01): the upstream asked to read a file from the client (LOAD DATA LOCAL)", MySqlRawClient.ErrorText(error.Payload),
                StringComparison.Ordinal);

            await server.FirstConnectionDone.WaitAsync(Timeout);
            Assert.Null(afterRequest); // the gateway hung up on the server too
            Assert.Contains(fixture.Logs, l => l.Contains("ended: enforced (the upstream asked to read a file from the client", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_LOCAL_INFILE_request_answering_a_continued_command_never_reaches_the_client()
    {
        // After a command of 0xFFFFFF bytes and an empty continuation (sequence ids 0 and 1), the answer
        // starts at sequence 2: that first packet is the one that may be a file request.
        (byte Sequence, byte[] Payload)? afterRequest = null;
        await using var server = new FakeMySqlServer(async c =>
        {
            await LoginAsync(c);
            var query = await c.ExpectAsync(0);
            Assert.Equal(MySqlMessages.MaxPayload, query.Payload.Length);
            Assert.Empty((await c.ExpectAsync(1)).Payload);
            await c.WriteAsync(2, MySqlMessages.LocalInfilePayload("/etc/passwd"));
            afterRequest = await c.ReadAsync(TimeSpan.FromSeconds(10));
        });
        var (host, token) = await StartAsync(server);
        await using (host)
        {
            await using var client = await MySqlRawClient.ConnectAsync(host.BoundPorts[Listener]);
            await client.LoginAsync(token, tls: false);
            // A hostile server may answer any statement with a file request; the policy lets this SELECT through.
            var payload = MySqlWireTests.Filled(MySqlMessages.MaxPayload, "SELECT 1 /*", "*/");
            await client.SendAsync([.. MySqlRawClient.Packet(0, payload), .. MySqlRawClient.Packet(1, [])]);

            var received = new List<(byte Sequence, byte[] Payload)>();
            while (await client.ReadAsync(Timeout) is { } packet)
            {
                received.Add(packet);
            }

            Assert.False(received.Any(p => p.Payload[0] == 0xFB), "the file request reached the client");
            Assert.StartsWith("1184 (08S01): ", MySqlRawClient.ErrorText(Assert.Single(received).Payload), StringComparison.Ordinal);
            await server.FirstConnectionDone.WaitAsync(Timeout);
            Assert.Null(afterRequest);
        }
    }

    [Fact]
    public async Task The_gateway_logs_in_to_the_fake_without_LOCAL_FILES_and_relays_a_result()
    {
        FakeHandshakeResponse? login = null;
        await using var server = new FakeMySqlServer(async c =>
        {
            login = FakeHandshakeResponse.Parse((await c.ReadHandshakeResponseAsync()).Payload);
            await c.WriteAsync(2, MySqlMessages.OkPayload());
            await c.ExpectAsync(0);
            await c.WriteRawAsync(MySqlMessages.Response(MySqlMessages.ResultSetPayloads(["v"], [null], ["fake"])));
            await c.ReadAsync(TimeSpan.FromSeconds(10));
        });
        var (host, token) = await StartAsync(server);
        await using (host)
        {
            await using var client = await MySqlRawClient.ConnectAsync(host.BoundPorts[Listener]);
            await client.LoginAsync(token, tls: false);
            var rows = MySqlWireTests.Rows(await client.CommandAsync(MySqlRawClient.Command(0x03, "select v from t")));
            Assert.Equal([null, "fake"], rows.Select(r => r[0]));
        }

        Assert.NotNull(login);
        Assert.Equal(0u, login.Capabilities & MySqlMessages.LocalFiles);
        Assert.Equal("gatehouse", login.User);
        Assert.Equal("mysql_native_password", login.Plugin);
    }
}
