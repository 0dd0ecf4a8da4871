using System.Globalization;
using Gatehouse.Host.Demo;
using Npgsql;

namespace Gatehouse.Tests.Fixtures;

[Collection("postgres")]
public sealed class LocalPostgresTests
{
    private readonly LocalPostgres _pg;

    public LocalPostgresTests(PostgresFixture fixture)
    {
        _pg = fixture.Server;
    }

    [Fact]
    public async Task Scram_user_connects_over_tcp_with_sslmode_require()
    {
        var result = await PsqlTcpAsync(LocalPostgres.ScramUser, _pg.ScramPassword, "require", "select 1; select ssl from pg_stat_ssl where pid = pg_backend_pid();");

        Assert.True(result.Succeeded, result.Describe());
        Assert.Equal("1\nt", result.StandardOutput.TrimEnd('\n'));
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("localhost")]
    public async Task Certificate_passes_verify_full_for_both_subject_alternative_names(string host)
    {
        // hostaddr pins the address so "localhost" cannot wander to ::1, where nothing listens; the name is still what gets verified.
        var conninfo = $"host={host} hostaddr=127.0.0.1 port={_pg.Port} user={LocalPostgres.ScramUser} dbname=app sslmode=verify-full sslrootcert={_pg.CertificatePath}";
        var result = await RunPsqlAsync(conninfo, _pg.ScramPassword, "select 1");

        Assert.True(result.Succeeded, result.Describe());
        Assert.Equal("1", result.StandardOutput.Trim());
    }

