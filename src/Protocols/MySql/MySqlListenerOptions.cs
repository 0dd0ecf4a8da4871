using System.Net.Security;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Protocols.MySql;

/// <summary>How one MySQL listener treats its clients.</summary>
public sealed record MySqlListenerOptions
{
    public required string Name { get; init; }

    public required MySqlUpstreamOptions Upstream { get; init; }

    /// <summary>The certificate offered to clients; null means the listener cannot do TLS.</summary>
    public SslStreamCertificateContext? Certificate { get; init; }

    /// <summary>Token logins need TLS; plaintext is accepted only with this set and a loopback client.</summary>
    public bool AllowPlaintextOnLoopback { get; init; }

    public TimeSpan LoginTimeout { get; init; } = TimeSpan.FromSeconds(15);

    public TimeSpan? IdleTimeout { get; init; }

    public TimeSpan? MaxSessionDuration { get; init; }

    /// <summary>The statement policy every COM_QUERY and COM_STMT_PREPARE is judged by; the safe defaults unless configured.</summary>
    public StatementPolicy Policy { get; init; } = StatementPolicy.Default;

    /// <summary>Where sessions are recorded; null = not recorded (configured without a recording section).</summary>
    public Gatehouse.Proxy.Core.Recording.Recorder? Recorder { get; init; }

    /// <summary>How much of the results this listener's sessions record (the upstream's <c>recording.results</c>).</summary>
    public Gatehouse.Proxy.Core.Recording.ResultRecording ResultRecording { get; init; }

    /// <summary>Which result values are masked, for which roles; nothing unless configured.</summary>
    public MaskingPolicy Masking { get; init; } = MaskingPolicy.None;

    /// <summary>The version the greeting announces; clients gate features on it.</summary>
    public string ServerVersion { get; init; } = "8.0.99-Gatehouse";
}
