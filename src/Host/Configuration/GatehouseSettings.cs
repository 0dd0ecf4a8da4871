using System.Net;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Protocols.MySql;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Proxy.Core.Identity;
using Gatehouse.Proxy.Core.Transport;

namespace Gatehouse.Host.Configuration;

/// <summary>A listener ready to bind.</summary>
public sealed record ListenerPlan(IPEndPoint Endpoint, string Name, PgListenerOptions? Postgres, MySqlListenerOptions? MySql);

/// <summary>
/// The validated, resolved configuration: every error is collected with the key it concerns (for example
/// <c>listeners[0].bind</c>) so one run shows them all. Relative paths resolve against the file's folder.
/// </summary>
public sealed partial class GatehouseSettings
{
    private readonly List<string> _errors = [];
    private readonly string _baseDirectory;

    private GatehouseSettings(string baseDirectory) => _baseDirectory = baseDirectory;

    public List<ListenerPlan> Listeners { get; } = [];

    public IdentityOptions Identity { get; private set; } = new();

    public RoleMap Roles { get; private set; } = new(new Dictionary<string, RoleDefinition>());

    public IPEndPoint? Http { get; private set; }

    public int MaxConnections { get; private set; }

    /// <summary>The file's model as read, for telling what a reload changes (<see cref="ConfigDiff"/>).</summary>
    public GatehouseConfig Source { get; private set; } = new();

    /// <summary>The file this was read from; null when it was made from a model in memory.</summary>
    public string? FilePath { get; private set; }

    public static GatehouseSettings FromFile(string path)
    {
        var full = Path.GetFullPath(path);
        return FromFileModel(ConfigLoader.Load(full), full);
    }

    /// <summary>As <see cref="FromFile"/>, from text already read from <paramref name="path"/>: a reload validates exactly what it read.</summary>
    public static GatehouseSettings FromText(string yaml, string path)
    {
        var full = Path.GetFullPath(path);
        return FromFileModel(ConfigLoader.Parse(yaml, full), full);
    }

    private static GatehouseSettings FromFileModel(GatehouseConfig config, string fullPath)
    {
        var settings = From(config, Path.GetDirectoryName(fullPath)!);
        settings.FilePath = fullPath;
        return settings;
    }

    /// <summary>Validates and resolves; throws <see cref="ConfigException"/> listing every error.</summary>
    public static GatehouseSettings From(GatehouseConfig config, string baseDirectory)
    {
        var s = new GatehouseSettings(baseDirectory) { Source = config };
        s.Resolve(config);
        if (s._errors.Count > 0)
        {
            throw new ConfigException(s._errors);
        }

        return s;
    }

    private void Error(string key, string message) => _errors.Add($"{key}: {message}");

    private string PathOf(string p) => Path.GetFullPath(p, _baseDirectory);

    private void Resolve(GatehouseConfig config)
    {
        var upstreams = ResolveUpstreams(config.Upstreams);
        ResolveListeners(config.Listeners, upstreams);
        ResolveIdentity(config.Identity);
        ResolveRoles(config.Roles, upstreams);
        ResolvePolicy(config.Policy, config.Roles, upstreams);
        ResolveMasking(config.Masking, config.Roles, upstreams);
        ResolveRecording(config.Recording, upstreams);
        if (config.Http.Bind is { } http)
        {
            if (ConfigValues.TryParseEndpoint(http, out var ep))
            {
                Http = ep;
            }
            else
            {
                Error("http.bind", $"\"{http}\" is not host:port");
            }
        }

        if (config.Limits.MaxConnections < 1)
        {
            Error("limits.max_connections", "must be at least 1");
        }

        MaxConnections = config.Limits.MaxConnections;
    }

    private readonly Dictionary<string, MySqlUpstreamOptions> _mysqlUpstreams = new(StringComparer.Ordinal);

