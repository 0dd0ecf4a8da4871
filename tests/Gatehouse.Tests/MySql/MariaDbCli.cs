using System.Diagnostics;
using Gatehouse.Tests.Postgres;

namespace Gatehouse.Tests.MySql;

/// <summary>Runs the real `mariadb` command-line client against the gateway, with the token as its password.</summary>
public static class MariaDbCli
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static async Task<Result> RunAsync(GatewayFixture fixture, string token, string sql, bool tls = true, int? port = null)
    {
        var start = new ProcessStartInfo("mariadb")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "--no-defaults", "-h", "127.0.0.1", "-P", (port ?? fixture.MySqlPort).ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "-u", "alice", tls ? "--ssl" : "--skip-ssl", "--max-allowed-packet=64M", "--batch", "--skip-column-names", "app" })
        {
            start.ArgumentList.Add(a);
        }

        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("MYSQL", StringComparison.Ordinal) || k.StartsWith("MARIADB", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["MYSQL_PWD"] = token; // not on the command line, where ps would show it
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(sql);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
