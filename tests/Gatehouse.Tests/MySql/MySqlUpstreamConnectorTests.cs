using System.Security.Cryptography;
using System.Text;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.MySql;
using Gatehouse.Proxy.Core.Transport;

namespace Gatehouse.Tests.MySql;

/// <summary>
/// <see cref="MySqlUpstreamConnector"/> against <see cref="FakeMySqlServer"/>, for what MariaDB cannot do
/// (it has no caching_sha2_password server plugin) and for hostile servers: the fake checks each scramble
/// the way a server does, and records every byte, so the tests can say the password never went out.
/// </summary>
public sealed class MySqlUpstreamConnectorTests : IDisposable
{
    private const string Password = "s3cret-pässwörd";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    /// <summary>What a modern client negotiates with the gateway, including bits the gateway must not pass on.</summary>
    private const Capabilities ClientCaps = Capabilities.Protocol41 | Capabilities.SecureConnection | Capabilities.PluginAuth
        | Capabilities.PluginAuthLenencClientData | Capabilities.DeprecateEof | Capabilities.MultiResults | Capabilities.MultiStatements
        | Capabilities.Transactions | Capabilities.LongFlag | Capabilities.LongPassword | Capabilities.LocalFiles | Capabilities.ConnectAttrs
        | Capabilities.ConnectWithDb;

    private readonly UpstreamDialer _dialer = new();

    public void Dispose() => _dialer.Dispose();

    private static MySqlUpstreamOptions Options(int port, UpstreamTlsMode tls = UpstreamTlsMode.Disable, IReadOnlyList<string>? plugins = null) => new()
    {
        Name = "fake",
        Host = "127.0.0.1",
        Port = port,
        Database = "app",
        User = "gatehouse",
        Password = () => Password,
        Tls = tls,
        AuthPlugins = plugins ?? [AuthPlugins.CachingSha2, AuthPlugins.NativePassword],
        ConnectTimeout = TimeSpan.FromSeconds(5),
    };

    private Task<MySqlUpstreamConnection> ConnectAsync(MySqlUpstreamOptions options)
    {
        using var cts = new CancellationTokenSource(Timeout);
        return new MySqlUpstreamConnector(_dialer).ConnectAsync(options, "app", ClientCaps, cts.Token);
    }

    private static readonly byte[] Scramble = [.. "ScRaMbLe-0123456789z"u8];

    private static FakeGreeting Greeting(string plugin, bool ssl = true)
        => new() { Plugin = plugin, Scramble = Scramble, Capabilities = ssl ? MySqlMessages.ServerCaps : MySqlMessages.ServerCaps & ~MySqlMessages.Ssl, ConnectionId = 777 };

    [Theory]
    [InlineData(UpstreamTlsMode.Disable)]
    [InlineData(UpstreamTlsMode.Require)]
    public async Task Caching_sha2_fast_path_sends_the_scramble_a_server_verifies(UpstreamTlsMode tls)
    {
        FakeHandshakeResponse? response = null;
        await using var server = new FakeMySqlServer(async c =>
        {
            var (sequence, payload) = await c.ReadHandshakeResponseAsync();
            response = FakeHandshakeResponse.Parse(payload);
            await c.WriteAsync(++sequence, [0x01, 0x03]); // fast authentication succeeded
            await c.WriteAsync(++sequence, MySqlMessages.OkPayload());
        }, Greeting(AuthPlugins.CachingSha2));

        await using var connection = await ConnectAsync(Options(server.Port, tls));
        await server.FirstConnectionDone.WaitAsync(Timeout);

        Assert.NotNull(response);
        Assert.Equal(AuthPlugins.CachingSha2, response.Plugin);
        Assert.Equal("gatehouse", response.User);
        Assert.Equal("app", response.Database);
        Assert.Equal(MySqlScramble.CachingSha2(Password, Scramble), response.AuthData);
        Assert.True(ServerAcceptsCachingSha2(Password, Scramble, response.AuthData));
        Assert.False(ServerAcceptsCachingSha2("wrong", Scramble, response.AuthData));

        // LOCAL_FILES and CONNECT_ATTRS never reach the server, whatever the client negotiated (DESIGN §4).
        Assert.Equal(0u, response.Capabilities & (MySqlMessages.LocalFiles | MySqlMessages.ConnectAttrs));
        Assert.Equal(tls != UpstreamTlsMode.Disable, (response.Capabilities & MySqlMessages.Ssl) != 0);
        Assert.Equal(tls != UpstreamTlsMode.Disable, connection.IsTls);
        Assert.Equal(777u, connection.ThreadId);
        Assert.Equal("8.0.99-fake", connection.ServerVersion);
        Assert.All(server.Accepted.Single().Received, p => Assert.Equal(tls != UpstreamTlsMode.Disable, p.Tls || p.Payload.Length == 32));
    }

