namespace Gatehouse.Host.Configuration;

// The YAML model, one class per section; keys are snake_case in the file (UnderscoredNamingConvention).
// Every property is optional here so that validation, not deserialisation, names what is missing.

/// <summary>The whole configuration file.</summary>
public sealed class GatehouseConfig
{
    public List<ListenerConfig> Listeners { get; set; } = [];

    public List<UpstreamConfig> Upstreams { get; set; } = [];

    public IdentityConfig? Identity { get; set; }

    public Dictionary<string, RoleConfig> Roles { get; set; } = [];

    public HttpConfig Http { get; set; } = new();

    public LimitsConfig Limits { get; set; } = new();

    public PolicyConfig Policy { get; set; } = new();

    public MaskingConfig Masking { get; set; } = new();

    public RecordingConfig? Recording { get; set; }
}

/// <summary>Session recording; without this section sessions are not recorded.</summary>
public sealed class RecordingConfig
{
    /// <summary>Where the segments, their HEAD file and nothing else live.</summary>
    public string? Directory { get; set; }

    /// <summary>The key that seals segments (at least 32 bytes); keep it away from the recordings.</summary>
    public string? KeyFile { get; set; }

    /// <summary>A segment is sealed and the next begun past this size (bytes); 64 MiB unless set.</summary>
    public long? SegmentMaxBytes { get; set; }

    /// <summary>... or past this age, e.g. 1h.</summary>
    public string? SegmentMaxAge { get; set; }

    /// <summary>Records waiting for the disk before sessions are held back; 4096 unless set.</summary>
    public int? Queue { get; set; }

    /// <summary>How much of the results is kept: <c>full</c> (the default) or <c>row_count</c>.</summary>
    public string? Results { get; set; }

    /// <summary>The same, for named upstreams (an analytics replica whose result sets are too large to keep).</summary>
    public Dictionary<string, string> ResultsByUpstream { get; set; } = [];
}

public sealed class ListenerConfig
{
    public string? Name { get; set; }

    public string? Protocol { get; set; }

    public string? Bind { get; set; }

    public string? Upstream { get; set; }

    public TlsServerConfig? Tls { get; set; }

    public bool AllowPlaintextOnLoopback { get; set; }

    public string? LoginTimeout { get; set; }

    public int? MaxStatementBytes { get; set; }

    public string? IdleTimeout { get; set; }

    public string? MaxSessionDuration { get; set; }
}

public sealed class TlsServerConfig
{
    public string? Certificate { get; set; }

    public string? Key { get; set; }
}

public sealed class UpstreamConfig
{
    public string? Name { get; set; }

    public string? Protocol { get; set; }

    public string? Host { get; set; }

    public int? Port { get; set; }

    public string? Database { get; set; }

    public List<string> Databases { get; set; } = [];

    public string? User { get; set; }

    public string? Password { get; set; }

    public string? PasswordFile { get; set; }

    public string? PasswordEnv { get; set; }

    public string? Auth { get; set; }

    public string? Tls { get; set; }

    public string? CaCertificate { get; set; }

    public string? ServerName { get; set; }

    public string? ChannelBinding { get; set; }

    public List<string> AuthPlugins { get; set; } = [];

    public string? ConnectTimeout { get; set; }
}

public sealed class IdentityConfig
{
    public string? Issuer { get; set; }

    public List<string> Audiences { get; set; } = [];

    public string? Audience { get; set; }

    public string? DiscoveryUrl { get; set; }

    public string? JwksUrl { get; set; }

    public string? JwksFile { get; set; }

    public string? DevSigningKey { get; set; }

    public string? GroupsClaim { get; set; }

    public string? ClockSkew { get; set; }

    public List<string> Algorithms { get; set; } = [];
}

public sealed class RoleConfig
{
    public List<string> Groups { get; set; } = [];

    public List<string> Upstreams { get; set; } = [];
}

public sealed class HttpConfig
{
    public string? Bind { get; set; } = "127.0.0.1:9187";
}

public sealed class LimitsConfig
{
    public int MaxConnections { get; set; } = 10_000;
}

public sealed class PolicyConfig
{
    /// <summary>Checked in order; the first that matches a statement decides.</summary>
    public List<PolicyRuleConfig> Rules { get; set; } = [];
}

public sealed class PolicyRuleConfig
{
    public string? Name { get; set; }

    /// <summary>allow | deny | hold</summary>
    public string? Decision { get; set; }

    public string? Reason { get; set; }

    public List<string> Roles { get; set; } = [];

    public List<string> Upstreams { get; set; } = [];

    public List<string> Kinds { get; set; } = [];

    public List<string> Risks { get; set; } = [];

    public List<string> Objects { get; set; } = [];

    public TimeWindowConfig? When { get; set; }
}

public sealed class TimeWindowConfig
{
    /// <summary>mon, tue, ... or ranges like mon-fri.</summary>
    public List<string> Days { get; set; } = [];

    /// <summary>"09:00-17:30" local time; an end before the start runs past midnight.</summary>
    public string? Hours { get; set; }

    /// <summary>An IANA zone such as Europe/Berlin; UTC when absent.</summary>
    public string? TimeZone { get; set; }
}

public sealed class MaskingConfig
{
    /// <summary>Checked in order; the first rule whose columns match a result column masks it.</summary>
    public List<MaskingRuleConfig> Rules { get; set; } = [];

    /// <summary>Content detectors, each with its own strategy.</summary>
    public List<DetectorConfig> Detectors { get; set; } = [];

    /// <summary>derived (columns without table identity) | all (every text value).</summary>
    public string? DetectorScope { get; set; }

    /// <summary>Mask derived columns whole when the statement names a sensitive column; on unless set false.</summary>
    public bool? Strict { get; set; }

    /// <summary>Roles that see every value unmasked.</summary>
    public List<string> ExemptRoles { get; set; } = [];

    /// <summary>The HMAC key of the token strategy; exactly one of the three when any rule tokenises.</summary>
    public string? TokenKey { get; set; }

    public string? TokenKeyFile { get; set; }

    public string? TokenKeyEnv { get; set; }
}

public sealed class MaskingRuleConfig
{
    public string? Name { get; set; }

    /// <summary><c>[schema.][table.]column</c> globs, matched against the catalog's names, never aliases.</summary>
    public List<string> Columns { get; set; } = [];

    /// <summary>redact | partial | token | nullify (SQL NULL)</summary>
    public string? Strategy { get; set; }

    /// <summary>For partial: how many trailing letters or digits stay visible (default 4).</summary>
    public int? Keep { get; set; }

    /// <summary>For redact: the text written instead (default "[redacted]").</summary>
    public string? Replacement { get; set; }

    public List<string> ExemptRoles { get; set; } = [];

    public List<string> Upstreams { get; set; } = [];
}

public sealed class DetectorConfig
{
    /// <summary>Detector names (card, email, us_ssn, iban, phone, aws_key, jwt, private_key) or all.</summary>
    public List<string> Kinds { get; set; } = [];

    public string? Strategy { get; set; }

    public int? Keep { get; set; }

    public string? Replacement { get; set; }
}
