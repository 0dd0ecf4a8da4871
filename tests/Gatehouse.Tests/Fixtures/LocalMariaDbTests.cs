using System.Globalization;
using Gatehouse.Host.Demo;

namespace Gatehouse.Tests.Fixtures;

[Collection("mariadb")]
public sealed class LocalMariaDbTests
{
    private readonly LocalMariaDb _db;

    public LocalMariaDbTests(MariaDbFixture fixture)
    {
        _db = fixture.Server;
    }

    [Fact]
    public async Task Native_user_connects_over_tcp_with_ssl()
    {
        var result = await ClientTcpAsync(LocalMariaDb.NativeUser, _db.NativePassword, ["--ssl"], "SELECT current_user(); SHOW STATUS LIKE 'Ssl_cipher';");

        Assert.True(result.Succeeded, result.Describe());
        var lines = result.StandardOutput.TrimEnd('\n').Split('\n');
        Assert.Equal($"{LocalMariaDb.NativeUser}@127.0.0.1", lines[0]);
        var cipher = lines[1].Split('\t');
        Assert.Equal("Ssl_cipher", cipher[0]);
        Assert.False(string.IsNullOrWhiteSpace(cipher[1]), "Ssl_cipher is empty: the session is not encrypted.");
    }

    [Fact]
    public async Task Certificate_passes_verify_server_cert_for_127_0_0_1()
    {
        var result = await ClientTcpAsync(
            LocalMariaDb.NativeUser, _db.NativePassword, ["--ssl-verify-server-cert", $"--ssl-ca={_db.CertificatePath}"], "SHOW STATUS LIKE 'Ssl_version';");

        Assert.True(result.Succeeded, result.Describe());
        Assert.StartsWith("Ssl_version\tTLSv1.", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_server_cert_rejects_a_certificate_from_another_ca()
    {
        // A second self-signed certificate with the same names: only the signature differs, so a pass would mean no verification.
        var otherDirectory = Directory.CreateTempSubdirectory("gatehouse-ca-");
        try
        {
            var otherCa = Path.Combine(otherDirectory.FullName, "other.crt");
            SelfSignedCertificate.WritePem(otherCa, Path.Combine(otherDirectory.FullName, "other.key"));

            var result = await ClientTcpAsync(
                LocalMariaDb.NativeUser, _db.NativePassword, ["--ssl-verify-server-cert", $"--ssl-ca={otherCa}"], "SELECT 1");

            Assert.False(result.Succeeded, result.Describe());
            Assert.Contains("certificate", result.StandardError, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            otherDirectory.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Native_user_is_stored_with_mysql_native_password_and_wrong_passwords_are_refused()
    {
        var plugin = await _db.QueryAsync($"SELECT DISTINCT plugin FROM mysql.user WHERE user = '{LocalMariaDb.NativeUser}'", "mysql");
        Assert.Equal("mysql_native_password", plugin);

        var bad = await ClientTcpAsync(LocalMariaDb.NativeUser, "wrong-" + _db.NativePassword, ["--ssl"], "SELECT 1");
        Assert.False(bad.Succeeded);
        Assert.Contains("Access denied", bad.StandardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tls_user_is_refused_without_tls_and_accepted_with_it()
    {
        var plain = await ClientTcpAsync(LocalMariaDb.TlsUser, _db.TlsPassword, ["--skip-ssl"], "SELECT 1");
        Assert.False(plain.Succeeded);
        Assert.Contains("Access denied", plain.StandardError, StringComparison.Ordinal);

        var tls = await ClientTcpAsync(LocalMariaDb.TlsUser, _db.TlsPassword, ["--ssl"], "SELECT current_user()");
        Assert.True(tls.Succeeded, tls.Describe());
        Assert.Equal($"{LocalMariaDb.TlsUser}@127.0.0.1", tls.StandardOutput.Trim());

        var required = await _db.QueryAsync($"SELECT DISTINCT ssl_type FROM mysql.user WHERE user = '{LocalMariaDb.TlsUser}'", "mysql");
        Assert.Equal("ANY", required);
    }

    [Fact]
    public async Task Ed25519_user_exists_when_the_plugin_is_available()
    {
        if (!_db.HasEd25519User)
        {
            Assert.DoesNotContain(LocalMariaDb.Ed25519User, _db.Passwords.Keys);
            return;
        }

        var plugin = await _db.QueryAsync($"SELECT DISTINCT plugin FROM mysql.user WHERE user = '{LocalMariaDb.Ed25519User}'", "mysql");
        Assert.Equal("ed25519", plugin);

        // The Debian client ships client_ed25519, so the account really logs in.
        var result = await ClientTcpAsync(LocalMariaDb.Ed25519User, _db.Ed25519Password!, ["--ssl"], "SELECT current_user()");
        Assert.True(result.Succeeded, result.Describe());
    }

    [Fact]
    public async Task Customers_rows_exist_and_login_users_can_read_them()
    {
        Assert.Equal("3", await _db.QueryAsync("SELECT count(*) FROM customers"));

        var result = await ClientTcpAsync(LocalMariaDb.NativeUser, _db.NativePassword, ["--ssl"], "SELECT name, email FROM customers ORDER BY id");
        Assert.True(result.Succeeded, result.Describe());
        Assert.Equal(
            "Ada Lovelace\tada@example.com\nAlan Turing\talan@example.com\nGrace Hopper\tgrace@example.com",
            result.StandardOutput.TrimEnd('\n'));
    }

    [Fact]
    public async Task Root_cannot_log_in_over_tcp()
    {
        var result = await ClientTcpAsync(LocalMariaDb.RootUser, _db.RootPassword, ["--ssl"], "SELECT 1");

        Assert.False(result.Succeeded);
        Assert.Contains("Access denied", result.StandardError, StringComparison.Ordinal);
        Assert.Equal("localhost", await _db.QueryAsync("SELECT group_concat(host) FROM mysql.user WHERE user = 'root'", "mysql"));
    }

    [Fact]
    public async Task Settings_are_applied()
    {
        var variables = (await _db.QueryAsync(
                "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('port', 'max_connections', 'have_ssl', 'bind_address', 'character_set_server', 'collation_server', 'max_allowed_packet', 'skip_name_resolve', 'general_log')"))
            .Split('\n')
            .Select(line => line.Split('\t'))
            .ToDictionary(parts => parts[0], parts => parts[1], StringComparer.Ordinal);

        Assert.Equal(_db.Port.ToString(CultureInfo.InvariantCulture), variables["port"]);
        Assert.Equal("300", variables["max_connections"]);
        Assert.Equal("YES", variables["have_ssl"]);
        Assert.Equal("127.0.0.1", variables["bind_address"]);
        Assert.Equal("utf8mb4", variables["character_set_server"]);
        Assert.Equal("utf8mb4_general_ci", variables["collation_server"]);
        Assert.Equal((64 * 1024 * 1024).ToString(CultureInfo.InvariantCulture), variables["max_allowed_packet"]);
        Assert.Equal("ON", variables["skip_name_resolve"]);
        Assert.Equal("OFF", variables["general_log"]);
        Assert.Null(_db.GeneralLogPath);
    }

    [Fact]
    public void Server_runs_unprivileged_when_we_are_root()
    {
        var pid = int.Parse(File.ReadAllText(_db.PidFilePath).Trim(), CultureInfo.InvariantCulture);
        Assert.Equal("mariadbd", File.ReadAllText($"/proc/{pid}/comm").Trim());
        var uidLine = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("Uid:", StringComparison.Ordinal));
        var effectiveUid = uidLine.Split('\t', StringSplitOptions.RemoveEmptyEntries)[2];

        if (Environment.UserName == "root")
        {
            Assert.Equal("gatehouse-mariadb", _db.ServerOsUser);
            Assert.NotEqual("0", effectiveUid);
        }
        else
        {
            Assert.Null(_db.ServerOsUser);
        }
    }

    [Fact]
    public async Task Query_errors_surface_as_exceptions()
    {
        var ex = await Assert.ThrowsAsync<LocalMariaDbException>(() => _db.QueryAsync("SELECT * FROM no_such_table"));
        Assert.Contains("no_such_table", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task General_log_records_statements_and_dispose_stops_the_server_and_deletes_its_directory()
    {
        var db = await LocalMariaDb.StartAsync(new LocalMariaDbOptions { GeneralLog = true, MaxConnections = 20 }, CancellationToken.None);
        var root = db.RootDirectory;
        var port = db.Port;
        var pid = int.Parse(File.ReadAllText(db.PidFilePath).Trim(), CultureInfo.InvariantCulture);
        Assert.Equal("20", await db.QueryAsync("SELECT @@max_connections"));

        var probe = await ClientTcpAsync(LocalMariaDb.NativeUser, db.NativePassword, ["--ssl"], "SELECT 'general-log-probe'", port);
        Assert.True(probe.Succeeded, probe.Describe());
        Assert.NotNull(db.GeneralLogPath);
        Assert.Contains("general-log-probe", await File.ReadAllTextAsync(db.GeneralLogPath), StringComparison.Ordinal);

        await db.DisposeAsync();
        await db.DisposeAsync();

        Assert.False(Directory.Exists(root));
        Assert.False(Directory.Exists($"/proc/{pid}"), $"mariadbd {pid} is still running.");
        var after = await ClientTcpAsync(LocalMariaDb.NativeUser, "x", ["--skip-ssl"], "SELECT 1", port);
        Assert.False(after.Succeeded);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => db.QueryAsync("SELECT 1"));
    }

    [Fact]
    public async Task Failed_start_reports_the_error_log_and_leaves_nothing_behind()
    {
        // A temp root of its own: other tests start servers under /tmp at the same time.
        var tempRoot = Directory.CreateTempSubdirectory("gatehouse-failed-start-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(tempRoot, (UnixFileMode)0b111_101_101); // 0755: the server's own user must reach it
        }

        try
        {
            var options = new LocalMariaDbOptions { TempRoot = tempRoot, ExtraArguments = { "--no-such-option-for-gatehouse" } };

            var ex = await Assert.ThrowsAsync<LocalMariaDbException>(() => LocalMariaDb.StartAsync(options, CancellationToken.None));

            Assert.Contains("no-such-option-for-gatehouse", ex.Message, StringComparison.Ordinal);
            Assert.Contains("tail of", ex.Message, StringComparison.Ordinal);
            Assert.Empty(Directory.GetFileSystemEntries(tempRoot));
        }
        finally
        {
            Directory.Delete(tempRoot, recursive: true);
        }
    }

    private Task<ProcessResult> ClientTcpAsync(string user, string password, IReadOnlyList<string> tlsArguments, string sql, int? port = null) =>
        ProcessRunner.RunAsync(
            new ProcessCommand(
                "/usr/bin/mariadb",
                [
                    "--no-defaults", "--protocol=tcp", $"--host={_db.Host}", $"--port={(port ?? _db.Port).ToString(CultureInfo.InvariantCulture)}",
                    $"--user={user}", $"--database={LocalMariaDb.AppDatabase}", "--batch", "--skip-column-names", "--connect-timeout=10",
                    .. tlsArguments, "--execute", sql,
                ])
            {
                Environment = new Dictionary<string, string> { ["MYSQL_PWD"] = password },
                Timeout = TimeSpan.FromSeconds(30),
            },
            CancellationToken.None);
}
