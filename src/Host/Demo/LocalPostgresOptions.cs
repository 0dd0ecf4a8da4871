namespace Gatehouse.Host.Demo;

/// <summary>How <see cref="LocalPostgres"/> builds its throwaway server. Defaults fit Debian's postgresql-15 package.</summary>
public sealed class LocalPostgresOptions
{
    /// <summary>Directory holding initdb, pg_ctl and postgres.</summary>
    public string BinDirectory { get; init; } = "/usr/lib/postgresql/15/bin";

    /// <summary>psql used for provisioning and <see cref="LocalPostgres.PsqlAsync"/>; falls back to BinDirectory/psql when missing.</summary>
    public string PsqlPath { get; init; } = "/usr/bin/psql";

    public int MaxConnections { get; init; } = 300;

    /// <summary>Serve TLS with a freshly generated self-signed certificate (SAN localhost and 127.0.0.1).</summary>
    public bool Ssl { get; init; } = true;

    /// <summary>Extra postgresql.conf settings, written after (and so overriding) the built-in ones. Values are quoted for you.</summary>
    public IDictionary<string, string> ExtraSettings { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Where the per-instance directory is created. When running as root the server runs as <see cref="SystemUser"/>,
    /// so this must be traversable by that user: /tmp is, a TMPDIR under /root is not, hence not Path.GetTempPath().
    /// </summary>
    public string TempRoot { get; init; } = "/tmp";

    /// <summary>Unprivileged account created (once) and used when the current process is root, because postgres refuses to run as root.</summary>
    public string SystemUser { get; init; } = "gatehouse-pg";

    /// <summary>How long pg_ctl waits for the server to accept connections.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Progress messages (for the demo's console); null means silent.</summary>
    public Action<string>? Log { get; init; }
}
