using System.Net.Security;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Protocols.Postgres;

/// <summary>How one PostgreSQL listener treats its clients.</summary>
public sealed record PgListenerOptions
{
    public required string Name { get; init; }

    public required PgUpstreamOptions Upstream { get; init; }

    /// <summary>The certificate offered to clients; null means the listener cannot do TLS.</summary>
    public SslStreamCertificateContext? Certificate { get; init; }

    /// <summary>
    /// Token logins need TLS; a plaintext one is accepted only when this is set and the client is on loopback
    /// (the demo), because a token in cleartext is a credential anyone on the path can replay.
    /// </summary>
    public bool AllowPlaintextOnLoopback { get; init; }

    /// <summary>From accept to a relaying session, the upstream login included.</summary>
    public TimeSpan LoginTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>A session with no traffic for this long is ended with 57P05; null = never.</summary>
    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>A session is ended with 57P01 after this long, however busy; null = never.</summary>
    public TimeSpan? MaxSessionDuration { get; init; }

    /// <summary>Query, Parse, Bind and FunctionCall messages larger than this end the session.</summary>
    public int MaxStatementBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>The statement policy every Query, Parse and FunctionCall is judged by; the safe defaults unless configured.</summary>
    public StatementPolicy Policy { get; init; } = StatementPolicy.Default;

    /// <summary>Where sessions are recorded; null = not recorded (configured without a recording section).</summary>
    public Gatehouse.Proxy.Core.Recording.Recorder? Recorder { get; init; }

    /// <summary>How much of the results this listener's sessions record (the upstream's <c>recording.results</c>).</summary>
    public Gatehouse.Proxy.Core.Recording.ResultRecording ResultRecording { get; init; }

    /// <summary>Which result values are masked, for whom; nothing by default.</summary>
    public MaskingPolicy Masking { get; init; } = MaskingPolicy.None;

    /// <summary>Startup parameters a client may set; anything else is refused by name.</summary>
    public IReadOnlySet<string> AllowedStartupParameters { get; init; } = DefaultStartupParameters;

    /// <summary>
    /// What drivers and psql send. <c>options</c> is absent on purpose: it carries command-line switches
    /// (<c>-c role=...</c>) straight into the server's session setup.
    /// </summary>
    public static readonly IReadOnlySet<string> DefaultStartupParameters = new HashSet<string>(StringComparer.Ordinal)
    {
        "user", "database", "application_name", "fallback_application_name", "client_encoding", "DateStyle",
        "TimeZone", "IntervalStyle", "extra_float_digits", "search_path", "lc_monetary", "lc_numeric", "lc_time",
        "statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "default_transaction_isolation",
        "default_transaction_read_only", "bytea_output", "intervalstyle", "datestyle", "timezone",
    };
}