    [Fact]
    public async Task Verify_full_rejects_a_name_the_certificate_does_not_carry()
    {
        var conninfo = $"host=not-localhost.invalid hostaddr=127.0.0.1 port={_pg.Port} user={LocalPostgres.ScramUser} dbname=app sslmode=verify-full sslrootcert={_pg.CertificatePath}";
        var result = await RunPsqlAsync(conninfo, _pg.ScramPassword, "select 1");

        Assert.False(result.Succeeded);
        Assert.Contains("does not match host name", result.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Md5_user_authenticates_with_md5()
    {
        var ok = await PsqlTcpAsync(LocalPostgres.Md5User, _pg.Md5Password, "require", "select current_user");
        Assert.True(ok.Succeeded, ok.Describe());
        Assert.Equal(LocalPostgres.Md5User, ok.StandardOutput.Trim());

        var bad = await PsqlTcpAsync(LocalPostgres.Md5User, "wrong-" + _pg.Md5Password, "require", "select 1");
        Assert.False(bad.Succeeded);
        Assert.Contains("password authentication failed", bad.StandardError, StringComparison.Ordinal);

        // Stored as md5 and matched by the md5 hba line, so the server really runs the md5 exchange (not SCRAM).
        var stored = await _pg.PsqlAsync($"select left(rolpassword, 3) from pg_authid where rolname = '{LocalPostgres.Md5User}'");
        Assert.Equal("md5", stored);
        var method = await _pg.PsqlAsync($"select auth_method from pg_hba_file_rules where '{LocalPostgres.Md5User}' = any(user_name)");
        Assert.Equal("md5", method);
    }

    [Fact]
    public async Task Clear_user_authenticates_with_cleartext_password_method()
    {
        var ok = await PsqlTcpAsync(LocalPostgres.ClearUser, _pg.ClearPassword, "require", "select current_user");
        Assert.True(ok.Succeeded, ok.Describe());
        Assert.Equal(LocalPostgres.ClearUser, ok.StandardOutput.Trim());

        var method = await _pg.PsqlAsync($"select auth_method from pg_hba_file_rules where '{LocalPostgres.ClearUser}' = any(user_name)");
        Assert.Equal("password", method);
    }

    [Fact]
    public async Task Scram_user_password_is_stored_as_scram()
    {
        var stored = await _pg.PsqlAsync($"select left(rolpassword, 14) from pg_authid where rolname = '{LocalPostgres.ScramUser}'");
        Assert.Equal("SCRAM-SHA-256$", stored);
    }

    [Fact]
    public async Task Ssl_is_on_and_settings_are_applied()
    {
        Assert.Equal("on", await _pg.PsqlAsync("SHOW ssl"));
        Assert.Equal("300", await _pg.PsqlAsync("SHOW max_connections"));
        Assert.Equal("off", await _pg.PsqlAsync("SHOW fsync"));
        Assert.Equal(_pg.Port.ToString(CultureInfo.InvariantCulture), await _pg.PsqlAsync("SHOW port"));
    }

    [Fact]
    public async Task Npgsql_connects_with_verify_full_and_can_create_tables_in_app()
    {
        await using var connection = new NpgsqlConnection(_pg.ConnectionString(LocalPostgres.ScramUser, _pg.ScramPassword, sslMode: "VerifyFull"));
        await connection.OpenAsync();

        await using var command = connection.CreateCommand();
        command.CommandText = "create table if not exists fixture_probe(id int); select ssl from pg_stat_ssl where pid = pg_backend_pid()";
        Assert.Equal(true, await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Npgsql_md5_user_connects()
    {
        await using var connection = new NpgsqlConnection(_pg.ConnectionString(LocalPostgres.Md5User, _pg.Md5Password, sslMode: "Require"));
        await connection.OpenAsync();

        await using var command = connection.CreateCommand();
        command.CommandText = "select current_user";
        Assert.Equal(LocalPostgres.Md5User, await command.ExecuteScalarAsync());
    }

    [Fact]
    public void Server_runs_unprivileged_when_we_are_root()
    {
        var pid = int.Parse(File.ReadLines(Path.Combine(_pg.DataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
        var uidLine = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        var effectiveUid = uidLine.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2];

        if (Environment.UserName == "root")
        {
            Assert.Equal("gatehouse-pg", _pg.ServerOsUser);
            Assert.NotEqual("0", effectiveUid);
        }
        else
        {
            Assert.Null(_pg.ServerOsUser);
        }
    }

    [Fact]
    public async Task Dispose_stops_the_server_and_deletes_its_directory()
    {
        var pg = await LocalPostgres.StartAsync(new LocalPostgresOptions { Ssl = false, MaxConnections = 20 }, CancellationToken.None);
        var root = pg.RootDirectory;
        var port = pg.Port;
        Assert.Equal("off", await pg.PsqlAsync("SHOW ssl"));

        await pg.DisposeAsync();
        await pg.DisposeAsync();

        Assert.False(Directory.Exists(root));
        var result = await PsqlTcpAsync(LocalPostgres.ScramUser, "x", "disable", "select 1", port);
        Assert.False(result.Succeeded);
    }

    [Fact]
    public async Task Failed_start_reports_the_server_log_and_leaves_nothing_behind()
    {
        // A temp root of its own: other tests start servers under /tmp at the same time.
        var tempRoot = Directory.CreateTempSubdirectory("gatehouse-failed-start-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tempRoot, (UnixFileMode)0b111_101_101); // 0755: the server's own user must reach it
        }

        try
        {
            var options = new LocalPostgresOptions { Ssl = false, TempRoot = tempRoot, ExtraSettings = { ["shared_buffers"] = "not-a-size" } };

            var ex = await Assert.ThrowsAsync<LocalPostgresException>(() => LocalPostgres.StartAsync(options, CancellationToken.None));

            Assert.Contains("shared_buffers", ex.Message, StringComparison.Ordinal);
            Assert.Contains("tail of", ex.Message, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFileSystemEntries(tempRoot));
        }
        finally
        {
            Directory.Delete(tempRoot, recursive: true);
        }
    }

    [Fact]
    public async Task Psql_errors_surface_as_exceptions()
    {
        var ex = await Assert.ThrowsAsync<LocalPostgresException>(() => _pg.PsqlAsync("select * from no_such_table"));
        Assert.Contains("no_such_table", ex.Message, StringComparison.Ordinal);
    }

    private Task<ProcessResult> PsqlTcpAsync(string user, string password, string sslMode, string sql, int? port = null)
    {
        var conninfo = _pg.LibpqConnectionString(user, sslMode: sslMode);
        if (port is not null)
        {
            conninfo = conninfo.Replace($"port={_pg.Port}", $"port={port}", StringComparison.Ordinal);
        }

        return RunPsqlAsync(conninfo, password, sql);
    }

    private static Task<ProcessResult> RunPsqlAsync(string conninfo, string password, string sql) =>
        ProcessRunner.RunAsync(
            new ProcessCommand("/usr/bin/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", conninfo, "-c", sql])
            {
                Environment = new Dictionary<string, string> { ["PGPASSWORD"] = password, ["PGCONNECT_TIMEOUT"] = "10" },
                Timeout = TimeSpan.FromSeconds(30),
            },
            CancellationToken.None);
}
