using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Host.Demo;

/// <summary>
/// A throwaway MariaDB 10.11 server in a temporary directory, for the demo and the integration tests. It listens on
/// 127.0.0.1 at a free port with TLS (self-signed) and ships login users for the upstream auth methods the gateway must
/// handle: mysql_native_password, mysql_native_password with REQUIRE SSL, and ed25519 when the plugin is installed.
/// Durability is relaxed because the data is deleted on <see cref="DisposeAsync"/>.
/// </summary>
/// <remarks>
/// root exists only as root@localhost, which with --skip-name-resolve matches unix-socket connections only, and has a
/// random password (<see cref="RootPassword"/>); the socket's directory is 0700 as well. The TCP root accounts that
/// mariadb-install-db creates without a password are deleted during bootstrap, before the server ever listens.
/// </remarks>
public sealed class LocalMariaDb : IAsyncDisposable
{
    public const string AppDatabase = "app";
    public const string RootUser = "root";

    /// <summary>Authenticates with mysql_native_password; TLS optional.</summary>
    public const string NativeUser = "gatehouse_native";

    /// <summary>Authenticates with mysql_native_password and is created REQUIRE SSL.</summary>
    public const string TlsUser = "gatehouse_tls";

    /// <summary>Authenticates with ed25519; only created when the server has the auth_ed25519 plugin (see <see cref="HasEd25519User"/>).</summary>
    public const string Ed25519User = "gatehouse_ed25519";

    private const string PasswordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    private const string DirectoryAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const string SystemDatabase = "mysql";
    private const string DirectoryPrefix = "gatehouse-maria-";
    private const int DirectoryRandomLength = 12;
    private const string SocketFileName = "mysqld.sock";
    private const int PortAttempts = 3;
    private const int MaxSocketPathLength = 107;
    private const int MaxCapturedOutput = 4000;

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(60);

    // Every login user exists for TCP from 127.0.0.1 and for the unix socket (localhost).
    private static readonly string[] UserHosts = ["127.0.0.1", "localhost"];

    private readonly LocalMariaDbOptions _options;
    private readonly ServerAccount _account;
    private readonly string _rootDirectory;
    private readonly Dictionary<string, string> _passwords;
    private readonly StringBuilder _serverOutput = new();
    private Process? _server;
    private int _disposed;