    [Fact]
    public async Task Caching_sha2_full_authentication_over_tls_sends_the_password_once_under_tls()
    {
        byte[]? password = null;
        var passwordOverTls = false;
        await using var server = new FakeMySqlServer(async c =>
        {
            var (sequence, _) = await c.ReadHandshakeResponseAsync();
            Assert.Equal(2, sequence);
            await c.WriteAsync(3, [0x01, 0x04]); // not in the server's cache: perform full authentication
            var reply = await c.ExpectAsync(4);
            password = reply.Payload;
            passwordOverTls = c.IsTls;
            await c.WriteAsync(5, MySqlMessages.OkPayload());
        }, Greeting(AuthPlugins.CachingSha2));

        await using var connection = await ConnectAsync(Options(server.Port, UpstreamTlsMode.Require));
        await server.FirstConnectionDone.WaitAsync(Timeout);

        Assert.Equal([.. Encoding.UTF8.GetBytes(Password), 0], password);
        Assert.True(passwordOverTls);
        Assert.True(connection.IsTls);
    }

    [Fact]
    public async Task Caching_sha2_full_authentication_over_plaintext_is_refused_without_sending_the_password_or_asking_for_the_rsa_key()
    {
        (byte Sequence, byte[] Payload)? after = null;
        await using var server = new FakeMySqlServer(async c =>
        {
            await c.ReadHandshakeResponseAsync();
            await c.WriteAsync(2, [0x01, 0x04]);
            after = await c.ReadAsync(TimeSpan.FromSeconds(10)); // a client that goes on sends 0x02 (RSA key request) or the password
        }, Greeting(AuthPlugins.CachingSha2));

        var ex = await Assert.ThrowsAsync<MySqlUpstreamException>(() => ConnectAsync(Options(server.Port)));
        await server.FirstConnectionDone.WaitAsync(Timeout);

        Assert.Contains("TLS", ex.Message, StringComparison.Ordinal);
        Assert.Contains("RSA", ex.Message, StringComparison.Ordinal);
        Assert.Null(after); // the gateway hung up
        var received = Assert.Single(server.Accepted.Single().Received);
        Assert.False(received.Tls);
        AssertPasswordNeverSent(server);
    }

    [Theory]
    [InlineData("dialog")]
    [InlineData("sha256_password")]
    [InlineData("mysql_old_password")]
    [InlineData("auth_gssapi_client")]
    [InlineData("mysql_clear_password")]
    public async Task Auth_switch_to_a_plugin_not_on_the_list_is_refused(string plugin)
    {
        (byte Sequence, byte[] Payload)? after = null;
        await using var server = new FakeMySqlServer(async c =>
        {
            await c.ReadHandshakeResponseAsync();
            await c.WriteAsync(2, MySqlMessages.AuthSwitchPayload(plugin, [.. "0123456789abcdefghij"u8, 0]));
            after = await c.ReadAsync(TimeSpan.FromSeconds(10));
        }, Greeting(AuthPlugins.CachingSha2));

        var ex = await Assert.ThrowsAsync<MySqlUpstreamException>(() => ConnectAsync(Options(server.Port)));
        await server.FirstConnectionDone.WaitAsync(Timeout);

        Assert.Contains(plugin, ex.Message, StringComparison.Ordinal);
        Assert.Contains("not on the configured list", ex.Message, StringComparison.Ordinal);
        Assert.Null(after);
        Assert.Single(server.Accepted.Single().Received);
        AssertPasswordNeverSent(server);
    }

    [Fact]
    public async Task Auth_switch_to_clear_password_over_plaintext_is_refused_even_when_listed()
    {
        await using var server = new FakeMySqlServer(async c =>
        {
            await c.ReadHandshakeResponseAsync();
            await c.WriteAsync(2, MySqlMessages.AuthSwitchPayload(AuthPlugins.ClearPassword, []));
            await c.ReadAsync(TimeSpan.FromSeconds(10));
        }, Greeting(AuthPlugins.NativePassword));

        var ex = await Assert.ThrowsAsync<MySqlUpstreamException>(
            () => ConnectAsync(Options(server.Port, plugins: [AuthPlugins.NativePassword, AuthPlugins.ClearPassword])));
        await server.FirstConnectionDone.WaitAsync(Timeout);

        Assert.Contains("without TLS", ex.Message, StringComparison.Ordinal);
        Assert.Single(server.Accepted.Single().Received);
        AssertPasswordNeverSent(server);
    }

