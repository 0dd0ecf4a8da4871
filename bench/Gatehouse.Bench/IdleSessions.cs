using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Gatehouse.Bench;

/// <summary>
/// <c>idle-sessions</c>: opens sessions that log in and then sit idle (no query in flight), and reports how the
/// resident memory of a process (the gateway) grows with them. Used by <c>bench/e2e-postgres.sh</c>.
/// Output lines are <c>key=value</c> so a shell script can read them.
/// </summary>
internal static class IdleSessions
{
    public static async Task<int> RunAsync(string[] args)
    {
        string? connectionString = null;
        var pid = 0;
        var warmup = 200;
        var count = 1000;
        var parallel = 8;
        var settle = TimeSpan.FromSeconds(5);
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--connection": connectionString = value; break;
                case "--pid": pid = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--count": count = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--parallel": parallel = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--settle-seconds": settle = TimeSpan.FromSeconds(double.Parse(value, CultureInfo.InvariantCulture)); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }

            i++;
        }

        if (connectionString is null || pid <= 0)
        {
            await Console.Error.WriteLineAsync("usage: Gatehouse.Bench idle-sessions --connection CS --pid GATEWAY_PID [--warmup 200] [--count 1000] [--parallel 8] [--settle-seconds 5]");
            return 2;
        }

        // Every session is its own physical connection: no pooling, no multiplexing, no keepalive traffic.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Multiplexing = false };
        var sessions = new List<NpgsqlConnection>(warmup + count);
        try
        {
            var stopwatch = Stopwatch.StartNew();
            await OpenAsync(builder.ConnectionString, warmup, parallel, sessions);
            Console.WriteLine($"warmup_sessions={warmup} open_seconds={stopwatch.Elapsed.TotalSeconds:F1}");
            await Task.Delay(settle);
            var before = await SampleRssKibAsync(pid);

            stopwatch.Restart();
            await OpenAsync(builder.ConnectionString, count, parallel, sessions);
            Console.WriteLine($"measured_sessions={count} open_seconds={stopwatch.Elapsed.TotalSeconds:F1}");
            await Task.Delay(settle);
            var after = await SampleRssKibAsync(pid);

            // Prove the sessions are alive and logged in (a query on a handful), after the samples were taken.
            foreach (var session in sessions.Take(3).Concat(sessions.TakeLast(3)))
            {
                await using var check = new NpgsqlCommand("SELECT 1", session);
                _ = await check.ExecuteScalarAsync();
            }

            Console.WriteLine($"rss_before_kib={before}");
            Console.WriteLine($"rss_after_kib={after}");
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"kib_per_session={(after - before) / (double)count:F1}"));
            return 0;
        }
        finally
        {
            foreach (var session in sessions)
            {
                await session.DisposeAsync();
            }
        }
    }

    private static async Task OpenAsync(string connectionString, int count, int parallel, List<NpgsqlConnection> into)
    {
        var opened = new NpgsqlConnection[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (i, cancellationToken) =>
        {
            var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            opened[i] = connection;
        });
        into.AddRange(opened);
    }

    /// <summary>The median of five VmRSS readings a second apart, in KiB.</summary>
    private static async Task<long> SampleRssKibAsync(int pid)
    {
        var samples = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            if (i > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }

            var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            samples.Add(long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture));
        }

        samples.Sort();
        return samples[samples.Count / 2];
    }
}
