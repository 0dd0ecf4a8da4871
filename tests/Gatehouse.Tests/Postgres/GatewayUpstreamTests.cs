using Gatehouse.Host.Commands;
using Gatehouse.Host.Demo;
using Npgsql;

namespace Gatehouse.Tests.Postgres;

/// <summary>The gateway's own login to the database: methods, TLS modes, downgrade refusal, rotation, limits.</summary>
[Collection("gateway")]
public sealed class GatewayUpstreamTests(GatewayFixture fixture)
{
    private static async Task<string> CurrentUserAndSsl(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("select current_user || ' ' || (select ssl from pg_stat_ssl where pid = pg_backend_pid())", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private string ConnectionTo(Host.GatewayHost host, Host.Configuration.GatehouseSettings settings)
        => fixture.ConnectionString(TokenCommand.Mint(settings.Identity, "alice", ["analysts"], TimeSpan.FromMinutes(5)), port: host.BoundPorts["demo"]);

    [Theory]
    [InlineData(LocalPostgres.Md5User, "md5", "require", "gatehouse_md5 true")]
    [InlineData(LocalPostgres.ClearUser, "password", "verify-full", "gatehouse_clear true")]
    [InlineData(LocalPostgres.ScramUser, "scram-sha-256", "disable", "gatehouse_scram false")]
    public async Task Logs_in_upstream_with_each_method_and_tls_mode(string user, string auth, string tls, string expected)
    {
        var (host, settings) = await fixture.StartGatewayAsync(user, auth, tls);
        await using (host)
        {
            Assert.Equal(expected, await CurrentUserAndSsl(ConnectionTo(host, settings)));
        }
    }

    [Theory]
    [InlineData(LocalPostgres.Md5User, "scram-sha-256", "md5")]
    [InlineData(LocalPostgres.ClearUser, "md5", "cleartext password")]
    public async Task An_upstream_asking_for_weaker_auth_than_configured_is_refused(string user, string configured, string asked)
    {
        var (host, settings) = await fixture.StartGatewayAsync(user, configured);
        await using (host)
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => CurrentUserAndSsl(ConnectionTo(host, settings)));
            Assert.Equal("08006", error.SqlState);
            Assert.Contains(fixture.Logs, l => l.Contains($"asked for {asked} authentication, weaker than", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Verify_full_refuses_a_certificate_for_another_name()
    {
        var (host, settings) = await fixture.StartGatewayAsync(edit: y => y.Replace("server_name: localhost", "server_name: db.example.com", StringComparison.Ordinal));
        await using (host)
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => CurrentUserAndSsl(ConnectionTo(host, settings)));
            Assert.Equal("08006", error.SqlState);
        }
    }

    [Fact]
    public async Task Channel_binding_required_without_tls_is_refused()
    {
        var (host, settings) = await fixture.StartGatewayAsync(upstreamTls: "disable", edit: y => y.Replace("server_name: localhost", "server_name: localhost\n    channel_binding: require", StringComparison.Ordinal));
        await using (host)
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => CurrentUserAndSsl(ConnectionTo(host, settings)));
            Assert.Equal("08006", error.SqlState);
            Assert.Contains(fixture.Logs, l => l.Contains("channel binding is required", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Rotating_the_upstream_password_file_needs_no_restart()
    {
        var (host, settings) = await fixture.StartGatewayAsync(LocalPostgres.Md5User, "md5", "require");
        await using (host)
        {
            await using var live = new NpgsqlConnection(ConnectionTo(host, settings));
            await live.OpenAsync();
            var newPassword = "rotated-" + Guid.NewGuid().ToString("N");
            await fixture.Postgres.PsqlAsync($"SET password_encryption = 'md5'; ALTER ROLE {LocalPostgres.Md5User} PASSWORD '{newPassword}'");
            var passwordFile = Directory.GetFiles(Path.GetDirectoryName(settings.Identity.DevSigningKeyFile!)!, "upstream-password").Single();
            await File.WriteAllTextAsync(passwordFile, newPassword + "\n");
            try
            {
                Assert.StartsWith("gatehouse_md5", await CurrentUserAndSsl(ConnectionTo(host, settings)));
                await using var command = new NpgsqlCommand("select 1", live);
                Assert.Equal(1, await command.ExecuteScalarAsync()); // the session opened before rotation keeps working
            }
            finally
            {
                await fixture.Postgres.PsqlAsync($"SET password_encryption = 'md5'; ALTER ROLE {LocalPostgres.Md5User} PASSWORD '{fixture.Postgres.Md5Password}'");
            }
        }
    }

    [Fact]
    public async Task Connections_beyond_the_limit_get_53300()
    {
        var (host, settings) = await fixture.StartGatewayAsync(appendYaml: "limits:\n  max_connections: 2\n");
        await using (host)
        {
            await using var first = new NpgsqlConnection(ConnectionTo(host, settings));
            await using var second = new NpgsqlConnection(ConnectionTo(host, settings));
            await first.OpenAsync();
            await second.OpenAsync();
            var error = await Assert.ThrowsAsync<PostgresException>(async () =>
            {
                await using var third = new NpgsqlConnection(ConnectionTo(host, settings));
                await third.OpenAsync();
            });
            Assert.Equal("53300", error.SqlState);
            await first.CloseAsync();
            await Task.Delay(200);
            await using var fourth = new NpgsqlConnection(ConnectionTo(host, settings));
            await fourth.OpenAsync(); // the slot came back
        }
    }

    [Fact]
    public async Task Shutdown_ends_live_sessions_with_57P01_and_readiness_drops()
    {
        var (host, settings) = await fixture.StartGatewayAsync();
        await using var live = new NpgsqlConnection(ConnectionTo(host, settings));
        await live.OpenAsync();
        using var http = new HttpClient();
        Assert.Equal("ready\n", await http.GetStringAsync(new Uri(host.HttpAddress!, "readyz")));
        await host.DisposeAsync();
        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var command = new NpgsqlCommand("select 1", live);
            await command.ExecuteScalarAsync();
        });
        var postgres = error as PostgresException ?? error.InnerException as PostgresException;
        Assert.Equal("57P01", postgres?.SqlState);
        Assert.Contains(fixture.Logs, l => l.Contains("ended: shutdown", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Idle_and_overlong_sessions_are_ended_with_a_reason()
    {
        var (host, settings) = await fixture.StartGatewayAsync(edit: y => y.Replace("login_timeout: 15s", "login_timeout: 15s\n    idle_timeout: 1s\n    max_session_duration: 5s", StringComparison.Ordinal));
        await using (host)
        {
            await using var idle = new NpgsqlConnection(ConnectionTo(host, settings));
            await idle.OpenAsync();
            await using (var silentQuery = new NpgsqlCommand("select 5 from pg_sleep(1.5)", idle))
            {
                Assert.Equal(5, await silentQuery.ExecuteScalarAsync()); // a silent running query is not idle
            }

            await Task.Delay(2500);
            var idleError = await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await using var command = new NpgsqlCommand("select 1", idle);
                await command.ExecuteScalarAsync();
            });
            Assert.Equal("57P05", (idleError as PostgresException ?? idleError.InnerException as PostgresException)?.SqlState);

            await using var busy = new NpgsqlConnection(ConnectionTo(host, settings));
            await busy.OpenAsync();
            var busyError = await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                for (var i = 0; i < 100; i++)
                {
                    await using var command = new NpgsqlCommand("select pg_sleep(0.1)", busy);
                    await command.ExecuteScalarAsync();
                }
            });
            var postgres = busyError as PostgresException ?? busyError.InnerException as PostgresException;
            Assert.Equal("57P01", postgres?.SqlState);
            Assert.Contains("maximum duration", postgres!.MessageText);
        }
    }

    [Fact]
    public async Task A_client_that_stops_reading_pauses_the_upstream()
    {
        await using var client = await PgRawClient.ConnectAsync(fixture.RawPort);
        await client.LoginAsync(fixture.Token());
        const string marker = "select repeat('x', 1000) /* backpressure */ from generate_series(1, 2000000)";
        await client.SendAsync(PgRawClient.Message('Q', PgRawClient.CString(marker)));
        // We read nothing: the gateway's bounded buffers fill and the database blocks writing to it.
        string waitEvent = "";
        for (var i = 0; i < 100 && waitEvent != "ClientWrite"; i++)
        {
            await Task.Delay(100);
            waitEvent = await fixture.Postgres.PsqlAsync("select coalesce(wait_event, '') from pg_stat_activity where query like '%/* backpressure */%' and pid <> pg_backend_pid()");
        }

        Assert.Equal("ClientWrite", waitEvent);
        // Live memory, after full collections: tests of other collections run in this process at the same time,
        // and their garbage (once 186 MB in this second) says nothing about what the gateway holds on to.
        var before = GC.GetTotalMemory(forceFullCollection: true);
        await Task.Delay(1000);
        Assert.InRange(GC.GetTotalMemory(forceFullCollection: true) - before, long.MinValue, 64L * 1024 * 1024);
    }
}