    [Fact]
    public async Task Auth_switch_to_clear_password_over_tls_sends_the_password_when_listed()
    {
        byte[]? reply = null;
        await using var server = new FakeMySqlServer(async c =>
        {
            await c.ReadHandshakeResponseAsync();
            await c.WriteAsync(3, MySqlMessages.AuthSwitchPayload(AuthPlugins.ClearPassword, []));
            reply = (await c.ExpectAsync(4)).Payload;
            await c.WriteAsync(5, MySqlMessages.OkPayload());
        }, Greeting(AuthPlugins.NativePassword));

        await using var connection = await ConnectAsync(Options(server.Port, UpstreamTlsMode.Require, [AuthPlugins.NativePassword, AuthPlugins.ClearPassword]));
        await server.FirstConnectionDone.WaitAsync(Timeout);
        Assert.Equal([.. Encoding.UTF8.GetBytes(Password), 0], reply);
    }

    [Fact]
    public async Task Auth_switch_to_native_password_answers_the_new_scramble()
    {
        byte[] fresh = [.. "FrEsH-sCrAmBlE-98765"u8];
        FakeHandshakeResponse? first = null;
        byte[]? reply = null;
        await using var server = new FakeMySqlServer(async c =>
        {
            first = FakeHandshakeResponse.Parse((await c.ReadHandshakeResponseAsync()).Payload);
            await c.WriteAsync(2, MySqlMessages.AuthSwitchPayload(AuthPlugins.NativePassword, [.. fresh, 0]));
            reply = (await c.ExpectAsync(3)).Payload;
            await c.WriteAsync(4, MySqlMessages.OkPayload());
        }, Greeting(AuthPlugins.CachingSha2));

        await using var connection = await ConnectAsync(Options(server.Port));
        await server.FirstConnectionDone.WaitAsync(Timeout);

        Assert.Equal(AuthPlugins.CachingSha2, first!.Plugin);
        Assert.Equal(20, reply!.Length);
        Assert.True(ServerAcceptsNativePassword(Password, fresh, reply));
        Assert.False(ServerAcceptsNativePassword(Password, Scramble, reply)); // the old scramble would not do
        Assert.Equal(MySqlScramble.NativePassword(Password, fresh), reply);
    }

    [Fact]
    public async Task Native_password_from_the_greeting_is_verified_by_the_server_side_computation()
    {
        FakeHandshakeResponse? response = null;
        await using var server = new FakeMySqlServer(async c =>
        {
            response = FakeHandshakeResponse.Parse((await c.ReadHandshakeResponseAsync()).Payload);
            await c.WriteAsync(2, MySqlMessages.OkPayload());
        }, Greeting(AuthPlugins.NativePassword));

        await using var connection = await ConnectAsync(Options(server.Port, plugins: [AuthPlugins.NativePassword]));
        await server.FirstConnectionDone.WaitAsync(Timeout);
        Assert.Equal(AuthPlugins.NativePassword, response!.Plugin);
        Assert.True(ServerAcceptsNativePassword(Password, Scramble, response.AuthData));
    }

    [Fact]
    public async Task Bytes_the_upstream_sends_before_the_tls_handshake_end_the_login()
    {
        // They would otherwise be read as the server's first TLS bytes (the CVE-2021-23214 pattern). Here they are
        // a plaintext OK, as a machine in the middle would inject to skip authentication.
        await using var server = new FakeMySqlServer(async c => await c.ReadAsync(TimeSpan.FromSeconds(10)),
            Greeting(AuthPlugins.NativePassword) with { Trailer = MySqlMessages.Packet(2, MySqlMessages.OkPayload()) });

        var ex = await Assert.ThrowsAsync<MySqlUpstreamException>(() => ConnectAsync(Options(server.Port, UpstreamTlsMode.Require)));
        await server.FirstConnectionDone.WaitAsync(Timeout);

        Assert.Contains("before the TLS handshake", ex.Message, StringComparison.Ordinal);
        Assert.False(server.Accepted.Single().IsTls);
        AssertPasswordNeverSent(server);
    }

    [Theory]
    [InlineData(UpstreamTlsMode.Require)]
    [InlineData(UpstreamTlsMode.VerifyFull)]
    public async Task A_greeting_without_CLIENT_SSL_is_refused_when_tls_is_required(UpstreamTlsMode tls)
    {
        (byte Sequence, byte[] Payload)? first = null;
        await using var server = new FakeMySqlServer(async c => first = await c.ReadAsync(TimeSpan.FromSeconds(10)), Greeting(AuthPlugins.NativePassword, ssl: false));

        var ex = await Assert.ThrowsAsync<MySqlUpstreamException>(() => ConnectAsync(Options(server.Port, tls)));
        await server.FirstConnectionDone.WaitAsync(Timeout);

        Assert.Contains("does not offer TLS", ex.Message, StringComparison.Ordinal);
        Assert.Null(first); // not even a handshake response with a scramble in it
        Assert.Empty(server.Accepted.Single().Received);
    }

