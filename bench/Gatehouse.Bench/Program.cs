using BenchmarkDotNet.Running;
using Gatehouse.Bench;

// dotnet run -c Release --project bench/Gatehouse.Bench -- --filter '*' [--job short | --job dry] [BenchmarkDotNet options]
// Add --allocation-budget [FILE] to fail (exit 1) when a benchmark allocates more per operation than FILE allows
// (default: allocation-budget.json beside the binary). CI: --filter '*' --job dry --allocation-budget.

// Not a BenchmarkDotNet run: `idle-sessions --connection CS --pid GATEWAY_PID ...` holds idle sessions open through
// a running gateway and reports its resident memory per session (see IdleSessions.cs; used by bench/e2e-postgres.sh).
if (args.Length > 0 && args[0] == "idle-sessions")
{
    return IdleSessions.RunAsync(args[1..]).GetAwaiter().GetResult();
}

var budgetAt = Array.IndexOf(args, "--allocation-budget");
string? budgetPath = null;
if (budgetAt >= 0)
{
    var explicitPath = budgetAt + 1 < args.Length && !args[budgetAt + 1].StartsWith('-');
    budgetPath = explicitPath ? args[budgetAt + 1] : Path.Combine(AppContext.BaseDirectory, AllocationBudget.FileName);
    args = [.. args[..budgetAt], .. args[(budgetAt + (explicitPath ? 2 : 1))..]];
}

var summaries = BenchmarkSwitcher.FromAssembly(typeof(RelayBenchmarks).Assembly).Run(args);
if (budgetPath is null)
{
    return 0;
}

Console.WriteLine($"allocation budget: {budgetPath}");
var failures = AllocationBudget.Check(summaries, AllocationBudget.Load(budgetPath), Console.Out);
return failures == 0 ? 0 : 1;
