using System.Text;
using Gatehouse.Tests.Postgres;

namespace Gatehouse.Tests.MySql;

/// <summary>The `mariadb` client through the gateway against a real MariaDB 10.11.</summary>
[Collection("gateway")]
public sealed class MySqlGatewayTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Queries_run_as_the_gateways_upstream_user_over_tls_both_ways()
    {
        var result = await MariaDbCli.RunAsync(fixture, fixture.Token(),
            "select current_user(); select count(*) from customers; show status like 'Ssl_cipher';");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = result.Stdout.Trim().Split('\n');
        Assert.StartsWith("gatehouse_native@", lines[0]);
        Assert.Equal("3", lines[1]);
        Assert.StartsWith("Ssl_cipher\tTLS", lines[2]); // the gateway → MariaDB leg is TLS (verify-full)
    }

    [Fact]
    public async Task Multi_statement_batches_and_prepared_statements_work()
    {
        var result = await MariaDbCli.RunAsync(fixture, fixture.Token(), """
            create temporary table t (id int, v varchar(10));
            insert into t values (1, 'a'), (2, 'b');
            prepare s from 'select v from t where id = ?';
            set @id = 2;
            execute s using @id;
            deallocate prepare s;
            select sum(id) from t;
            """);
        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Equal("b\n3", result.Stdout.Trim());
    }

    [Fact]
    public async Task A_20_MB_row_streams_through()
    {
        var result = await MariaDbCli.RunAsync(fixture, fixture.Token(), "select repeat('x', 20 * 1024 * 1024);");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var value = result.Stdout.TrimEnd('\n');
        Assert.Equal(20 * 1024 * 1024, value.Length);
        Assert.True(Encoding.ASCII.GetBytes(value).AsSpan().IndexOfAnyExcept((byte)'x') < 0);
    }

    [Fact]
    public async Task Errors_come_back_and_the_session_goes_on()
    {
        var result = await MariaDbCli.RunAsync(fixture, fixture.Token(), "select * from no_such_table;\n", tls: true);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("1146", result.Stderr);
        var forced = await MariaDbCli.RunAsync(fixture, fixture.Token(), "select 1 from no_such_table; select 2;");
        Assert.Contains("doesn't exist", forced.Stderr);
    }

    [Fact]
    public async Task Token_logins_need_tls()
    {
        var result = await MariaDbCli.RunAsync(fixture, fixture.Token(), "select 1;", tls: false);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("requires TLS", result.Stderr);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("expired")]
    public async Task Bad_tokens_get_1045_with_a_reason(string kind)
    {
        var token = "not-a-token";
        if (kind == "expired")
        {
            using var key = Gatehouse.Proxy.Core.Identity.DevTokens.LoadPrivateKeyPem(fixture.Settings.Identity.DevSigningKeyFile!);
            token = Gatehouse.Proxy.Core.Identity.DevTokens.Mint(key, Gatehouse.Proxy.Core.Identity.DevTokens.KeyIdFor(key), fixture.Settings.Identity.Issuer,
                fixture.Settings.Identity.Audiences[0], "alice", ["analysts"], TimeSpan.FromMinutes(5),
                time: new Gatehouse.Tests.Identity.ManualTimeProvider(DateTimeOffset.UtcNow.AddHours(-1)));
        }

        var result = await MariaDbCli.RunAsync(fixture, token, "select 1;");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("1045", result.Stderr);
        Assert.Contains("token rejected", result.Stderr);
    }
}
