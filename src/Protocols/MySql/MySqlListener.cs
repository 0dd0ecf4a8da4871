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
        Options = options;
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
        // A whole 16 MiB packet may be inspected (a COM_QUERY of that size); continuations stream.
        Limits = new RelayLimits { MaxInspectedFrame = MySqlFrameDecoder.MaxPayload + 4L, IdleTimeout = options.IdleTimeout, MaxSessionDuration = options.MaxSessionDuration };
    }

    public MySqlListenerOptions Options { get; }

    internal IClientAuthenticator Authenticator { get; }

    internal MySqlConnectionRegistry Connections { get; }

    internal MySqlUpstreamConnector Connector { get; }

    internal GatehouseMetrics? Metrics { get; }

    internal RelayMeter Meter { get; }

    internal RelayLimits Limits { get; }

    internal ILogger Logger { get; }

    internal TimeProvider Time { get; }

    internal CancellationToken Shutdown { get; }

    internal ConnectionLimiter Limiter { get; }

    internal SessionMeter Sessions { get; }

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
