using Gatehouse.Proxy.Core.Transport;

namespace Gatehouse.Protocols.MySql;

/// <summary>How to reach and log in to one MySQL/MariaDB database with the gateway's own credentials.</summary>
public sealed record MySqlUpstreamOptions
{
    public required string Name { get; init; }

    public required string Host { get; init; }

    public int Port { get; init; } = 3306;

    public required string Database { get; init; }

    public IReadOnlyList<string> AllowedDatabases { get; init; } = [];

    public required string User { get; init; }

    /// <summary>Read at every login, so a rotated secret applies to the next session without a restart.</summary>
    public required Func<string> Password { get; init; }

    /// <summary>Authentication plugins the gateway will answer; an upstream asking for another is refused.</summary>
    public IReadOnlyList<string> AuthPlugins { get; init; } = [MySql.AuthPlugins.CachingSha2, MySql.AuthPlugins.NativePassword];

    public UpstreamTlsMode Tls { get; init; } = UpstreamTlsMode.Disable;

    public string? CaCertificatePath { get; init; }

    public string? ServerName { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public bool AllowsDatabase(string database) => database == Database || AllowedDatabases.Contains(database);
}
