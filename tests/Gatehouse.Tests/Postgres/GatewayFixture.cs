using System.Collections.Concurrent;
using Gatehouse.Host;
using Gatehouse.Host.Commands;
using Gatehouse.Host.Configuration;
using Gatehouse.Host.Demo;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Gatehouse.Tests.Postgres;

/// <summary>
/// A real PostgreSQL 15 (scram-sha-256, TLS) with the gateway in front of it, configured by the same YAML a
/// user writes: listener "demo" requires TLS; listener "raw" also allows plaintext on loopback, so wire-level
/// tests can speak the protocol by hand.
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "gatehouse-test-" + Guid.NewGuid().ToString("N")[..8]);

    public LocalPostgres Postgres { get; private set; } = null!;

    public LocalMariaDb MariaDb { get; private set; } = null!;

    public GatewayHost Gateway { get; private set; } = null!;

    public GatehouseSettings Settings { get; private set; } = null!;

    public ConcurrentQueue<string> Logs { get; } = new();

    public int Port => Gateway.BoundPorts["demo"];

    public int RawPort => Gateway.BoundPorts["raw"];

    public int MySqlPort => Gateway.BoundPorts["demo-mysql"];

    public int MySqlRawPort => Gateway.BoundPorts["raw-mysql"];

    public async Task InitializeAsync()
    {
        // log_statement=all: recording tests compare what the gateway recorded with what the server ran.
        var postgres = LocalPostgres.StartAsync(new LocalPostgresOptions { ExtraSettings = { ["log_statement"] = "all" } }, CancellationToken.None);
        var mariaDb = LocalMariaDb.StartAsync(new LocalMariaDbOptions { GeneralLog = true }, CancellationToken.None);
        Postgres = await postgres;
        MariaDb = await mariaDb;
        await Postgres.PsqlAsync(DemoData.Sql);
        var demo = DemoGateway.Write(_directory, Postgres, 0, 0, extraListenerYaml: """
              - name: raw
                protocol: postgres
                bind: 127.0.0.1:0
                upstream: demo-db
                allow_plaintext_on_loopback: true
                login_timeout: 3s
                max_statement_bytes: 1048576
              - name: raw-mysql
                protocol: mysql
                bind: 127.0.0.1:0
                upstream: demo-mariadb
                allow_plaintext_on_loopback: true
                login_timeout: 3s
            """, mariaDb: MariaDb);
        Settings = GatehouseSettings.FromFile(demo.ConfigPath);
        Gateway = GatewayHost.Create(Settings, logging =>
        {
            logging.AddProvider(new CollectingLoggerProvider(Logs));
            logging.SetMinimumLevel(LogLevel.Debug);
        });
        await Gateway.StartAsync();
    }

    /// <summary>A second gateway in front of the same database, configured differently; the caller disposes it.</summary>
    public async Task<(GatewayHost Host, GatehouseSettings Settings)> StartGatewayAsync(string upstreamUser = LocalPostgres.ScramUser,
        string upstreamAuth = "scram-sha-256", string upstreamTls = "verify-full", string appendYaml = "", Func<string, string>? edit = null, bool withMySql = false)
    {
        var demo = DemoGateway.Write(Path.Combine(_directory, Guid.NewGuid().ToString("N")[..8]), Postgres, 0, 0, upstreamUser, upstreamAuth, upstreamTls,
            mariaDb: withMySql ? MariaDb : null);
        var yaml = File.ReadAllText(demo.ConfigPath) + "\n" + appendYaml;
        File.WriteAllText(demo.ConfigPath, edit is null ? yaml : edit(yaml));
        var settings = GatehouseSettings.FromFile(demo.ConfigPath);
        var host = GatewayHost.Create(settings, logging => logging.AddProvider(new CollectingLoggerProvider(Logs)));
        await host.StartAsync();
        return (host, settings);
    }

    public string Token(string subject = "alice", string[]? groups = null, TimeSpan? ttl = null)
        => TokenCommand.Mint(Settings.Identity, subject, groups ?? ["analysts"], ttl ?? TimeSpan.FromMinutes(10));

    public string ConnectionString(string? token = null, bool pooling = false, string sslMode = "Require", int? port = null, string database = "app", string user = "alice")
        => new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port ?? Port,
            Username = user,
            Password = token ?? Token(),
            Database = database,
            SslMode = Enum.Parse<SslMode>(sslMode),
            Pooling = pooling,
            Timeout = 15,
            CommandTimeout = 60,
        }.ConnectionString;

    public async Task<NpgsqlConnection> OpenAsync(string? token = null)
    {
        var connection = new NpgsqlConnection(ConnectionString(token));
        await connection.OpenAsync();
        return connection;
    }

    public async Task DisposeAsync()
    {
        await Gateway.DisposeAsync();
        await Postgres.DisposeAsync();
        await MariaDb.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed class CollectingLoggerProvider(ConcurrentQueue<string> sink) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(sink, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(ConcurrentQueue<string> sink, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => sink.Enqueue($"{logLevel} {category}[{eventId.Id}] {formatter(state, exception)} {exception}");
        }
    }
}

[CollectionDefinition("gateway")]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>;
