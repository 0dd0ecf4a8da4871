using System.Diagnostics;

namespace Gatehouse.Tests.Postgres;

/// <summary>Runs the real psql client against the gateway, with the token as PGPASSWORD.</summary>
public static class Psql
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Task<Result> RunAsync(GatewayFixture fixture, string token, params string[] args) => RunWithInputAsync(fixture, token, null, args);

    public static Task<Result> RunWithInputAsync(GatewayFixture fixture, string token, string? stdin, params string[] args) => RunOnPortAsync(fixture.Port, token, stdin, args);

    /// <summary>psql against a gateway other than the fixture's own (one a test started with its own configuration).</summary>
    public static async Task<Result> RunOnPortAsync(int port, string token, string? stdin, params string[] args)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("GATEHOUSE_TEST_PSQL") ?? "psql")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add($"host=127.0.0.1 port={port} dbname=app user=alice sslmode=require");
        start.ArgumentList.Add("-X");
        start.ArgumentList.Add("-A");
        start.ArgumentList.Add("-t");
        start.ArgumentList.Add("-v");
        start.ArgumentList.Add("ON_ERROR_STOP=1");
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("PG", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["PGPASSWORD"] = token;
        using var process = Process.Start(start)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
