using System.Globalization;
using Gatehouse.Fuzz;
using Gatehouse.Fuzz.Runner;
using Gatehouse.Fuzz.Support;

// dotnet run --project fuzz/Gatehouse.Fuzz -c Release -- <target|all> [--seconds N] [--corpus DIR] [--seed N] [--findings DIR] [--max-len N]
// dotnet run --project fuzz/Gatehouse.Fuzz -- gen-corpus [DIR]      (re)writes the seed corpus
// dotnet run --project fuzz/Gatehouse.Fuzz -- repro <target> FILE...  runs saved inputs once, with the exception shown
// dotnet run --project fuzz/Gatehouse.Fuzz -- list
// Exit codes: 0 clean, 1 crash, 2 hang, 64 usage.

if (args.Length == 0 || args[0] is "-h" or "--help")
{
    return Usage();
}

switch (args[0])
{
    case "list":
        foreach (var t in FuzzTargets.All)
        {
            Console.WriteLine(t.Name);
        }

        return 0;
    case "gen-corpus":
    {
        var root = args.Length > 1 ? args[1] : Path.Combine(RepoRoot() ?? ".", "fuzz", "Gatehouse.Fuzz", "corpus");
        var n = SeedCorpus.Write(root);
        Console.WriteLine($"wrote {n} seed files under {Path.GetFullPath(root)}");
        return 0;
    }

    case "repro":
        return Repro(args);
}

var targets = args[0] == "all" ? FuzzTargets.All : FuzzTargets.Find(args[0]) is { } one ? [one] : null;
if (targets is null)
{
    Console.Error.WriteLine($"unknown target '{args[0]}'; targets: {string.Join(", ", FuzzTargets.All.Select(t => t.Name))}");
    return 64;
}

var seconds = 10.0;
var seed = Environment.TickCount;
var maxLength = 1 << 16;
string? corpus = null;
var findings = Path.Combine(RepoRoot() ?? ".", "fuzz", "findings");
for (var i = 1; i < args.Length; i++)
{
    var value = i + 1 < args.Length ? args[i + 1] : null;
    switch (args[i])
    {
        case "--seconds" when value is not null:
            seconds = double.Parse(value, CultureInfo.InvariantCulture);
            break;
        case "--seed" when value is not null:
            seed = int.Parse(value, CultureInfo.InvariantCulture);
            break;
        case "--corpus" when value is not null:
            corpus = value;
            break;
        case "--findings" when value is not null:
            findings = value;
            break;
        case "--max-len" when value is not null:
            maxLength = int.Parse(value, CultureInfo.InvariantCulture);
            break;
        default:
            return Usage();
    }

    i++;
}

Console.WriteLine($"seed {seed}, {seconds} s per target, findings to {Path.GetFullPath(findings)}");
var exit = 0;
foreach (var target in targets)
{
    var seeds = LoadCorpus(target.Name, corpus);
    if (seeds.Count == 0)
    {
        Console.Error.WriteLine($"[{target.Name}] no seed corpus found");
        return 64;
    }

    var report = new FuzzRunner(target, seeds, findings, Console.Out).Run(TimeSpan.FromSeconds(seconds), seed, maxLength);
    Console.WriteLine($"[{report.Target}] {report.Execs} execs in {report.Elapsed.TotalSeconds:F1} s ({report.Execs / Math.Max(report.Elapsed.TotalSeconds, 0.001):F0}/s) from {report.Seeds} seeds: "
        + $"{report.Crashes} crashes ({report.UniqueCrashes} unique){(report.Hang ? ", HANG" : "")}");
    Console.WriteLine($"[{report.Target}] reached: {string.Join(", ", FuzzCounters.Snapshot(report.Target + ".").Select(kv => $"{kv.Key[(report.Target.Length + 1)..]}={kv.Value}"))}");
    if (report.Hang)
    {
        // The hung input still holds the worker thread; nothing more can run reliably in this process.
        return 2;
    }

    if (report.Crashes > 0)
    {
        exit = 1;
    }
}

return exit;

static List<byte[]> LoadCorpus(string target, string? corpus)
{
    var dir = corpus is null
        ? Path.Combine(AppContext.BaseDirectory, "corpus", target)
        : Directory.Exists(Path.Combine(corpus, target)) ? Path.Combine(corpus, target) : corpus;
    return Directory.Exists(dir)
        ? [.. Directory.GetFiles(dir).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)]
        : [];
}

static int Repro(string[] args)
{
    if (args.Length < 3 || FuzzTargets.Find(args[1]) is not { } target)
    {
        return Usage();
    }

    var failed = 0;
    foreach (var file in args[2..])
    {
        try
        {
            target.Run(File.ReadAllBytes(file));
            Console.WriteLine($"{file}: ok");
        }
#pragma warning disable CA1031 // reproducing: show whatever escapes
        catch (Exception ex)
#pragma warning restore CA1031
        {
            failed++;
            Console.WriteLine($"{file}: {ex}");
        }
    }

    return failed > 0 ? 1 : 0;
}

static string? RepoRoot()
{
    for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "Gatehouse.slnx")))
        {
            return dir.FullName;
        }
    }

    return null;
}

static int Usage()
{
    Console.Error.WriteLine("""
        usage: Gatehouse.Fuzz <target|all> [--seconds N] [--corpus DIR] [--seed N] [--findings DIR] [--max-len N]
               Gatehouse.Fuzz gen-corpus [DIR]
               Gatehouse.Fuzz repro <target> FILE...
               Gatehouse.Fuzz list
        """);
    return 64;
}
