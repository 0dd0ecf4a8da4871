using Gatehouse.Host.Configuration;
using Gatehouse.Host.Metrics;
using Gatehouse.Host.Recording;
using Gatehouse.Protocols.MySql;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Proxy.Core.Identity;
using Gatehouse.Proxy.Core.Metrics;
using Gatehouse.Proxy.Core.Recording;
using Gatehouse.Proxy.Core.Sessions;
using Gatehouse.Proxy.Core.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Host;

/// <summary>
/// The composition root: Kestrel listens on each database port through a connection handler, and on the HTTP
/// port for <c>/healthz</c>, <c>/readyz</c> and <c>/metrics</c>.
/// </summary>
public sealed partial class GatewayHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly JwtIdentityValidator _validator;
    private readonly UpstreamDialer _dialer;
    private readonly PrometheusExporter _exporter;
    private readonly SegmentIndexer? _indexer;
    private List<(string Name, ListenOptions Options)> _bound = [];
    private Dictionary<string, ListenerSlot> _slots = [];
    private readonly Lock _reloading = new();

    private GatewayHost(WebApplication app, JwtIdentityValidator validator, UpstreamDialer dialer, PrometheusExporter exporter, GatehouseSettings settings,
        Recorder? recorder, SegmentIndexer? indexer)
    {
        Recorder = recorder;
        _indexer = indexer;
        _app = app;
        _validator = validator;
        _dialer = dialer;
        _exporter = exporter;
        _settings = _started = settings;
    }

    private readonly GatehouseSettings _started;

    private GatehouseSettings _settings;

    /// <summary>
    /// The configuration last loaded, at start or by a reload (<see cref="Reload"/>); what a reload could not
    /// apply (its outcome lists it) still runs as it started.
    /// </summary>
    public GatehouseSettings Settings => Volatile.Read(ref _settings);

    /// <summary>The session recorder; null when the configuration records nothing.</summary>
    public Recorder? Recorder { get; }

    /// <summary>The HTTP endpoint actually bound (port 0 in the file becomes a real port).</summary>
    public Uri? HttpAddress { get; private set; }

    /// <summary>Listener name → the port actually bound.</summary>
    public Dictionary<string, int> BoundPorts { get; } = [];

    public static GatewayHost Create(GatehouseSettings settings, Action<ILoggingBuilder>? logging = null)
    {
        // Gatehouse reads its own YAML; ASP.NET's appsettings.json would be watched for changes from the
        // working directory down, recursively: started in /tmp, that was one inotify watch per directory there
        // (2,093 in the demo), and every write below it (segments, the database's files) an event to handle.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        if (logging is null)
        {
            builder.Logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.UseUtcTimestamp = true;
            });
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        }
        else
        {
            logging(builder.Logging);
        }

        // The relay never blocks a thread, so continuations may run on the socket's own I/O thread: each
        // frame then crosses no thread-pool queue, which on a 2-core sidecar is most of a round trip's cost.
        builder.WebHost.UseSockets(o => o.UnsafePreferInlineScheduling = true);
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<GatehouseMetrics>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<NativeHeapTrimmer>();
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(15));
        var exporter = new PrometheusExporter();
        var dialer = new UpstreamDialer();
        var cancels = new PgCancelRegistry();
        var mysqlConnections = new MySqlConnectionRegistry();
        var limiter = new ConnectionLimiter(settings.MaxConnections);
        var recording = OpenRecorder(settings.Recording);
        var recorder = recording?.Recorder;
        JwtIdentityValidator? validator = null;
        var bound = new List<(string Name, ListenOptions Options)>();
        var slots = settings.Listeners.ToDictionary(plan => plan.Name, plan => new ListenerSlot(plan, settings.Roles, settings.Recording), StringComparer.Ordinal);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Limits for database connections are the gateway's own (clean protocol errors); Kestrel's HTTP
            // limits only concern the small admin port.
            foreach (var plan in settings.Listeners)
            {
                var slot = slots[plan.Name];
                kestrel.Listen(plan.Endpoint, listen =>
                {
                    bound.Add((plan.Name, listen));
                    Func<ConnectionContext, Task>? handle = null;
                    listen.Run(connection =>
                    {
                        handle ??= CreateListener(listen.ApplicationServices, slot);
                        return handle(connection);
                    });
                });
            }

            if (settings.Http is { } http)
            {
                kestrel.Listen(http, listen => bound.Add(("http", listen)));
            }
        });

        Func<ConnectionContext, Task> CreateListener(IServiceProvider services, ListenerSlot slot)
        {
            validator ??= services.GetRequiredService<JwtIdentityValidator>();
            var metrics = services.GetRequiredService<GatehouseMetrics>();
            var loggers = services.GetRequiredService<ILoggerFactory>();
            var stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            lock (slot.Gate)
            {
                // Made at the first connection; a reload before it has changed the slot's plan and roles.
                slot.Authenticator = new TokenClientAuthenticator(validator, slot.Roles);
                if (slot.Plan.MySql is not null)
                {
                    slot.MySql = new MySqlListener(slot.MySqlOptions(recorder), slot.Authenticator, mysqlConnections, dialer, metrics, loggers.CreateLogger("Gatehouse.MySql"),
                        TimeProvider.System, stopping, limiter);
                    return slot.MySql.HandleAsync;
                }

                slot.Postgres = new PgListener(slot.PgOptions(recorder), slot.Authenticator, cancels, dialer, metrics, loggers.CreateLogger("Gatehouse.Postgres"),
                    TimeProvider.System, stopping, limiter);
                return slot.Postgres.HandleAsync;
            }
        }

        builder.Services.AddSingleton(sp => new JwtIdentityValidator(settings.Identity, TimeProvider.System, sp.GetRequiredService<ILoggerFactory>().CreateLogger("Gatehouse.Identity")));
        var app = builder.Build();
        exporter.Export(app.Services.GetRequiredService<GatehouseMetrics>().Meter);
        var jwt = app.Services.GetRequiredService<JwtIdentityValidator>();
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        var lifetime = app.Services.GetRequiredService<IHostApplicationLifetime>();
        // Ready once every port is bound, until shutdown starts draining: a load balancer stops sending then.
        // Not ready while recording is broken either: sessions are refused then, so traffic belongs elsewhere.
        app.MapGet("/readyz", () => !lifetime.ApplicationStarted.IsCancellationRequested || lifetime.ApplicationStopping.IsCancellationRequested
            ? Results.Text("not ready\n", statusCode: StatusCodes.Status503ServiceUnavailable)
            : recorder is { Failure: { } failure }
                ? Results.Text($"not ready: {failure}\n", statusCode: StatusCodes.Status503ServiceUnavailable)
                : Results.Text("ready\n"));
        app.MapGet("/metrics", () => Results.Text(exporter.Render(recorder), "text/plain; version=0.0.4; charset=utf-8"));
        SegmentIndexer? indexer = null;
        if (recording is { } opened)
        {
            indexer = new SegmentIndexer(opened.Store, settings.Recording!.Key, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gatehouse.Recording"));
            opened.Writer.SegmentSealed += indexer.OnSealed;
        }

        return new GatewayHost(app, jwt, dialer, exporter, settings, recorder, indexer) { _bound = bound, _slots = slots };
    }

    /// <summary>
    /// Opens the recording (recovering a crashed segment) before anything listens; a recording it cannot open
    /// or must not repair stops the gateway from starting: it would not record what it forwards. The writer and
    /// store come back too, for the index builder.
    /// </summary>
    private static (Recorder Recorder, SegmentWriter Writer, DirectorySegmentStore Store)? OpenRecorder(RecordingSettings? settings)
    {
        if (settings is null)
        {
            return null;
        }

        var store = new DirectorySegmentStore(settings.Directory);
        var writer = new SegmentWriter(store, settings.Key, settings.Limits, TimeProvider.System);
        try
        {
            writer.Open();
        }
        catch
        {
            writer.Dispose();
            throw;
        }

        return (new Recorder(writer, TimeProvider.System, settings.QueueCapacity), writer, store);
    }

    /// <summary>Binds every port; after this the gateway accepts connections.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await _app.StartAsync(cancellationToken).ConfigureAwait(false);
        foreach (var (name, options) in _bound)
        {
            // Kestrel writes the bound port back into the options, so port 0 in the file works.
            var port = options.IPEndPoint!.Port;
            if (name == "http")
            {
                HttpAddress = new Uri($"http://127.0.0.1:{port}/");
            }
            else
            {
                BoundPorts[name] = port;
            }
        }
    }

    public Task WaitForShutdownAsync(CancellationToken cancellationToken = default) => _app.WaitForShutdownAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        if (Recorder is not null)
        {
            await Recorder.DisposeAsync().ConfigureAwait(false); // sessions are gone: seal the last segment
        }

        if (_indexer is not null)
        {
            await _indexer.DisposeAsync().ConfigureAwait(false); // and write its index
        }

        // The validator belongs to the app's service container, which disposed it.
        _dialer.Dispose();
        _exporter.Dispose();
    }
}
