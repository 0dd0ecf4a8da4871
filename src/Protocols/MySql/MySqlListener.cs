using Gatehouse.Proxy.Core.Metrics;
using Gatehouse.Proxy.Core.Relay;
using Gatehouse.Proxy.Core.Sessions;
using Gatehouse.Proxy.Core.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Protocols.MySql;

/// <summary>One configured MySQL listener: the services its sessions share.</summary>
public sealed class MySqlListener
{
    public MySqlListener(MySqlListenerOptions options, IClientAuthenticator authenticator, MySqlConnectionRegistry connections, UpstreamDialer dialer,
        GatehouseMetrics? metrics, ILogger logger, TimeProvider? time = null, CancellationToken shutdown = default, ConnectionLimiter? limiter = null)
    {
        _current = new MySqlListenerGeneration(options);
        Authenticator = authenticator;
        Connections = connections;
        Connector = new MySqlUpstreamConnector(dialer);
        Metrics = metrics;
        Meter = new RelayMeter(metrics);
        Logger = logger;
        Time = time ?? TimeProvider.System;
        Shutdown = shutdown;
        Limiter = limiter ?? new ConnectionLimiter(int.MaxValue);
        Sessions = new SessionMeter(metrics, options.Name);
    }

    private MySqlListenerGeneration _current;

    /// <summary>The options new sessions start with; a session keeps the ones it started with (<see cref="Current"/>).</summary>
    public MySqlListenerOptions Options => Current.Options;

    /// <summary>The options and what follows from them, as one: a session takes this once, when it starts.</summary>
    internal MySqlListenerGeneration Current => Volatile.Read(ref _current);

    /// <summary>
    /// New options from a configuration reload, for sessions that start from now on; live sessions keep theirs.
    /// The masking catalog stays: the caller keeps the upstream's server and login as they were.
    /// </summary>
    public void Reload(MySqlListenerOptions options)
    {
        if (options.Name != Current.Options.Name)
        {
            throw new ArgumentException($"listener {Current.Options.Name} cannot take the options of {options.Name}", nameof(options));
        }

        Volatile.Write(ref _current, new MySqlListenerGeneration(options));
    }

    internal IClientAuthenticator Authenticator { get; }

    internal MySqlConnectionRegistry Connections { get; }

    internal MySqlUpstreamConnector Connector { get; }

    internal GatehouseMetrics? Metrics { get; }

    internal RelayMeter Meter { get; }

    internal ILogger Logger { get; }

    internal TimeProvider Time { get; }

    internal CancellationToken Shutdown { get; }

    internal ConnectionLimiter Limiter { get; }

    internal SessionMeter Sessions { get; }

    /// <summary>The sessions relaying now, for a reload that withdraws access (<see cref="Withdraw"/>).</summary>
    internal LiveSessions Live { get; } = new();

    /// <summary>A reload's roles: live sessions whose subject they no longer let use the upstream end now. Returns how many.</summary>
    public int Withdraw(Gatehouse.Proxy.Core.Identity.RoleMap roles) => Live.Withdraw(roles);

    /// <summary>DDL an exempt session ran: masked sessions must not go on with names resolved before it.</summary>
    internal void OnCatalogChange() => Volatile.Read(ref _catalog)?.Invalidate();

    /// <summary>
    /// The upstream's tables and views, for masking; made when the first masked session needs it. Sessions keep
    /// the instance, so two starting at once must get the same one (else one never hears of DDL).
    /// </summary>
    internal Masking.MySqlCatalog Catalog => Volatile.Read(ref _catalog)
        ?? (Interlocked.CompareExchange(ref _catalog, new Masking.MySqlCatalog(Connector, Options.Upstream, Time, Logger), null) ?? _catalog);

    private Masking.MySqlCatalog? _catalog;

    /// <summary>Serves one client connection until its session ends; never throws for anything the peers do.</summary>
    public Task HandleAsync(ConnectionContext connection) => new MySqlClientSession(this, connection).RunAsync();
}

/// <summary>A listener's options and what is made from them once, shared by the sessions that start with them.</summary>
internal sealed class MySqlListenerGeneration(MySqlListenerOptions options)
{
    public MySqlListenerOptions Options { get; } = options;

    // A whole 16 MiB packet may be inspected (a COM_QUERY of that size); continuations stream.
    public RelayLimits Limits { get; } = new() { MaxInspectedFrame = MySqlFrameDecoder.MaxPayload + 4L, IdleTimeout = options.IdleTimeout, MaxSessionDuration = options.MaxSessionDuration };
}