    private Dictionary<string, PgUpstreamOptions> ResolveUpstreams(List<UpstreamConfig> list)
    {
        var result = new Dictionary<string, PgUpstreamOptions>(StringComparer.Ordinal);
        for (var i = 0; i < list.Count; i++)
        {
            var u = list[i];
            var key = $"upstreams[{i}]";
            if (string.IsNullOrWhiteSpace(u.Name))
            {
                Error(key + ".name", "required");
                continue;
            }

            key = $"upstreams[{i}] ({u.Name})";
            if (result.ContainsKey(u.Name) || _mysqlUpstreams.ContainsKey(u.Name))
            {
                Error(key + ".name", "duplicate upstream name");
            }

            var protocol = u.Protocol ?? "postgres";
            if (protocol is not ("postgres" or "mysql"))
            {
                Error(key + ".protocol", $"\"{u.Protocol}\" is not supported; use postgres or mysql");
            }

            if (string.IsNullOrWhiteSpace(u.Host)) Error(key + ".host", "required");
            if (string.IsNullOrWhiteSpace(u.Database)) Error(key + ".database", "required");
            if (string.IsNullOrWhiteSpace(u.User)) Error(key + ".user", "required");
            if (u.Port is < 1 or > 65535) Error(key + ".port", "must be 1-65535");
            var secrets = (u.Password is null ? 0 : 1) + (u.PasswordFile is null ? 0 : 1) + (u.PasswordEnv is null ? 0 : 1);
            if (secrets != 1)
            {
                Error(key + ".password", "set exactly one of password, password_file, password_env");
            }

            if (u.PasswordFile is { } pf && !File.Exists(PathOf(pf)))
            {
                Error(key + ".password_file", $"{PathOf(pf)} does not exist");
            }

            var auth = u.Auth ?? (protocol == "mysql" ? "" : "scram-sha-256");
            PgAuthMethod method = default;
            if (protocol == "mysql")
            {
                if (u.Auth is not null)
                {
                    Error(key + ".auth", "is for postgres upstreams; mysql upstreams use auth_plugins");
                }
            }
            else if (auth switch { "scram-sha-256" => PgAuthMethod.ScramSha256, "md5" => PgAuthMethod.Md5, "password" => PgAuthMethod.Password, _ => (PgAuthMethod?)null } is { } m)
            {
                method = m;
            }
            else
            {
                Error(key + ".auth", $"\"{auth}\" is not one of scram-sha-256, md5, password");
            }

            var tlsText = u.Tls ?? "verify-full";
            UpstreamTlsMode tls = default;
            if (tlsText switch { "disable" => UpstreamTlsMode.Disable, "require" => UpstreamTlsMode.Require, "verify-full" => UpstreamTlsMode.VerifyFull, _ => (UpstreamTlsMode?)null } is { } t)
            {
                tls = t;
            }
            else
            {
                Error(key + ".tls", $"\"{tlsText}\" is not one of disable, require, verify-full");
            }

            if (u.CaCertificate is { } ca && !File.Exists(PathOf(ca)))
            {
                Error(key + ".ca_certificate", $"{PathOf(ca)} does not exist");
            }

            if (u.ChannelBinding is not (null or "prefer" or "require"))
            {
                Error(key + ".channel_binding", "must be prefer or require");
            }

            var timeout = TimeSpan.FromSeconds(10);
            if (u.ConnectTimeout is { } ct && !ConfigValues.TryParseDuration(ct, out timeout))
            {
                Error(key + ".connect_timeout", $"\"{ct}\" is not a duration like 10s");
            }

            if (u.AuthPlugins.Count > 0 && protocol != "mysql")
            {
                Error(key + ".auth_plugins", "is for mysql upstreams; postgres upstreams use auth");
            }

            foreach (var plugin in u.AuthPlugins)
            {
                if (plugin is not (AuthPlugins.CachingSha2 or AuthPlugins.NativePassword or AuthPlugins.ClearPassword))
                {
                    Error(key + ".auth_plugins", $"\"{plugin}\" is not one of caching_sha2_password, mysql_native_password, mysql_clear_password");
                }
            }

            var password = ConfigValues.Secret(u.Password, u.PasswordFile is null ? null : PathOf(u.PasswordFile), u.PasswordEnv);
            if (protocol == "mysql")
            {
                _mysqlUpstreams[u.Name] = new MySqlUpstreamOptions
                {
                    Name = u.Name,
                    Host = u.Host ?? "",
                    Port = u.Port ?? 3306,
                    Database = u.Database ?? "",
                    AllowedDatabases = u.Databases,
                    User = u.User ?? "",
                    Password = password,
                    AuthPlugins = u.AuthPlugins.Count > 0 ? u.AuthPlugins : [AuthPlugins.CachingSha2, AuthPlugins.NativePassword],
                    Tls = tls,
                    CaCertificatePath = u.CaCertificate is null ? null : PathOf(u.CaCertificate),
                    ServerName = u.ServerName,
                    ConnectTimeout = timeout,
                };
                continue;
            }

            result[u.Name] = new PgUpstreamOptions
            {
                Name = u.Name,
                Host = u.Host ?? "",
                Port = u.Port ?? 5432,
                Database = u.Database ?? "",
                AllowedDatabases = u.Databases,
                User = u.User ?? "",
                Password = password,
                MinimumAuth = method,
                Tls = tls,
                CaCertificatePath = u.CaCertificate is null ? null : PathOf(u.CaCertificate),
                ServerName = u.ServerName,
                RequireChannelBinding = u.ChannelBinding == "require",
                ConnectTimeout = timeout,
            };
        }

        return result;
    }

