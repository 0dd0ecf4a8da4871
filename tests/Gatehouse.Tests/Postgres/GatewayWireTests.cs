using System.Buffers.Binary;
using System.Net.Security;
using System.Text;
using Npgsql;

namespace Gatehouse.Tests.Postgres;

/// <summary>The protocol's edges, spoken by hand: negotiation, hostile lengths, isolation between sessions.</summary>
[Collection("gateway")]
public sealed class GatewayWireTests(GatewayFixture fixture)
{
    private const int SslRequest = 80877103;
    private const int GssEncRequest = 80877104;

    [Fact]
    public async Task Bytes_after_SSLRequest_close_the_connection_without_an_answer()
    {
        await using var client = await PgRawClient.ConnectAsync(fixture.Port);
        // SSLRequest and a plaintext startup packet in one write: CVE-2021-23214's injection.
        await client.SendAsync([.. PgRawClient.Request(SslRequest), .. PgRawClient.Startup(0, ("user", "alice"))]);
        Assert.Equal(-1, await client.ReadByteAsync());
    }

    [Fact]
    public async Task GSSENCRequest_is_declined_and_the_startup_continues()
    {
        await using var client = await PgRawClient.ConnectAsync(fixture.RawPort);
        await client.SendAsync(PgRawClient.Request(GssEncRequest));
        Assert.Equal('N', await client.ReadByteAsync());
        await client.LoginAsync(fixture.Token());
    }

    [Fact]
    public async Task SSLRequest_then_TLS_logs_in()
    {
        await using var client = await PgRawClient.ConnectAsync(fixture.Port);
        await client.SendAsync(PgRawClient.Request(SslRequest));
        Assert.Equal('S', await client.ReadByteAsync());
        var ssl = new SslStream(client.Stream, false, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync("localhost");
        client.Stream = ssl;
        var messages = await client.LoginAsync(fixture.Token());
        Assert.Contains(messages, m => m.Type == 'K');
        Assert.Contains(messages, m => m.Type == 'S' && Encoding.UTF8.GetString(m.Body).StartsWith("client_encoding\0UTF8", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Direct_TLS_needs_the_postgresql_ALPN()
    {
        await using (var good = await PgRawClient.ConnectAsync(fixture.Port))
        {
            var ssl = new SslStream(good.Stream, false, (_, _, _, _) => true);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "localhost",
                ApplicationProtocols = [new SslApplicationProtocol("postgresql")],
            });
            good.Stream = ssl;
            await good.LoginAsync(fixture.Token());
        }

        await using var bad = await PgRawClient.ConnectAsync(fixture.Port);
        var plain = new SslStream(bad.Stream, false, (_, _, _, _) => true);
        await plain.AuthenticateAsClientAsync("localhost");
        bad.Stream = plain;
        await bad.SendAsync(PgRawClient.Startup(0, ("user", "alice"), ("database", "app")));
        Assert.Null(await bad.ReadAsync());
    }

    [Fact]
    public async Task Newer_minor_version_and_protocol_options_get_NegotiateProtocolVersion()
    {
        await using var client = await PgRawClient.ConnectAsync(fixture.RawPort);
        await client.SendAsync(PgRawClient.Startup(2, ("user", "alice"), ("database", "app"), ("_pq_.future_feature", "on")));
        var negotiate = await client.ReadAsync();
        Assert.Equal('v', negotiate?.Type);
        Assert.Equal(0, BinaryPrimitives.ReadInt32BigEndian(negotiate!.Value.Body));
        Assert.Equal(1, BinaryPrimitives.ReadInt32BigEndian(negotiate.Value.Body.AsSpan(4)));
        Assert.Equal("_pq_.future_feature\0", Encoding.UTF8.GetString(negotiate.Value.Body, 8, negotiate.Value.Body.Length - 8));
        var auth = await client.ReadAsync();
        Assert.Equal('R', auth?.Type);
    }

    public static TheoryData<string, byte[]> HostileMessages => new()
    {
        { "length below 4", PgRawClient.Message('Q', [], lengthOverride: 3) },
        { "negative length", PgRawClient.Message('Q', [], lengthOverride: -5) },
        { "length over the statement cap", PgRawClient.Message('Q', [], lengthOverride: 0x7FFFFFF0) },
        { "sync with a body", PgRawClient.Message('S', [1, 2, 3]) },
        { "unknown message type", PgRawClient.Message('z', [0]) },
        { "startup packet after login", PgRawClient.Startup(0, ("user", "x")) },
    };

    [Theory]
    [MemberData(nameof(HostileMessages))]
    public async Task A_hostile_message_ends_only_its_own_session_with_08P01(string name, byte[] message)
    {
        Assert.NotEmpty(name);
        await using var bystander = await fixture.OpenAsync();
        await using var client = await PgRawClient.ConnectAsync(fixture.RawPort);
        await client.LoginAsync(fixture.Token());
        await client.SendAsync(message);
        var error = await client.ReadAsync();
        Assert.Equal('E', error?.Type);
        Assert.StartsWith("FATAL 08P01", PgRawClient.ErrorText(error!.Value.Body));
        Assert.Null(await client.ReadAsync());
        await using var command = new NpgsqlCommand("select count(*) from customers", bystander);
        Assert.Equal(3L, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task An_oversized_startup_packet_is_refused_before_its_body_arrives()
    {
        await using var client = await PgRawClient.ConnectAsync(fixture.RawPort);
        var head = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, 1_000_000);
        BinaryPrimitives.WriteInt32BigEndian(head.AsSpan(4), 3 << 16);
        await client.SendAsync(head);
        var error = await client.ReadAsync();
        Assert.Equal('E', error?.Type);
        Assert.Contains("08P01", PgRawClient.ErrorText(error!.Value.Body));
    }

    [Fact]
    public async Task A_silent_client_is_dropped_at_the_login_deadline()
    {
        await using var client = await PgRawClient.ConnectAsync(fixture.RawPort);
        var started = DateTime.UtcNow;
        var error = await client.ReadAsync(TimeSpan.FromSeconds(15));
        Assert.Equal('E', error?.Type);
        Assert.Contains("login not completed", PgRawClient.ErrorText(error!.Value.Body));
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(12));
    }

    [Fact]
    public async Task A_cancel_request_with_an_unknown_key_is_ignored()
    {
        await using var victim = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("select pg_sleep(1), 7", victim);
        var running = command.ExecuteReaderAsync();
        await using var prober = await PgRawClient.ConnectAsync(fixture.RawPort);
        var cancel = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(cancel, 16);
        BinaryPrimitives.WriteInt32BigEndian(cancel.AsSpan(4), 80877102);
        BinaryPrimitives.WriteInt32BigEndian(cancel.AsSpan(8), victim.ProcessID); // the minted id, with a guessed secret
        BinaryPrimitives.WriteInt32BigEndian(cancel.AsSpan(12), 12345);
        await prober.SendAsync(cancel);
        Assert.Null(await prober.ReadAsync());
        await using var reader = await running;
        Assert.True(await reader.ReadAsync());
        Assert.Equal(7, reader.GetInt32(1)); // not cancelled
    }

    [Fact]
    public async Task The_client_sees_minted_keys_not_the_upstreams()
    {
        await using var connection = await fixture.OpenAsync();
        await using var command = new NpgsqlCommand("select pg_backend_pid()", connection);
        var upstreamPid = (int)(await command.ExecuteScalarAsync())!;
        Assert.NotEqual(upstreamPid, connection.ProcessID);
    }
}
