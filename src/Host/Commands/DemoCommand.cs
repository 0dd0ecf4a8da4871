using System.CommandLine;
using System.Net;
using System.Net.Sockets;
using Gatehouse.Host.Configuration;
using Gatehouse.Host.Demo;

namespace Gatehouse.Host.Commands;

/// <summary>
/// <c>gatehouse demo</c>: starts a throwaway PostgreSQL, puts the gateway in front of it with a demo
/// configuration, and prints a ready-to-paste psql command carrying a freshly minted token.
/// </summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Gateway port for PostgreSQL clients (0 = any free port).", DefaultValueFactory = _ => 6432 };
        var httpPort = new Option<int>("--http-port") { Description = "Port for /metrics, /healthz, /readyz.", DefaultValueFactory = _ => 9187 };
        var exitAfter = new Option<string?>("--exit-after") { Description = "Stop after this long (e.g. 30s), for scripted checks." };
        var mysqlPort = new Option<int>("--mysql-port") { Description = "Gateway port for MySQL clients (0 = any free port).", DefaultValueFactory = _ => 3307 };
        var maxConnections = new Option<int>("--pg-max-connections") { Description = "max_connections of the throwaway PostgreSQL.", DefaultValueFactory = _ => 300 };
        var noRecording = new Option<bool>("--no-recording") { Description = "Do not record sessions (to measure what recording costs)." };
        var command = new Command("demo", "Start a throwaway PostgreSQL behind the gateway and print how to connect.") { port, httpPort, mysqlPort, exitAfter, maxConnections, noRecording };
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            if (parse.GetValue(exitAfter) is { } after && ConfigValues.TryParseDuration(after, out var duration))
            {
                stop.CancelAfter(duration);
            }

            Console.WriteLine("Starting a throwaway PostgreSQL 15 ...");
            await using var postgres = await LocalPostgres.StartAsync(new LocalPostgresOptions { MaxConnections = parse.GetValue(maxConnections) }, stop.Token).ConfigureAwait(false);
            // MariaDB joins the demo when its server is installed (scripts/prerequisites.sh installs it).
            LocalMariaDb? mariaDb = null;
            if (File.Exists(new LocalMariaDbOptions().ServerPath))
            {
                Console.WriteLine("Starting a throwaway MariaDB ...");
                mariaDb = await LocalMariaDb.StartAsync(new LocalMariaDbOptions { MaxConnections = parse.GetValue(maxConnections) }, stop.Token).ConfigureAwait(false);
            }

            await using var mariaDbOwner = mariaDb;
            var directory = Path.Combine(postgres.RootDirectory + "-gateway");
            var demo = DemoGateway.Write(directory, postgres, FreeOr(parse.GetValue(port)), FreeOr(parse.GetValue(httpPort)),
                mariaDb: mariaDb, mysqlPort: mariaDb is null ? 0 : FreeOr(parse.GetValue(mysqlPort)), record: !parse.GetValue(noRecording));
            {
                await postgres.PsqlAsync(DemoData.Sql, cancellationToken: stop.Token).ConfigureAwait(false);
                var settings = GatehouseSettings.FromFile(demo.ConfigPath);
                await using var gateway = GatewayHost.Create(settings);
                await gateway.StartAsync(stop.Token).ConfigureAwait(false);
                using var reloader = gateway.WatchConfig(demo.ConfigPath);
                var listenerPort = gateway.BoundPorts["demo"];
                var token = TokenCommand.Mint(settings.Identity, "alice@example.com", ["analysts"], TimeSpan.FromHours(1));
                Console.WriteLine($"""

                    Gatehouse is running in front of a throwaway PostgreSQL.
                      config:   {demo.ConfigPath}
                                (edit it and save: new sessions take the change; SIGHUP reloads it too)
                      upstream: postgresql://{LocalPostgres.ScramUser}@{postgres.Host}:{postgres.Port}/{LocalPostgres.AppDatabase} (password in {demo.Directory}/upstream-password)
                      gateway pid: {Environment.ProcessId}
                      metrics:  {gateway.HttpAddress}metrics
                      {(gateway.Recorder is null ? "recording: off" : $"recording: {demo.RecordingDirectory} (check with: gatehouse verify {demo.RecordingDirectory} --key-file {demo.RecordingKeyPath} --allow-open)")}

                    Connect as alice (group "analysts") with a token minted just now, valid for 1 hour:

                      PGPASSWORD='{token}' psql "host=127.0.0.1 port={listenerPort} dbname=app user=alice sslmode=require"

                    {(mariaDb is null ? "(MariaDB is not installed: run scripts/prerequisites.sh to add a MySQL demo.)" : MySqlBanner(gateway.BoundPorts["demo-mysql"], token, mariaDb, demo.Directory))}

                    Mint another token:
                      gatehouse token --config {demo.ConfigPath} --sub bob --groups dba --ttl 15m
                    A contractor sees customers' card numbers and e-mail masked (the demo's masking rules):
                      gatehouse token --config {demo.ConfigPath} --sub carol --groups contractors --ttl 15m

                    Press Ctrl-C to stop; the database and its files are deleted.
                    """);
                try
                {
                    await gateway.WaitForShutdownAsync(stop.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }

            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }

            return 0;
        });
        return command;
    }

    /// <summary>
    /// The token is longer than a native password and must reach the gateway in clear, under TLS: the client
    /// needs --ssl, and libmariadb tools such as sysbench also need LIBMYSQL_PLUGINS=mysql_clear_password.
    /// </summary>
    private static string MySqlBanner(int port, string token, LocalMariaDb mariaDb, string directory) => $"""
        Or through MySQL/MariaDB, same token
        (mysql upstream: mysql://{LocalMariaDb.NativeUser}@{mariaDb.Host}:{mariaDb.Port}/{LocalMariaDb.AppDatabase}, password in {directory}/mysql-upstream-password):

          MYSQL_PWD='{token}' mariadb -h 127.0.0.1 -P {port} -u alice --ssl app
        """;

    private static int FreeOr(int preferred)
    {
        if (preferred != 0)
        {
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, preferred);
                probe.Start();
                return preferred;
            }
            catch (SocketException)
            {
                // Taken: fall through to any free port, and say which in the banner.
            }
        }

        using var any = new TcpListener(IPAddress.Loopback, 0);
        any.Start();
        return ((IPEndPoint)any.LocalEndpoint).Port;
    }
}