    private void ResolveListeners(List<ListenerConfig> list, Dictionary<string, PgUpstreamOptions> upstreams)
    {
        if (list.Count == 0)
        {
            Error("listeners", "at least one listener is required");
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < list.Count; i++)
        {
            var l = list[i];
            var key = $"listeners[{i}]";
            if (string.IsNullOrWhiteSpace(l.Name) || !names.Add(l.Name))
            {
                Error(key + ".name", "required and unique");
            }

            var protocol = l.Protocol ?? "postgres";
            if (protocol is not ("postgres" or "mysql"))
            {
                Error(key + ".protocol", $"\"{l.Protocol}\" is not supported; use postgres or mysql");
            }

            if (!ConfigValues.TryParseEndpoint(l.Bind, out var endpoint))
            {
                Error(key + ".bind", $"\"{l.Bind}\" is not host:port");
            }

            PgUpstreamOptions? upstream = null;
            MySqlUpstreamOptions? mysqlUpstream = null;
            if (l.Upstream is null || (protocol == "mysql" ? !_mysqlUpstreams.TryGetValue(l.Upstream, out mysqlUpstream) : !upstreams.TryGetValue(l.Upstream, out upstream)))
            {
                Error(key + ".upstream", l.Upstream is null ? "required" : $"no {protocol} upstream named \"{l.Upstream}\"");
            }

            SslStreamCertificateContext? certificate = null;
            if (l.Tls is { } tls)
            {
                if (tls.Certificate is null || tls.Key is null)
                {
                    Error(key + ".tls", "certificate and key are both required");
                }
                else
                {
                    try
                    {
                        certificate = LoadCertificate(PathOf(tls.Certificate), PathOf(tls.Key));
                    }
                    catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException or ArgumentException)
                    {
                        Error(key + ".tls", $"cannot load the certificate and key: {ex.Message}");
                    }
                }
            }

            var loginTimeout = TimeSpan.FromSeconds(15);
            if (l.LoginTimeout is { } lt && (!ConfigValues.TryParseDuration(lt, out loginTimeout) || loginTimeout <= TimeSpan.Zero))
            {
                Error(key + ".login_timeout", $"\"{lt}\" is not a positive duration like 15s");
            }

            var idleTimeout = OptionalDuration(key + ".idle_timeout", l.IdleTimeout, "30m");
            var maxSession = OptionalDuration(key + ".max_session_duration", l.MaxSessionDuration, "8h");

            if (l.MaxStatementBytes is < 1024 or > PgFrameDecoder.LargeMessageLimit)
            {
                Error(key + ".max_statement_bytes", $"must be between 1024 and {PgFrameDecoder.LargeMessageLimit}");
            }

            if (mysqlUpstream is not null)
            {
                Listeners.Add(new ListenerPlan(endpoint, l.Name ?? "", null, new MySqlListenerOptions
                {
                    Name = l.Name ?? "",
                    Upstream = mysqlUpstream,
                    Certificate = certificate,
                    AllowPlaintextOnLoopback = l.AllowPlaintextOnLoopback,
                    LoginTimeout = loginTimeout,
                    IdleTimeout = idleTimeout,
                    MaxSessionDuration = maxSession,
                }));
                continue;
            }

            if (upstream is null)
            {
                continue;
            }

            Listeners.Add(new ListenerPlan(endpoint, l.Name ?? "", new PgListenerOptions
            {
                Name = l.Name ?? "",
                Upstream = upstream,
                Certificate = certificate,
                AllowPlaintextOnLoopback = l.AllowPlaintextOnLoopback,
                LoginTimeout = loginTimeout,
                IdleTimeout = idleTimeout,
                MaxSessionDuration = maxSession,
                MaxStatementBytes = l.MaxStatementBytes ?? 16 * 1024 * 1024,
            }, null));
        }
    }

    /// <summary>A positive duration, or null when the key is absent; a bad value is an error naming the key.</summary>
    private TimeSpan? OptionalDuration(string key, string? text, string example)
    {
        if (text is null)
        {
            return null;
        }

        if (ConfigValues.TryParseDuration(text, out var value) && value > TimeSpan.Zero)
        {
            return value;
        }

        Error(key, $"\"{text}\" is not a positive duration like {example}");
        return null;
    }

    /// <summary>
    /// PEM certificate and key, re-exported so SslStream on Linux can use the ephemeral key. Further
    /// certificates in the same file are the chain sent with it (a server behind an intermediate CA needs them).
    /// The context is built once per listener, not per handshake: SslStream would otherwise build the chain
    /// and hold a copy of it for every session.
    /// </summary>
    internal static SslStreamCertificateContext LoadCertificate(string certificatePath, string keyPath)
    {
        using var pem = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        var leaf = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        var chain = new X509Certificate2Collection();
        chain.ImportFromPemFile(certificatePath);
        var intermediates = new X509Certificate2Collection();
        foreach (var certificate in chain)
        {
            if (certificate.Thumbprint != leaf.Thumbprint)
            {
                intermediates.Add(certificate);
            }
        }

        // offline: the chain is what the file holds; the gateway fetches nothing from the network to build it.
        return SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
    }

    private void ResolveIdentity(IdentityConfig? c)
    {
        if (c is null)
        {
            Error("identity", "required: clients log in with tokens from this issuer");
            return;
        }

        var options = new IdentityOptions
        {
            Issuer = c.Issuer ?? "",
            Audiences = c.Audience is { } one ? [one, .. c.Audiences] : c.Audiences,
            GroupsClaim = c.GroupsClaim ?? "groups",
            DiscoveryUrl = c.DiscoveryUrl is null ? null : new Uri(c.DiscoveryUrl),
            JwksUrl = c.JwksUrl is null ? null : new Uri(c.JwksUrl),
            JwksFile = c.JwksFile is null ? null : PathOf(c.JwksFile),
            DevSigningKeyFile = c.DevSigningKey is null ? null : PathOf(c.DevSigningKey),
        };
        if (c.Algorithms.Count > 0)
        {
            options.Algorithms = c.Algorithms;
        }

        if (c.ClockSkew is { } skew)
        {
            if (ConfigValues.TryParseDuration(skew, out var s))
            {
                options.ClockSkew = s;
            }
            else
            {
                Error("identity.clock_skew", $"\"{skew}\" is not a duration");
            }
        }

        foreach (var e in options.Validate())
        {
            // The options speak C# (ClockSkew); the file speaks snake_case (clock_skew).
            var key = System.Text.RegularExpressions.Regex.Match(e, "^[A-Z][A-Za-z]+").Value;
            var yamlKey = System.Text.RegularExpressions.Regex.Replace(key, "(?<=[a-z])([A-Z])", "_$1").ToLowerInvariant();
            _errors.Add(key.Length > 0 ? $"identity.{yamlKey}: {e}" : "identity: " + e);
        }

        Identity = options;
    }

    private void ResolveRoles(Dictionary<string, RoleConfig> roles, Dictionary<string, PgUpstreamOptions> upstreams)
    {
        if (roles.Count == 0)
        {
            Error("roles", "at least one role is required: without one no identity may use any upstream");
        }

        var definitions = new Dictionary<string, RoleDefinition>(StringComparer.Ordinal);
        foreach (var (name, role) in roles)
        {
            if (role.Groups.Count == 0)
            {
                Error($"roles.{name}.groups", "at least one group is required");
            }

            foreach (var u in role.Upstreams)
            {
                if (u != RoleMap.AllUpstreams && !upstreams.ContainsKey(u) && !_mysqlUpstreams.ContainsKey(u))
                {
                    Error($"roles.{name}.upstreams", $"no upstream named \"{u}\"");
                }
            }

            definitions[name] = new RoleDefinition(role.Groups, role.Upstreams);
        }

        Roles = new RoleMap(definitions);
    }
}