    private LocalMariaDb(LocalMariaDbOptions options, ServerAccount account, string rootDirectory)
    {
        _options = options;
        _account = account;
        _rootDirectory = rootDirectory;
        _passwords = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [RootUser] = NewPassword(),
            [NativeUser] = NewPassword(),
            [TlsUser] = NewPassword(),
            [Ed25519User] = NewPassword(),
        };
    }

    public string Host => "127.0.0.1";

    public int Port { get; private set; }

    /// <summary>The server's unix socket (mariadb -S / --socket); root can log in only through it.</summary>
    public string SocketPath => Path.Combine(_rootDirectory, SocketFileName);

    /// <summary>Password of root@localhost (socket only).</summary>
    public string RootPassword => _passwords[RootUser];

    public string NativePassword => _passwords[NativeUser];

    public string TlsPassword => _passwords[TlsUser];

    /// <summary>Null when the ed25519 plugin was not available and so <see cref="Ed25519User"/> was not created.</summary>
    public string? Ed25519Password => _passwords.GetValueOrDefault(Ed25519User);

    public bool HasEd25519User => _passwords.ContainsKey(Ed25519User);

    /// <summary>User name to password, for root and every login user that exists.</summary>
    public IReadOnlyDictionary<string, string> Passwords => _passwords;

    /// <summary>The per-instance temporary directory; everything below it is deleted on dispose.</summary>
    public string RootDirectory => _rootDirectory;

    public string DataDirectory => Path.Combine(_rootDirectory, "data");

    /// <summary>server.crt (PEM, EC P-256); self-signed with SANs localhost and 127.0.0.1, so usable as --ssl-ca for --ssl-verify-server-cert.</summary>
    public string CertificatePath => Path.Combine(_rootDirectory, "server.crt");

    /// <summary>The server's error log (--log-error).</summary>
    public string LogPath => Path.Combine(_rootDirectory, "error.log");

    /// <summary>Every statement the server received, when <see cref="LocalMariaDbOptions.GeneralLog"/> is set; otherwise null.</summary>
    public string? GeneralLogPath => _options.GeneralLog ? Path.Combine(_rootDirectory, "general.log") : null;

    /// <summary>mariadbd writes its process id here while it runs.</summary>
    public string PidFilePath => Path.Combine(_rootDirectory, "mariadbd.pid");

    /// <summary>The OS user the server runs as: null when it is the current user, else the system user created because we are root.</summary>
    public string? ServerOsUser => _account.Name;

    private string KeyPath => Path.Combine(_rootDirectory, "server.key");

    private string TempDirectory => Path.Combine(_rootDirectory, "tmp");

    public static async Task<LocalMariaDb> StartAsync(LocalMariaDbOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("LocalMariaDb runs on Linux only.");
        }

        foreach (var tool in new[] { options.ServerPath, options.InstallDbPath, options.ClientPath, options.AdminPath })
        {
            if (!File.Exists(tool))
            {
                throw new LocalMariaDbException(
                    $"'{tool}' not found (install the mariadb-server and mariadb-client packages; see scripts/prerequisites.sh).");
            }
        }

        ServerAccount account;
        try
        {
            account = await ServerAccount.ResolveAsync(options.SystemUser, cancellationToken).ConfigureAwait(false);
        }
        catch (LocalPostgresException ex)
        {
            // The shared helpers speak LocalPostgresException; callers of this class should only need to catch ours.
            throw new LocalMariaDbException(ex.Message, ex);
        }

        // Checked before anything is created: mariadbd would only fail later with a less obvious message.
        var socketPath = Path.Combine(options.TempRoot, DirectoryPrefix + new string('x', DirectoryRandomLength), SocketFileName);
        if (Encoding.UTF8.GetByteCount(socketPath) > MaxSocketPathLength)
        {
            throw new LocalMariaDbException($"A socket path like '{socketPath}' is too long for a unix socket; use a shorter TempRoot.");
        }

        var root = CreateRootDirectory(options.TempRoot);
        var server = new LocalMariaDb(options, account, root);
        try
        {
            await server.InitializeAsync(cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch (LocalPostgresException ex)
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw new LocalMariaDbException(ex.Message, ex);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="sql"/> with the mariadb client as root over the unix socket in batch mode without column
    /// names (tab-separated rows, so <c>select 1</c> gives "1") and returns stdout without the trailing newline.
    /// The SQL goes in on stdin rather than -e so it (passwords included) never shows in a process listing or in the
    /// command line an error message quotes; several statements may be given, and the first error stops the batch.
    /// </summary>
    public async Task<string> QueryAsync(string sql, string database = AppDatabase, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ArgumentNullException.ThrowIfNull(database);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);

        ProcessResult result;
        try
        {
            result = await ProcessRunner.RunAsync(ClientCommand(database, sql, ClientTimeout), cancellationToken).ConfigureAwait(false);
        }
        catch (LocalPostgresException ex)
        {
            throw new LocalMariaDbException(ex.Message, ex);
        }

        EnsureSuccess(result, "mariadb");
        return result.StandardOutput.TrimEnd('\n');
    }

    /// <summary>Stops the server (mariadb-admin shutdown, then a kill if it lingers) and deletes the temporary directory. Never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var process = _server;
        _server = null;
        if (process is not null)
        {
            try
            {
                await StopAsync(process).ConfigureAwait(false);
            }
            finally
            {
                process.Dispose();
            }
        }

        DeleteRootDirectory();
    }

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        Log($"LocalMariaDb: initializing {DataDirectory}" + (_account.Name is null ? string.Empty : $" as OS user {_account.Name}"));

        // Default mode is fine: the 0700 root directory above already keeps everyone else out.
        Directory.CreateDirectory(TempDirectory);

        // MariaDB built against OpenSSL (Debian's is) takes the EC P-256 key in PKCS#8 PEM as it is.
        SelfSignedCertificate.WritePem(CertificatePath, KeyPath, "Gatehouse LocalMariaDb");

        // The root lock-down runs inside mariadb-install-db's bootstrap, so the password-less TCP root accounts it
        // creates are gone before the server first listens. A 0600 file keeps the root password out of process listings.
        var bootstrapFile = Path.Combine(_rootDirectory, "bootstrap.sql");
        SecretFile.Write(bootstrapFile, BootstrapSql());
        await _account.ChownAsync(_rootDirectory, cancellationToken).ConfigureAwait(false);

        ProcessResult install;
        try
        {
            install = await RunAsServerAsync(
                _options.InstallDbPath,
                [
                    "--no-defaults", $"--datadir={DataDirectory}", "--auth-root-authentication-method=normal", "--skip-test-db",
                    "--skip-name-resolve", $"--extra-file={bootstrapFile}",

                    // Passed through to the bootstrap mariadbd: without it the redo log starts at 96 MiB, only to be
                    // shrunk on the first real start.
                    "--innodb-log-file-size=16M",
                ],
                TimeSpan.FromMinutes(2),
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(bootstrapFile);
        }

        EnsureSuccess(install, "mariadb-install-db");

        await StartServerAsync(cancellationToken).ConfigureAwait(false);
        await ProvisionAsync(cancellationToken).ConfigureAwait(false);
        Log($"LocalMariaDb: ready on {Host}:{Port} (socket {SocketPath})");
    }

    private string BootstrapSql() =>
        new StringBuilder()
            .AppendLine("DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host <> 'localhost');")
            .AppendLine("DELETE FROM mysql.proxies_priv WHERE User = '' OR (User = 'root' AND Host <> 'localhost');")

            // Bootstrap runs without the grant tables loaded; ALTER USER needs them.
            .AppendLine("FLUSH PRIVILEGES;")
            .AppendLine(CultureInfo.InvariantCulture, $"ALTER USER root@localhost IDENTIFIED VIA mysql_native_password USING PASSWORD({SqlLiteral(RootPassword)});")
            .ToString();

    private async Task StartServerAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            var logStart = File.Exists(LogPath) ? new FileInfo(LogPath).Length : 0;
            var process = LaunchServer();
            _server = process;

            if (await WaitUntilReadyAsync(process, cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            // mariadbd exited during start-up.
            var exitCode = process.ExitCode;
            _server = null;
            process.Dispose();
            var log = LogTail(logStart);

            // The port was free when we probed it, but another process may have taken it before mariadbd bound it.
            if (attempt < PortAttempts && log.Contains("Address already in use", StringComparison.Ordinal))
            {
                Log($"LocalMariaDb: port {Port} was taken, retrying with another");
                continue;
            }

            throw new LocalMariaDbException(
                $"MariaDB failed to start (mariadbd exited with {exitCode}).\n--- mariadbd output ---\n{CapturedOutput()}\n--- tail of {LogPath} ---\n{log}");
        }
    }

    private Process LaunchServer()
    {
        var command = _account.Wrap(new ProcessCommand(_options.ServerPath, ServerArguments())
        {
            WorkingDirectory = _rootDirectory,
            Environment = ServerEnvironment(),
        });

        var process = new Process { StartInfo = ProcessRunner.CreateStartInfo(command) };
        process.OutputDataReceived += (_, e) => Capture(e.Data);
        process.ErrorDataReceived += (_, e) => Capture(e.Data);
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            process.Dispose();
            throw new LocalMariaDbException($"Could not start '{command.FileName}': {ex.Message}", ex);
        }

        // mariadbd reads nothing from stdin; closing it means it can never wait on ours.
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private List<string> ServerArguments()
    {
        // --no-defaults must come first, or mariadbd also reads /etc/mysql/my.cnf and the Debian service's settings.
        var arguments = new List<string>
        {
            "--no-defaults",
            $"--datadir={DataDirectory}",
            $"--port={Port.ToString(CultureInfo.InvariantCulture)}",
            "--bind-address=127.0.0.1",
            $"--socket={SocketPath}",
            $"--pid-file={PidFilePath}",
            $"--log-error={LogPath}",
            $"--tmpdir={TempDirectory}",
            $"--ssl-cert={CertificatePath}",
            $"--ssl-key={KeyPath}",
            $"--max-connections={_options.MaxConnections.ToString(CultureInfo.InvariantCulture)}",
            "--innodb-buffer-pool-size=64M",
            "--innodb-log-file-size=16M",
            "--skip-name-resolve",
            "--character-set-server=utf8mb4",
            "--collation-server=utf8mb4_general_ci",
            "--max-allowed-packet=64M",

            // Throwaway data: durability only costs time.
            "--innodb-flush-log-at-trx-commit=0",
            "--innodb-doublewrite=0",
        };
        if (GeneralLogPath is not null)
        {
            arguments.Add("--general-log=1");
            arguments.Add($"--general-log-file={GeneralLogPath}");
        }

        // Later options win in mariadbd, so these override the ones above.
        arguments.AddRange(_options.ExtraArguments);
        return arguments;
    }

    /// <summary>True once a root query over the socket succeeds; false if mariadbd exits first; throws on timeout.</summary>
    private async Task<bool> WaitUntilReadyAsync(Process process, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        ProcessResult? lastProbe = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                return false;
            }

            if (File.Exists(SocketPath))
            {
                var probe = await ProcessRunner.RunAsync(ClientCommand(SystemDatabase, "select 1", TimeSpan.FromSeconds(10)), cancellationToken)
                    .ConfigureAwait(false);
                if (probe.Succeeded)
                {
                    return true;
                }

                lastProbe = probe;
            }

            if (clock.Elapsed > _options.StartTimeout)
            {
                // DisposeAsync (via StartAsync) stops the process.
                throw new LocalMariaDbException(
                    $"MariaDB did not accept connections on {SocketPath} within {_options.StartTimeout.TotalSeconds:0} s.\n"
                    + (lastProbe is null ? "(the socket never appeared)" : $"Last probe: exit {lastProbe.ExitCode}: {lastProbe.StandardError.Trim()}")
                    + $"\n--- tail of {LogPath} ---\n{LogTail(0)}");
            }

            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task ProvisionAsync(CancellationToken cancellationToken)
    {
        var ed25519 = await Ed25519AvailableAsync(cancellationToken).ConfigureAwait(false);
        if (!ed25519)
        {
            _passwords.Remove(Ed25519User);
            Log($"LocalMariaDb: the ed25519 plugin is not available; {Ed25519User} is not created");
        }

        var setup = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"CREATE DATABASE {AppDatabase} CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;");
        foreach (var host in UserHosts)
        {
            // Spelled out rather than IDENTIFIED BY, which means the same today: the plugin is the point of these users.
            var native = $"'{NativeUser}'@'{host}'";
            setup.AppendLine(CultureInfo.InvariantCulture, $"CREATE USER {native} IDENTIFIED VIA mysql_native_password USING PASSWORD({SqlLiteral(NativePassword)});")
                .AppendLine(CultureInfo.InvariantCulture, $"GRANT ALL ON {AppDatabase}.* TO {native};");

            var tls = $"'{TlsUser}'@'{host}'";
            setup.AppendLine(CultureInfo.InvariantCulture, $"CREATE USER {tls} IDENTIFIED VIA mysql_native_password USING PASSWORD({SqlLiteral(TlsPassword)}) REQUIRE SSL;")
                .AppendLine(CultureInfo.InvariantCulture, $"GRANT ALL ON {AppDatabase}.* TO {tls};");

            if (ed25519)
            {
                var ed = $"'{Ed25519User}'@'{host}'";
                setup.AppendLine(CultureInfo.InvariantCulture, $"CREATE USER {ed} IDENTIFIED VIA ed25519 USING PASSWORD({SqlLiteral(Ed25519Password!)});")
                    .AppendLine(CultureInfo.InvariantCulture, $"GRANT ALL ON {AppDatabase}.* TO {ed};");
            }
        }

        await QueryAsync(setup.ToString(), SystemDatabase, cancellationToken).ConfigureAwait(false);
        await QueryAsync(MariaDbDemoData.Sql, AppDatabase, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Installs auth_ed25519 when the plugin library ships with the server (ALL_PLUGINS lists what plugin_dir holds).</summary>
    private async Task<bool> Ed25519AvailableAsync(CancellationToken cancellationToken)
    {
        var status = await QueryAsync(
            "SELECT PLUGIN_STATUS FROM information_schema.ALL_PLUGINS WHERE PLUGIN_NAME = 'ed25519';", SystemDatabase, cancellationToken)
            .ConfigureAwait(false);
        if (status.Length == 0)
        {
            return false;
        }

        if (status != "ACTIVE")
        {
            await QueryAsync("INSTALL SONAME 'auth_ed25519';", SystemDatabase, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    private async Task StopAsync(Process process)
    {
        try
        {
            if (process.HasExited)
            {
                return;
            }

            var shutdown = await ProcessRunner.RunAsync(
                new ProcessCommand(
                    _options.AdminPath,
                    ["--no-defaults", "--protocol=socket", $"--socket={SocketPath}", $"--user={RootUser}", "--connect-timeout=5", "shutdown"])
                {
                    Environment = RootEnvironment(),
                    WorkingDirectory = _rootDirectory,
                    Timeout = StopTimeout,
                },
                CancellationToken.None).ConfigureAwait(false);
            if (!shutdown.Succeeded)
            {
                Log($"LocalMariaDb: mariadb-admin shutdown exited with {shutdown.ExitCode}: {shutdown.StandardError.Trim()}");
            }

            using var wait = new CancellationTokenSource(StopTimeout);
            await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is LocalPostgresException or OperationCanceledException or InvalidOperationException or Win32Exception)
        {
            // Shutdown did not work or took too long: do not leak a mariadbd (and its port) for the rest of the run.
            Log($"LocalMariaDb: killing mariadbd: {ex.Message}");
            KillQuietly(process);
        }
    }

    private static void KillQuietly(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            // Already gone.
        }
    }

    private ProcessCommand ClientCommand(string database, string sql, TimeSpan timeout) =>
        new(
            _options.ClientPath,
            [
                "--no-defaults", "--protocol=socket", $"--socket={SocketPath}", $"--user={RootUser}", $"--database={database}",
                "--batch", "--skip-column-names", "--connect-timeout=10",
            ])
        {
            StandardInput = sql,
            Environment = RootEnvironment(),
            WorkingDirectory = _rootDirectory,
            Timeout = timeout,
        };

    // MYSQL_PWD keeps the password off the command line (the client reads it from its own, owner-only, environment).
    private Dictionary<string, string> RootEnvironment() => new(StringComparer.Ordinal) { ["MYSQL_PWD"] = RootPassword };

    // mariadbd and the bootstrap put temporary files in TMPDIR; ours may be one the server account cannot enter.
    private Dictionary<string, string> ServerEnvironment() => new(StringComparer.Ordinal) { ["TMPDIR"] = TempDirectory };

    private Task<ProcessResult> RunAsServerAsync(string tool, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // The server account may not be able to enter our current directory (e.g. /root); give it its own.
        var command = new ProcessCommand(tool, arguments)
        {
            Timeout = timeout,
            WorkingDirectory = _rootDirectory,
            Environment = ServerEnvironment(),
        };
        return ProcessRunner.RunAsync(_account.Wrap(command), cancellationToken);
    }

    private static void EnsureSuccess(ProcessResult result, string what)
    {
        if (!result.Succeeded)
        {
            throw new LocalMariaDbException($"{what} failed: '{result.Command}' exited with {result.ExitCode}.\n{result.Describe()}");
        }
    }

    private void Capture(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_serverOutput)
        {
            _serverOutput.AppendLine(line);
            if (_serverOutput.Length > MaxCapturedOutput)
            {
                _serverOutput.Remove(0, _serverOutput.Length - MaxCapturedOutput);
            }
        }
    }

    private string CapturedOutput()
    {
        lock (_serverOutput)
        {
            return _serverOutput.ToString().TrimEnd();
        }
    }

    private static string CreateRootDirectory(string tempRoot)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("LocalMariaDb runs on Linux only.");
        }

        for (var attempt = 0; attempt < 10; attempt++)
        {
            var path = Path.Combine(tempRoot, DirectoryPrefix + RandomNumberGenerator.GetString(DirectoryAlphabet, DirectoryRandomLength));
            if (Directory.Exists(path) || File.Exists(path))
            {
                continue;
            }

            // 0700: it holds the key, the socket and the data; ownership moves to the server account before use.
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return path;
        }

        throw new LocalMariaDbException($"Could not pick an unused directory name under '{tempRoot}'.");
    }

    private void DeleteRootDirectory()
    {
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                if (Directory.Exists(_rootDirectory))
                {
                    Directory.Delete(_rootDirectory, recursive: true);
                }

                return;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A dying server may still be removing files; try again shortly, then give up quietly.
                Log($"LocalMariaDb: could not delete {_rootDirectory}: {ex.Message}");
                Thread.Sleep(200);
            }
        }
    }

    /// <summary>The end of the error log from byte <paramref name="from"/> on (so a retry reports only its own attempt).</summary>
    private string LogTail(long from)
    {
        const int MaxChars = 4000;
        try
        {
            if (!File.Exists(LogPath))
            {
                return "(no log file)";
            }

            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            stream.Seek(Math.Min(from, stream.Length), SeekOrigin.Begin);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var text = reader.ReadToEnd();
            return text.Length <= MaxChars ? text : "..." + text[^MaxChars..];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"(could not read the log: {ex.Message})";
        }
    }

    private void Log(string message) => _options.Log?.Invoke(message);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    // Alphanumeric only: safe in SQL literals, connection strings and environment variables without escaping.
    private static string NewPassword() => RandomNumberGenerator.GetString(PasswordAlphabet, 24);

    // Inside a MariaDB string literal backslash is an escape too (unless NO_BACKSLASH_ESCAPES), so double both.
    private static string SqlLiteral(string value) =>
        "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";
}
