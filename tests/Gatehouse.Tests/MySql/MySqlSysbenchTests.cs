using System.Diagnostics;
using System.Globalization;
using Gatehouse.Tests.Postgres;

namespace Gatehouse.Tests.MySql;

/// <summary>sysbench's OLTP read-only workload (server-side prepared statements, binary rows) through the gateway.</summary>
[Collection("gateway")]
public sealed class MySqlSysbenchTests(GatewayFixture fixture)
{
    [Fact]
    public async Task Oltp_read_only_runs_without_errors_through_the_gateway()
    {
        var work = Directory.CreateTempSubdirectory("gatehouse-sysbench-");
        try
        {
            // sysbench 1.0's --mysql-ssl=on reads these three files from its working directory; the gateway
            // asks for no client certificate, so any pair will do, and cacert.pem trusts the gateway's.
            var gateway = File.ReadAllText(Path.Combine(Path.GetDirectoryName(fixture.Settings.Identity.DevSigningKeyFile!)!, "gateway.crt"));
            File.WriteAllText(Path.Combine(work.FullName, "cacert.pem"), gateway);
            File.Copy(Path.Combine(Path.GetDirectoryName(fixture.Settings.Identity.DevSigningKeyFile!)!, "gateway.crt"), Path.Combine(work.FullName, "client-cert.pem"));
            File.Copy(Path.Combine(Path.GetDirectoryName(fixture.Settings.Identity.DevSigningKeyFile!)!, "gateway.key"), Path.Combine(work.FullName, "client-key.pem"));

            var direct = await SysbenchAsync(work.FullName, "prepare", fixture.MariaDb.Port, "gatehouse_native", fixture.MariaDb.NativePassword, ssl: false);
            Assert.True(direct.ExitCode == 0, direct.Output);

            var run = await SysbenchAsync(work.FullName, "run", fixture.MySqlPort, "alice", fixture.Token(), ssl: true);
            Assert.True(run.ExitCode == 0, run.Output);
            Assert.Matches(@"transactions:\s+[1-9][0-9]*", run.Output);
            Assert.Matches(@"ignored errors:\s+0 ", run.Output);
        }
        finally
        {
            await fixture.MariaDb.QueryAsync("DROP TABLE IF EXISTS sbtest1, sbtest2");
            work.Delete(recursive: true);
        }
    }

    private static async Task<(int ExitCode, string Output)> SysbenchAsync(string directory, string command, int port, string user, string password, bool ssl)
    {
        var start = new ProcessStartInfo("sysbench")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[]
        {
            "oltp_read_only", "--db-driver=mysql", "--mysql-host=127.0.0.1", "--mysql-port=" + port.ToString(CultureInfo.InvariantCulture),
            "--mysql-user=" + user, "--mysql-password=" + password, "--mysql-db=app", "--mysql-ssl=" + (ssl ? "on" : "off"),
            "--tables=2", "--table-size=1000", "--threads=4", "--time=3", command,
        })
        {
            start.ArgumentList.Add(a);
        }

        // libmariadb loads mysql_clear_password lazily and its threads race on that load: preload it.
        start.Environment["LIBMYSQL_PLUGINS"] = "mysql_clear_password";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