    [Fact]
    public async Task Verify_full_refuses_an_untrusted_certificate_after_the_ssl_request_only()
    {
        await using var server = new FakeMySqlServer(async c =>
        {
            try
            {
                await c.ReadHandshakeResponseAsync();
            }
            catch (System.Security.Authentication.AuthenticationException)
            {
            }
            catch (IOException)
            {
            }
            catch (InvalidOperationException)
            {
                // TLS 1.3: the server's side of the handshake completes, then the client, refusing the certificate, hangs up.
            }
        }, Greeting(AuthPlugins.NativePassword));

        var ex = await Assert.ThrowsAsync<MySqlUpstreamException>(() => ConnectAsync(Options(server.Port, UpstreamTlsMode.VerifyFull)));
        await server.FirstConnectionDone.WaitAsync(Timeout);

        Assert.NotNull(ex.InnerException);
        var sslRequest = Assert.Single(server.Accepted.Single().Received);
        Assert.Equal(32, sslRequest.Payload.Length);
        Assert.NotEqual(0u, BitConverter.ToUInt32(sslRequest.Payload) & MySqlMessages.Ssl);
    }

    [Fact]
    public async Task Verify_full_accepts_the_certificate_it_is_given_as_ca()
    {
        var ca = Path.Combine(Path.GetTempPath(), $"fake-mysql-ca-{Guid.NewGuid():N}.pem");
        await File.WriteAllTextAsync(ca, FakeMySqlServer.Certificate.ExportCertificatePem());
        try
        {
            await using var server = new FakeMySqlServer(async c =>
            {
                await c.ReadHandshakeResponseAsync();
                await c.WriteAsync(3, MySqlMessages.OkPayload());
            }, Greeting(AuthPlugins.NativePassword));

            var options = Options(server.Port, UpstreamTlsMode.VerifyFull) with { CaCertificatePath = ca, ServerName = "localhost" };
            await using var connection = await ConnectAsync(options);
            await server.FirstConnectionDone.WaitAsync(Timeout);
            Assert.True(connection.IsTls);
        }
        finally
        {
            File.Delete(ca);
        }
    }

    [Fact]
    public async Task An_error_instead_of_ok_is_reported_with_the_servers_message()
    {
        await using var server = new FakeMySqlServer(async c =>
        {
            await c.ReadHandshakeResponseAsync();
            await c.WriteAsync(2, MySqlMessages.ErrPayload(1045, "28000", "Access denied for user 'gatehouse'"));
        }, Greeting(AuthPlugins.NativePassword));

        var ex = await Assert.ThrowsAsync<MySqlUpstreamException>(() => ConnectAsync(Options(server.Port)));
        Assert.Contains("1045 (28000): Access denied for user 'gatehouse'", ex.Message, StringComparison.Ordinal);
    }

    /// <summary>Neither the password nor a request for the server's RSA key (0x02) was ever read by the server.</summary>
    private static void AssertPasswordNeverSent(FakeMySqlServer server)
    {
        var received = server.Accepted.Single().Received.ToArray();
        Assert.DoesNotContain(received, p => p.Payload is [0x02]);
        var password = Encoding.UTF8.GetBytes(Password);
        Assert.All(received, p => Assert.True(p.Payload.AsSpan().IndexOf(password) < 0, "the password went out"));
    }

    /// <summary>
    /// mysql_native_password as the server checks it: it stores SHA1(SHA1(password)); SHA1(scramble + stored)
    /// XOR the response must be SHA1(password), whose SHA1 is the stored value.
    /// </summary>
    private static bool ServerAcceptsNativePassword(string password, byte[] scramble, byte[] response)
    {
        var stored = SHA1.HashData(SHA1.HashData(Encoding.UTF8.GetBytes(password)));
        var mask = SHA1.HashData([.. scramble, .. stored]);
        if (response.Length != mask.Length)
        {
            return false;
        }

        var candidate = new byte[mask.Length];
        for (var i = 0; i < mask.Length; i++)
        {
            candidate[i] = (byte)(response[i] ^ mask[i]);
        }

        return SHA1.HashData(candidate).AsSpan().SequenceEqual(stored);
    }

    /// <summary>
    /// caching_sha2_password's fast path as the server checks it: it caches SHA256(SHA256(password));
    /// SHA256(cached + scramble) XOR the response must be SHA256(password), whose SHA256 is the cached value.
    /// </summary>
    private static bool ServerAcceptsCachingSha2(string password, byte[] scramble, byte[] response)
    {
        var cached = SHA256.HashData(SHA256.HashData(Encoding.UTF8.GetBytes(password)));
        var mask = SHA256.HashData([.. cached, .. scramble]);
        if (response.Length != mask.Length)
        {
            return false;
        }

        var candidate = new byte[mask.Length];
        for (var i = 0; i < mask.Length; i++)
        {
            candidate[i] = (byte)(response[i] ^ mask[i]);
        }

        return SHA256.HashData(candidate).AsSpan().SequenceEqual(cached);
    }
}
