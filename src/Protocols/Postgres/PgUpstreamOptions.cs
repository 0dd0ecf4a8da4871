using Gatehouse.Proxy.Core.Transport;

namespace Gatehouse.Protocols.Postgres;

/// <summary>The weakest login method the gateway accepts from a PostgreSQL upstream, strongest last.</summary>
public enum PgAuthMethod : byte
{
    /// <summary>Cleartext password: only when configured, and only sensible over TLS.</summary>
    Password,
    /// <summary>MD5 challenge-response.</summary>
    Md5,
    /// <summary>SCRAM-SHA-256, with channel binding over TLS.</summary>
    ScramSha256,
}

/// <summary>How to reach and log in to one PostgreSQL database with the gateway's own credentials.</summary>
public sealed record PgUpstreamOptions
{
    public required string Name { get; init; }

    public required string Host { get; init; }

    public int Port { get; init; } = 5432;

    public required string Database { get; init; }

    /// <summary>Databases a client may ask for through this upstream; the configured one is always allowed.</summary>
    public IReadOnlyList<string> AllowedDatabases { get; init; } = [];

    public required string User { get; init; }

    /// <summary>Read at every login, so a rotated secret applies to the next session without a restart.</summary>
    public required Func<string> Password { get; init; }

    /// <summary>An upstream asking for a weaker method than this is refused.</summary>
    public PgAuthMethod MinimumAuth { get; init; } = PgAuthMethod.ScramSha256;

    public UpstreamTlsMode Tls { get; init; } = UpstreamTlsMode.Disable;

    public string? CaCertificatePath { get; init; }

    /// <summary>Name checked against the certificate in verify-full; defaults to <see cref="Host"/>.</summary>
    public string? ServerName { get; init; }

    public bool RequireChannelBinding { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public bool AllowsDatabase(string database)
        => database == Database || AllowedDatabases.Contains(database);
}
