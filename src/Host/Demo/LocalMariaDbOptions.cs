namespace Gatehouse.Host.Demo;

/// <summary>How <see cref="LocalMariaDb"/> builds its throwaway server. Defaults fit Debian's mariadb-server and mariadb-client packages (10.11).</summary>
public sealed class LocalMariaDbOptions
{
    public string ServerPath { get; init; } = "/usr/sbin/mariadbd";

    public string InstallDbPath { get; init; } = "/usr/bin/mariadb-install-db";

    /// <summary>The mariadb client used for the readiness probe, provisioning and <see cref="LocalMariaDb.QueryAsync"/>.</summary>
    public string ClientPath { get; init; } = "/usr/bin/mariadb";

    /// <summary>mariadb-admin, used for a clean shutdown on dispose.</summary>
    public string AdminPath { get; init; } = "/usr/bin/mariadb-admin";

    public int MaxConnections { get; init; } = 300;

    /// <summary>Log every statement the server receives to <see cref="LocalMariaDb.GeneralLogPath"/> (for tests that check what reached the server).</summary>
    public bool GeneralLog { get; init; }

    /// <summary>Extra mariadbd command-line options (e.g. "--wait-timeout=5"), passed after the built-in ones, so they win.</summary>
    public IList<string> ExtraArguments { get; init; } = new List<string>();

    /// <summary>
    /// Where the per-instance directory is created. When running as root the server runs as <see cref="SystemUser"/>,
    /// so this must be traversable by that user: /tmp is, a TMPDIR under /root is not, hence not Path.GetTempPath().
    /// It must also be short: the unix socket lives inside, and socket paths are limited to 107 bytes.
    /// </summary>
    public string TempRoot { get; init; } = "/tmp";

    /// <summary>Unprivileged account created (once) and used when the current process is root, so mariadbd never runs as root.</summary>
    public string SystemUser { get; init; } = "gatehouse-mariadb";

    /// <summary>How long to wait for mariadbd to accept connections on its socket.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Progress messages (for the demo's console); null means silent.</summary>
    public Action<string>? Log { get; init; }
}
