using System.Text.Json;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Gatehouse.Bench;

/// <summary>
/// Gates benchmarks on allocated bytes per operation from a JSON budget (Garnet
/// <c>test/BDNPerfTests/BDN_Benchmark_Config.json</c>): a benchmark over its budget, or one with no budget,
/// fails the run. Time is reported, never gated: it is too noisy on shared CI machines.
/// </summary>
internal static class AllocationBudget
{
    public const string FileName = "allocation-budget.json";

    public static IReadOnlyDictionary<string, long> Load(string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        return json.RootElement.GetProperty("budgets").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64(), StringComparer.Ordinal);
    }

    /// <summary>The budget key of a case: <c>Class.Method</c>, then <c>(Param=Value, ...)</c> when it has parameters.</summary>
    public static string KeyOf(BenchmarkCase benchmark)
    {
        var name = benchmark.Descriptor.Type.Name + "." + benchmark.Descriptor.WorkloadMethod.Name;
        var parameters = benchmark.Parameters.Items;
        return parameters.Count == 0 ? name : $"{name}({string.Join(", ", parameters.Select(p => $"{p.Name}={p.Value}"))})";
    }

    /// <summary>Prints each case against its budget; returns the number of failures.</summary>
    public static int Check(IEnumerable<Summary> summaries, IReadOnlyDictionary<string, long> budgets, TextWriter log)
    {
        var failures = 0;
        var checkedAny = false;
        foreach (var report in summaries.SelectMany(s => s.Reports))
        {
            checkedAny = true;
            var key = KeyOf(report.BenchmarkCase);
            var allocated = report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase);
            if (!budgets.TryGetValue(key, out var budget))
            {
                log.WriteLine($"FAIL {key}: no budget in {FileName} (allocated {allocated} B/op)");
                failures++;
            }
            else if (allocated is null || !report.Success)
            {
                log.WriteLine($"FAIL {key}: no measurement (did the benchmark run with the MemoryDiagnoser?)");
                failures++;
            }
            else if (allocated > budget)
            {
                log.WriteLine($"FAIL {key}: {allocated} B/op allocated, budget {budget} B/op");
                failures++;
            }
            else
            {
                log.WriteLine($"ok   {key}: {allocated} B/op allocated, budget {budget} B/op");
            }
        }

        if (!checkedAny)
        {
            log.WriteLine("FAIL no benchmark ran");
            failures++;
        }

        return failures;
    }
}
