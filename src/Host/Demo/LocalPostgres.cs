using System.Data.Common;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Host.Demo;

/// <summary>
/// A throwaway PostgreSQL 15 server in a temporary directory, for <c>gatehouse demo</c> and the integration tests.
/// It listens on 127.0.0.1 at a free port with TLS (self-signed), SCRAM by default, and ships three login roles
/// that cover the upstream auth methods the gateway must speak: SCRAM-SHA-256, md5 and cleartext password.
/// Durability is switched off because the data is deleted on <see cref="DisposeAsync"/>.
/// </summary>
public sealed class LocalPostgres : IAsyncDisposable
{
    public const string SuperUserName = "postgres";
    public const string AppDatabase = "app";
    public const string ScramUser = "gatehouse_scram";
    public const string Md5User = "gatehouse_md5";
    public const string ClearUser = "gatehouse_clear";

    private const string PasswordAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    private const string DirectoryAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
    private const string SettingsFileName = "gatehouse.conf";
    private const int PortAttempts = 3;

    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private readonly LocalPostgresOptions _options;
    private readonly ServerAccount _account;
    private readonly string _rootDirectory;
    private readonly Dictionary<string, string> _passwords;
    private int _disposed;

    private LocalPostgres(LocalPostgresOptions options, ServerAccount account, string rootDirectory)
    {
        _options = options;
        _account = account;
        _rootDirectory = rootDirectory;
        _passwords = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [SuperUserName] = NewPassword(),
            [ScramUser] = NewPassword(),
            [Md5User] = NewPassword(),
            [ClearUser] = NewPassword(),
        };
    }

    public string Host => "127.0.0.1";

    public int Port { get; private set; }

    public string SuperUser => SuperUserName;

    public string SuperPassword => _passwords[SuperUserName];

    /// <summary>Password of <see cref="ScramUser"/>, stored as SCRAM-SHA-256 and authenticated with scram-sha-256.</summary>
    public string ScramPassword => _passwords[ScramUser];

    /// <summary>Password of <see cref="Md5User"/>, stored as an md5 hash and authenticated with md5 (pg_hba).</summary>
    public string Md5Password => _passwords[Md5User];

    /// <summary>Password of <see cref="ClearUser"/>, authenticated with the cleartext "password" method (pg_hba).</summary>
    public string ClearPassword => _passwords[ClearUser];

    /// <summary>Role name to password, for the superuser and the three login roles.</summary>
    public IReadOnlyDictionary<string, string> Passwords => _passwords;

    /// <summary>The per-instance temporary directory; everything below it is deleted on dispose.</summary>
    public string RootDirectory => _rootDirectory;

    public string DataDirectory => Path.Combine(_rootDirectory, "data");

    /// <summary>Where the server's unix socket lives (pass as psql -h or Npgsql Host).</summary>
    public string SocketDirectory => _rootDirectory;

    /// <summary>server.crt (PEM); self-signed, so usable as the root certificate for verify-full. Null when SSL is off.</summary>
    public string? CertificatePath => _options.Ssl ? Path.Combine(_rootDirectory, "server.crt") : null;

    public string LogPath => Path.Combine(_rootDirectory, "postgres.log");

    /// <summary>The OS user the server runs as: null when it is the current user, else the system user created because we are root.</summary>
    public string? ServerOsUser => _account.Name;

    private string KeyPath => Path.Combine(_rootDirectory, "server.key");

    private string BinPath(string tool) => Path.Combine(_options.BinDirectory, tool);

    public static async Task<LocalPostgres> StartAsync(LocalPostgresOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("LocalPostgres runs on Linux only.");
        }

        if (!File.Exists(Path.Combine(options.BinDirectory, "initdb")))
        {
            throw new LocalPostgresException(
                $"PostgreSQL server binaries not found in '{options.BinDirectory}' (install the postgresql-15 package).");
        }

        var account = await ServerAccount.ResolveAsync(options.SystemUser, cancellationToken).ConfigureAwait(false);
        var root = CreateRootDirectory(options.TempRoot);
        var server = new LocalPostgres(options, account, root);
        try
        {
            await server.InitializeAsync(cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>An Npgsql connection string for TCP on 127.0.0.1. Without <paramref name="sslMode"/> Npgsql's default (Prefer) applies;
    /// VerifyCA/VerifyFull add <see cref="CertificatePath"/> as the root certificate.</summary>
    public string ConnectionString(string user, string password, string database = AppDatabase, string? sslMode = null)
    {
        var builder = new DbConnectionStringBuilder
        {
            ["Host"] = Host,
            ["Port"] = Port.ToString(CultureInfo.InvariantCulture),
            ["Username"] = user,
            ["Password"] = password,
            ["Database"] = database,
        };
        if (sslMode is not null)
        {
            builder["SSL Mode"] = sslMode;
            if (sslMode.StartsWith("Verify", StringComparison.OrdinalIgnoreCase) && CertificatePath is not null)
            {
                builder["Root Certificate"] = CertificatePath;
            }
        }

        return builder.ConnectionString;
    }

    /// <summary>A libpq conninfo string (for psql) for TCP on 127.0.0.1; pass the password in PGPASSWORD.
    /// verify-ca/verify-full add <see cref="CertificatePath"/> as sslrootcert.</summary>
    public string LibpqConnectionString(string user, string database = AppDatabase, string sslMode = "require")
    {
        ArgumentNullException.ThrowIfNull(sslMode);
        var parts = new List<string>
        {
            $"host={Host}",
            $"port={Port.ToString(CultureInfo.InvariantCulture)}",
            $"user={LibpqValue(user)}",
            $"dbname={LibpqValue(database)}",
            $"sslmode={LibpqValue(sslMode)}",
        };
        if (sslMode.StartsWith("verify", StringComparison.OrdinalIgnoreCase) && CertificatePath is not null)
        {
            parts.Add($"sslrootcert={LibpqValue(CertificatePath)}");
        }

        return string.Join(' ', parts);
    }

    /// <summary>
    /// Runs <paramref name="sql"/> through psql as the superuser over the unix socket (trust) with ON_ERROR_STOP, and
    /// returns stdout in unaligned tuples-only form (so <c>select 1</c> gives "1"), without the trailing newline.
    /// Statements are fed on stdin, so several may be given, including ones that refuse to run in a transaction block.
    /// </summary>
    public async Task<string> PsqlAsync(string sql, string database = AppDatabase, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        var psql = File.Exists(_options.PsqlPath) ? _options.PsqlPath : BinPath("psql");
        var command = new ProcessCommand(
            psql,
            ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", SocketDirectory, "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", SuperUserName, "-d", database, "-f", "-"])
        {
            StandardInput = sql,
            WorkingDirectory = _rootDirectory,
        };
        var result = await ProcessRunner.RunAsync(command, cancellationToken).ConfigureAwait(false);
        result.EnsureSuccess("psql");
        return result.StandardOutput.TrimEnd('\n');
    }

    /// <summary>Re-reads postgresql.conf and pg_hba.conf (pg_ctl reload), e.g. after a test edits pg_hba.conf in <see cref="DataDirectory"/>.</summary>
    public async Task ReloadAsync(CancellationToken cancellationToken = default)
    {
        await _account.ChownAsync(_rootDirectory, cancellationToken).ConfigureAwait(false);
        var result = await RunAsServerAsync(BinPath("pg_ctl"), ["reload", "-s", "-D", DataDirectory], TimeSpan.FromSeconds(30), cancellationToken)
            .ConfigureAwait(false);
        result.EnsureSuccess("pg_ctl reload");
    }

    /// <summary>Stops the server (immediate: the data is thrown away) and deletes the temporary directory. Never throws.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        if (File.Exists(pidFile))
        {
            try
            {
                var result = await RunAsServerAsync(
                    BinPath("pg_ctl"), ["stop", "-s", "-D", DataDirectory, "-m", "immediate", "-w", "-t", "30"], StopTimeout + TimeSpan.FromSeconds(10), CancellationToken.None)
                    .ConfigureAwait(false);
                if (!result.Succeeded)
                {
                    Log($"pg_ctl stop exited with {result.ExitCode}: {result.StandardError.Trim()}");
                }
            }
            catch (LocalPostgresException ex)
            {
                Log(ex.Message);
            }

            // If pg_ctl could not stop it, do not leak a postmaster (and its port) for the rest of the run.
            KillPostmaster(pidFile);
        }

        DeleteRootDirectory();
    }

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        Log($"LocalPostgres: initializing {DataDirectory}" + (_account.Name is null ? string.Empty : $" as OS user {_account.Name}"));

        if (_options.Ssl)
        {
            SelfSignedCertificate.WritePem(CertificatePath!, KeyPath);
        }

        // initdb reads the superuser password from a file so it never appears in a process listing.
        var passwordFile = Path.Combine(_rootDirectory, "superuser.pw");
        SecretFile.Write(passwordFile, SuperPassword + "\n");
        await _account.ChownAsync(_rootDirectory, cancellationToken).ConfigureAwait(false);

        var initdb = await RunAsServerAsync(
            BinPath("initdb"),
            [
                "-D", DataDirectory, "-U", SuperUserName, $"--pwfile={passwordFile}", "--auth=scram-sha-256",
                "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
            ],
            TimeSpan.FromMinutes(2),
            cancellationToken).ConfigureAwait(false);
        File.Delete(passwordFile);
        initdb.EnsureSuccess("initdb");

        // Our settings live in their own file so a port retry can rewrite them; include comes last, so they win.
        await File.AppendAllTextAsync(
            Path.Combine(DataDirectory, "postgresql.conf"), $"\ninclude '{SettingsFileName}'\n", cancellationToken).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(DataDirectory, "pg_hba.conf"), HbaFile(), cancellationToken).ConfigureAwait(false);

        await StartServerAsync(cancellationToken).ConfigureAwait(false);
        await ProvisionAsync(cancellationToken).ConfigureAwait(false);
        Log($"LocalPostgres: ready on {Host}:{Port} (socket {SocketDirectory}, ssl {(_options.Ssl ? "on" : "off")})");
    }

    private async Task StartServerAsync(CancellationToken cancellationToken)
    {
        var waitSeconds = Math.Max(1, (int)Math.Ceiling(_options.StartTimeout.TotalSeconds));
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            await File.WriteAllTextAsync(Path.Combine(DataDirectory, SettingsFileName), SettingsFile(), cancellationToken).ConfigureAwait(false);
            await _account.ChownAsync(_rootDirectory, cancellationToken).ConfigureAwait(false);

            var start = await RunAsServerAsync(
                BinPath("pg_ctl"),
                ["start", "-s", "-w", "-t", waitSeconds.ToString(CultureInfo.InvariantCulture), "-D", DataDirectory, "-l", LogPath],
                _options.StartTimeout + TimeSpan.FromSeconds(30),
                cancellationToken).ConfigureAwait(false);
            if (start.Succeeded)
            {
                return;
            }

            var log = LogTail();

            // The port was free when we probed it, but another process may have taken it before postgres bound it.
            if (attempt < PortAttempts && log.Contains("could not bind", StringComparison.Ordinal))
            {
                Log($"LocalPostgres: port {Port} was taken, retrying with another");
                continue;
            }

            throw new LocalPostgresException(
                $"PostgreSQL failed to start (pg_ctl exited with {start.ExitCode}).\n{start.Describe()}\n--- tail of {LogPath} ---\n{log}");
        }
    }

    private async Task ProvisionAsync(CancellationToken cancellationToken)
    {
        var roles = string.Join(", ", ScramUser, Md5User, ClearUser);
        var setup = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"CREATE DATABASE {AppDatabase};")
            .AppendLine("SET password_encryption = 'scram-sha-256';")
            .AppendLine(CultureInfo.InvariantCulture, $"CREATE ROLE {ScramUser} LOGIN PASSWORD {SqlLiteral(ScramPassword)};")
            .AppendLine(CultureInfo.InvariantCulture, $"CREATE ROLE {ClearUser} LOGIN PASSWORD {SqlLiteral(ClearPassword)};")

            // md5 must be the stored form, or the server would answer an md5 hba line with SCRAM (PG 14+).
            .AppendLine("SET password_encryption = 'md5';")
            .AppendLine(CultureInfo.InvariantCulture, $"CREATE ROLE {Md5User} LOGIN PASSWORD {SqlLiteral(Md5Password)};")
            .AppendLine("RESET password_encryption;")
            .AppendLine(CultureInfo.InvariantCulture, $"GRANT ALL ON DATABASE {AppDatabase} TO {roles};")
            .ToString();
        await PsqlAsync(setup, "postgres", cancellationToken).ConfigureAwait(false);

        // PG15 no longer lets every role create in public; the gateway's tests need to.
        await PsqlAsync($"GRANT ALL ON SCHEMA public TO {roles};", AppDatabase, cancellationToken).ConfigureAwait(false);
    }

    private string SettingsFile()
    {
        var settings = new List<KeyValuePair<string, string>>
        {
            new("listen_addresses", Host),
            new("port", Port.ToString(CultureInfo.InvariantCulture)),
            new("unix_socket_directories", SocketDirectory),
            new("password_encryption", "scram-sha-256"),
            new("max_connections", _options.MaxConnections.ToString(CultureInfo.InvariantCulture)),
            new("shared_buffers", "128MB"),

            // Throwaway data: durability only costs time.
            new("fsync", "off"),
            new("synchronous_commit", "off"),
            new("full_page_writes", "off"),
            new("ssl", _options.Ssl ? "on" : "off"),
        };
        if (_options.Ssl)
        {
            settings.Add(new("ssl_cert_file", CertificatePath!));
            settings.Add(new("ssl_key_file", KeyPath));
        }

        settings.AddRange(_options.ExtraSettings);

        var text = new StringBuilder("# Written by Gatehouse LocalPostgres; rewritten on every start.\n");
        foreach (var (name, value) in settings)
        {
            text.Append(CultureInfo.InvariantCulture, $"{name} = {ConfValue(value)}\n");
        }

        return text.ToString();
    }

    // First match wins, so the per-role lines precede the general SCRAM line. "host" matches with and without TLS,
    // which lets tests reach the server either way.
    private static string HbaFile() =>
        $"""
        # Written by Gatehouse LocalPostgres.
        # TYPE  DATABASE  USER  ADDRESS  METHOD
        local   all  all  trust
        host    all  {Md5User}  127.0.0.1/32  md5
        host    all  {ClearUser}  127.0.0.1/32  password
        host    all  all  127.0.0.1/32  scram-sha-256

        """;

    private Task<ProcessResult> RunAsServerAsync(string tool, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // The server account may not be able to enter our current directory (e.g. /root); give it its own.
        var command = new ProcessCommand(tool, arguments) { Timeout = timeout, WorkingDirectory = _rootDirectory };
        return ProcessRunner.RunAsync(_account.Wrap(command), cancellationToken);
    }

    private static string CreateRootDirectory(string tempRoot)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("LocalPostgres runs on Linux only.");
        }

        for (var attempt = 0; attempt < 10; attempt++)
        {
            var path = Path.Combine(tempRoot, "gatehouse-pg-" + RandomNumberGenerator.GetString(DirectoryAlphabet, 12));
            if (Directory.Exists(path) || File.Exists(path))
            {
                continue;
            }

            // 0700: it holds the key, the socket and the data; ownership moves to the server account before use.
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return path;
        }

        throw new LocalPostgresException($"Could not pick an unused directory name under '{tempRoot}'.");
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
                // A dying backend may still be removing files; try again shortly, then give up quietly.
                Log($"LocalPostgres: could not delete {_rootDirectory}: {ex.Message}");
                Thread.Sleep(200);
            }
        }
    }

    private void KillPostmaster(string pidFile)
    {
        try
        {
            if (!File.Exists(pidFile))
            {
                return;
            }

            var firstLine = File.ReadLines(pidFile).FirstOrDefault();
            if (!int.TryParse(firstLine, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                return;
            }

            using var process = System.Diagnostics.Process.GetProcessById(pid);
            if (process.ProcessName is "postgres" or "postmaster")
            {
                Log($"LocalPostgres: killing postmaster {pid} that pg_ctl did not stop");
                process.Kill(entireProcessTree: true);
            }
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone, or the pid file was half-written: nothing left to stop.
        }
    }

    private string LogTail()
    {
        const int MaxChars = 4000;
        try
        {
            var text = File.Exists(LogPath) ? File.ReadAllText(LogPath) : "(no log file)";
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

    // Alphanumeric only: safe in SQL, conninfo strings, connection strings and environment variables without escaping.
    private static string NewPassword() => RandomNumberGenerator.GetString(PasswordAlphabet, 24);

    private static string SqlLiteral(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    // postgresql.conf accepts a quoted string for every setting type; inside one, backslash escapes and '' is a quote.
    private static string ConfValue(string value) =>
        "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "''", StringComparison.Ordinal) + "'";

    private static string LibpqValue(string value) =>
        value.Length > 0 && !value.Any(c => char.IsWhiteSpace(c) || c is '\'' or '\\')
            ? value
            : "'" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";
}
