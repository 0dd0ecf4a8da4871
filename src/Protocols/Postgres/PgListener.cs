using Gatehouse.Proxy.Core.Metrics;
using Gatehouse.Proxy.Core.Relay;
using Gatehouse.Proxy.Core.Sessions;
using Gatehouse.Proxy.Core.Transport;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Protocols.Postgres;

/// <summary>One configured PostgreSQL listener: the services its sessions share.</summary>
public sealed class PgListener
{
    public PgListener(PgListenerOptions options, IClientAuthenticator authenticator, PgCancelRegistry cancels, UpstreamDialer dialer,
        GatehouseMetrics? metrics, ILogger logger, TimeProvider? time = null, CancellationToken shutdown = default, ConnectionLimiter? limiter = null)
    {
        Limiter = limiter ?? new ConnectionLimiter(int.MaxValue);
        _current = new PgListenerGeneration(options);
        Authenticator = authenticator;
        Cancels = cancels;
        Connector = new PgUpstreamConnector(dialer);
        Metrics = metrics;
        Meter = new RelayMeter(metrics);
        Logger = logger;
        Time = time ?? TimeProvider.System;
        Shutdown = shutdown;
        Sessions = new SessionMeter(metrics, options.Name);
    }

    private PgListenerGeneration _current;

    /// <summary>The options new sessions start with; a session keeps the ones it started with (<see cref="Current"/>).</summary>
    public PgListenerOptions Options => Current.Options;

    /// <summary>The options and what follows from them, as one: a session takes this once, when it starts.</summary>
    internal PgListenerGeneration Current => Volatile.Read(ref _current);

    /// <summary>
    /// New options from a configuration reload, for sessions that start from now on; live sessions keep theirs.
    /// The masking catalogs stay: the caller keeps the upstream's server and login as they were (a change there
    /// waits for a restart), so what they read still describes the database new sessions reach.
    /// </summary>
    public void Reload(PgListenerOptions options)
    {
        if (options.Name != Current.Options.Name)
        {
            throw new ArgumentException($"listener {Current.Options.Name} cannot take the options of {options.Name}", nameof(options));
        }

        Volatile.Write(ref _current, new PgListenerGeneration(options));
    }

    internal IClientAuthenticator Authenticator { get; }

    internal PgCancelRegistry Cancels { get; }

    internal PgUpstreamConnector Connector { get; }

    internal GatehouseMetrics? Metrics { get; }

    internal RelayMeter Meter { get; }

    internal ILogger Logger { get; }

    internal TimeProvider Time { get; }

    internal CancellationToken Shutdown { get; }

    internal SessionMeter Sessions { get; }

    /// <summary>The sessions relaying now, for a reload that withdraws access (<see cref="Withdraw"/>).</summary>
    internal LiveSessions Live { get; } = new();

    /// <summary>A reload's roles: live sessions whose subject they no longer let use the upstream end now. Returns how many.</summary>
    public int Withdraw(Gatehouse.Proxy.Core.Identity.RoleMap roles) => Live.Withdraw(roles);

    internal ConnectionLimiter Limiter { get; }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Masking.PgCatalog> _catalogs = new(StringComparer.Ordinal);

    /// <summary>
    /// DDL seen in any session, masked or exempt, drops the database's cached catalog: a column renamed to a
    /// sensitive name, or a function created by an exempt developer, must count for masked sessions at once.
    /// </summary>
    internal void OnDdl(string database)
    {
        if (_catalogs.TryGetValue(database, out var catalog))
        {
            catalog.Invalidate();
        }
    }

    /// <summary>The masking catalog of one upstream database, shared by its sessions (OIDs are per database).</summary>
    internal Masking.PgCatalog CatalogFor(string database) =>
        _catalogs.GetOrAdd(database, db => new Masking.PgCatalog(Connector, Options.Upstream, db, Time, Logger));

    /// <summary>Serves one client connection until its session ends; never throws for anything the peers do.</summary>
    public Task HandleAsync(ConnectionContext connection) => new PgClientSession(this, connection).RunAsync();
}

/// <summary>A listener's options and what is made from them once, shared by the sessions that start with them.</summary>
internal sealed class PgListenerGeneration(PgListenerOptions options)
{
    public PgListenerOptions Options { get; } = options;

    /// <summary>The client-side framer; it holds no per-session state, so the sessions share it.</summary>
    public PgFrameDecoder FrontendDecoder { get; } = PgFrameDecoder.ForFrontend(options.MaxStatementBytes);

    public RelayLimits Limits { get; } = new()
    {
        MaxInspectedFrame = Math.Max(options.MaxStatementBytes + 1L, 64 * 1024),
        IdleTimeout = options.IdleTimeout,
        MaxSessionDuration = options.MaxSessionDuration,
    };
}
