using System.Security.Cryptography;
using Gatehouse.Proxy.Core.Identity;
using Gatehouse.Tests.Identity;
using Npgsql;

namespace Gatehouse.Tests.Postgres;

/// <summary>Token logins end to end: every bad token gets a PostgreSQL error a person understands, and is never logged.</summary>
[Collection("gateway")]
public sealed class GatewayAuthTests(GatewayFixture fixture)
{
    private Dictionary<string, object> Header(string alg = "RS256", string? kid = null)
    {
        using var key = DevTokens.LoadPrivateKeyPem(fixture.Settings.Identity.DevSigningKeyFile!);
        return new() { ["alg"] = alg, ["typ"] = "JWT", ["kid"] = kid ?? DevTokens.KeyIdFor(key) };
    }

    private static Dictionary<string, object> Payload(long? exp = null, long? nbf = null, string aud = "gatehouse", string iss = "https://gatehouse.demo/")
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        return new()
        {
            ["iss"] = iss,
            ["aud"] = aud,
            ["sub"] = "mallory",
            ["groups"] = new[] { "dba" },
            ["iat"] = now,
            ["nbf"] = nbf ?? now - 5,
            ["exp"] = exp ?? now + 600,
        };
    }

    private string SignWithDevKey(Dictionary<string, object> header, Dictionary<string, object> payload)
    {
        using var key = DevTokens.LoadPrivateKeyPem(fixture.Settings.Identity.DevSigningKeyFile!);
        return TestJwt.SignRsa(key, header, payload);
    }

    public static TheoryData<string> BadTokenKinds =>
    [
        "expired", "not_yet_valid", "wrong_issuer", "wrong_audience", "alg_none", "hs256_with_public_key", "unknown_kid",
        "wrong_key", "oversized", "encrypted", "garbage", "truncated_signature",
    ];

    [Theory]
    [MemberData(nameof(BadTokenKinds))]
    public async Task Bad_tokens_are_refused_with_28P01_and_never_logged(string kind)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        using var other = RSA.Create(2048);
        using var dev = DevTokens.LoadPrivateKeyPem(fixture.Settings.Identity.DevSigningKeyFile!);
        var token = kind switch
        {
            "expired" => SignWithDevKey(Header(), Payload(exp: now - 120, nbf: now - 600)),
            "not_yet_valid" => SignWithDevKey(Header(), Payload(nbf: now + 300, exp: now + 900)),
            "wrong_issuer" => SignWithDevKey(Header(), Payload(iss: "https://evil.example/")),
            "wrong_audience" => SignWithDevKey(Header(), Payload(aud: "someone-else")),
            "alg_none" => TestJwt.Encode(Header("none")) + "." + TestJwt.Encode(Payload()) + ".",
            "hs256_with_public_key" => TestJwt.SignHmac(dev.ExportSubjectPublicKeyInfo(), Header("HS256"), Payload()),
            "unknown_kid" => SignWithDevKey(Header(kid: "no-such-key"), Payload()),
            "wrong_key" => TestJwt.SignRsa(other, Header(), Payload()),
            "oversized" => SignWithDevKey(Header(), new Dictionary<string, object>(Payload()) { ["pad"] = new string('a', 20_000) }),
            "encrypted" => "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.a2V5.aXY.Y2lwaGVy.dGFn",
            "garbage" => "this is not a token at all",
            _ => SignWithDevKey(Header(), Payload())[..^10],
        };

        var error = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var connection = new NpgsqlConnection(fixture.ConnectionString(token));
            await connection.OpenAsync();
        });
        Assert.Equal("28P01", error.SqlState);
        Assert.StartsWith("token rejected", error.MessageText);
        if (token.Length > 20)
        {
            Assert.DoesNotContain(fixture.Logs, line => line.Contains(token[^20..], StringComparison.Ordinal));
            Assert.DoesNotContain(token[^20..], error.MessageText, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_valid_token_without_a_role_for_the_upstream_is_not_authorized()
    {
        var error = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var connection = new NpgsqlConnection(fixture.ConnectionString(fixture.Token(groups: ["interns"])));
            await connection.OpenAsync();
        });
        Assert.Equal("28000", error.SqlState);
        Assert.Contains("no role", error.MessageText);
    }

    [Fact]
    public async Task Plaintext_token_login_is_refused_before_the_token_is_sent()
    {
        var error = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var connection = new NpgsqlConnection(fixture.ConnectionString(sslMode: "Disable"));
            await connection.OpenAsync();
        });
        Assert.Equal("28000", error.SqlState);
        Assert.Contains("requires TLS", error.MessageText);
    }

    [Fact]
    public async Task The_options_startup_parameter_is_refused()
    {
        var builder = new NpgsqlConnectionStringBuilder(fixture.ConnectionString()) { Options = "-c role=postgres" };
        var error = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync();
        });
        Assert.Equal("0A000", error.SqlState);
        Assert.Contains("\"options\"", error.MessageText);
    }

    [Fact]
    public async Task A_database_the_upstream_does_not_expose_is_refused()
    {
        var error = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var connection = new NpgsqlConnection(fixture.ConnectionString(database: "postgres"));
            await connection.OpenAsync();
        });
        Assert.Equal("3D000", error.SqlState);
    }

    [Fact]
    public async Task Refusals_and_sessions_show_in_metrics()
    {
        try
        {
            await using var refused = new NpgsqlConnection(fixture.ConnectionString("garbage"));
            await refused.OpenAsync();
        }
        catch (PostgresException)
        {
        }

        await using (var ok = await fixture.OpenAsync())
        {
            await using var command = new NpgsqlCommand("select 1", ok);
            await command.ExecuteScalarAsync();
        }

        using var http = new HttpClient();
        var text = "";
        for (var i = 0; i < 50 && !text.Contains("reason=\"client_closed\"", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100);
            text = await http.GetStringAsync(new Uri(fixture.Gateway.HttpAddress!, "metrics"));
        }

        Assert.Contains("gatehouse_connections_total{listener=\"demo\"}", text);
        Assert.Contains("gatehouse_connections_rejected_total{listener=\"demo\",reason=\"token_malformed\"}", text);
        Assert.Contains("gatehouse_sessions_ended_total{listener=\"demo\",reason=\"auth_failed\"}", text);
        Assert.Contains("gatehouse_sessions_ended_total{listener=\"demo\",reason=\"client_closed\"}", text);
        Assert.Matches(@"(?m)^gatehouse_relay_bytes_total\{direction=""upstream_to_client""\} [1-9][0-9]*$", text);
        Assert.Matches(@"(?m)^gatehouse_relay_messages_total\{direction=""client_to_upstream""\} [1-9][0-9]*$", text);
        Assert.Matches(@"(?m)^process_resident_memory_bytes [1-9][0-9]*$", text);
        Assert.Matches(@"(?m)^dotnet_gc_heap_size_bytes [0-9]+$", text);
        Assert.Matches(@"(?m)^process_open_fds [1-9][0-9]*$", text);
        Assert.Equal("ok\n", await http.GetStringAsync(new Uri(fixture.Gateway.HttpAddress!, "healthz")));
    }
}
