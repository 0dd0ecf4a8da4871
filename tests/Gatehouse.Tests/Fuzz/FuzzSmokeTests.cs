using Gatehouse.Fuzz;
using Gatehouse.Fuzz.Runner;
using Gatehouse.Fuzz.Support;

namespace Gatehouse.Tests.Fuzz;

/// <summary>
/// Every fuzz target in the normal suite (Garnet <c>test/standalone/Garnet.test/FuzzTargetTests.cs</c>): its
/// seed corpus, then 2000 inputs mutated from it with a fixed seed. A crash names the input in hex; save it
/// with <c>xxd -r -p</c> and replay it with <c>dotnet run --project fuzz/Gatehouse.Fuzz -- repro TARGET FILE</c>.
/// The seeds must also reach each target's deep milestones, so a target that rejects everything early fails.
/// </summary>
public sealed class FuzzSmokeTests
{
    private const int MutatedInputs = 2000;
    private const int Seed = 20240601;

    [Fact]
    public void PgStartup() => Smoke("pg-startup", "Startup", "SslRequest", "GssEncRequest", "CancelRequest");

    [Fact]
    public void PgFrontendFrames() => Smoke("pg-frontend-frames", "ClientClosed", "ProtocolViolation", "frames>=3");

    [Fact]
    public void PgBackendFrames() => Smoke("pg-backend-frames", "UpstreamClosed", "Enforced", "ProtocolViolation", "frames>=3");

    [Fact]
    public void PgHandshake() => Smoke("pg-handshake", "startup", "messages>=2");

    [Fact]
    public void ScramServerMessages() => Smoke("scram-server-messages", "verified", "server-final-refused", "server-first-refused", "binding-refused");

    [Fact]
    public void MysqlClientFrames() => Smoke("mysql-client-frames", "ClientClosed", "ProtocolViolation", "refused", "over-cap", "frames>=3");

    [Fact]
    public void MysqlServerFrames() => Smoke("mysql-server-frames", "UpstreamClosed", "Enforced", "ProtocolViolation", "over-cap", "frames>=3");

    [Fact]
    public void MysqlHandshakeParsers()
        => Smoke("mysql-handshake-parsers", "greeting", "greeting-refused", "response", "response-clear-password", "packets>=2");

    [Fact]
    public void MysqlLexer() => Smoke("mysql-lexer", "end", "error", "executable", "decoded-escaped", "tokens>=5");

    [Fact]
    public void SqlClassifier() => Smoke("sql-classifier", "pg.read", "pg.ddl", "pg.unknown", "mysql.read", "mysql.write", "risky");

    [Fact]
    public void PgRowMasker() => Smoke("pg-row-masker", "rewritten", "pass", "malformed", "unknown-shape", "detected", "partial", "token", "null", "redact");

    [Fact]
    public void PgCopyMasker() => Smoke("pg-copy-masker", "text.masked", "csv.masked", "binary.masked", "text.refused", "csv.refused", "binary.refused");

    [Fact]
    public void MysqlRowMasker() => Smoke("mysql-row-masker", "rewritten-text", "rewritten-binary", "pass", "refused", "detected", "partial", "token", "null", "redact");

    [Fact]
    public void ServerMessageMasking() => Smoke("server-message-masking", "Pass", "Replace", "End", "field-changed");

    [Fact]
    public void SegmentReader() => Smoke("segment-reader", "sealed", "open", "damaged", "records>=3");

    [Fact]
    public void Every_target_has_a_smoke_test_and_a_seed_corpus_matching_the_generator()
    {
        var smoked = typeof(FuzzSmokeTests).GetMethods().Where(m => m.GetCustomAttributes(typeof(FactAttribute), false).Length > 0).Select(m => m.Name).ToHashSet();
        var generated = SeedCorpus.Build();
        foreach (var target in FuzzTargets.All)
        {
            var method = string.Concat(target.Name.Split('-').Select(w => char.ToUpperInvariant(w[0]) + w[1..]));
            Assert.Contains(method, smoked);
            var onDisk = LoadSeeds(target.Name).Select(s => Convert.ToHexString(s.Bytes)).Order(StringComparer.Ordinal);
            var expected = generated[target.Name].Select(s => Convert.ToHexString(s.Bytes)).Order(StringComparer.Ordinal);
            Assert.True(onDisk.SequenceEqual(expected), $"corpus/{target.Name} differs from SeedCorpus: run `dotnet run --project fuzz/Gatehouse.Fuzz -- gen-corpus`");
        }

        Assert.Equal(FuzzTargets.All.Count, generated.Count);
    }

    [Fact]
    public void Hang_timeouts_are_2_s_except_for_SCRAM_whose_iteration_cap_costs_seconds()
    {
        foreach (var target in FuzzTargets.All)
        {
            Assert.Equal(target.Name == "scram-server-messages" ? TimeSpan.FromSeconds(30) : TimeSpan.FromSeconds(2), target.HangTimeout);
        }
    }

    [Fact]
    public void Mutator_replays_the_same_inputs_for_the_same_seed()
    {
        byte[][] corpus = [[1, 2, 3, 4, 5, 6, 7, 8], [9, 10]];
        var a = new Mutator(7, corpus);
        var b = new Mutator(7, corpus);
        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(a.Next(), b.Next());
        }
    }

    private static void Smoke(string name, params string[] milestones)
    {
        var target = FuzzTargets.Find(name);
        Assert.NotNull(target);
        var seeds = LoadSeeds(name);
        Assert.NotEmpty(seeds);

        var before = milestones.Select(m => FuzzCounters.Get($"{name}.{m}")).ToArray();
        foreach (var (file, bytes) in seeds)
        {
            Run(target, bytes, file);
        }

        for (var i = 0; i < milestones.Length; i++)
        {
            Assert.True(FuzzCounters.Get($"{name}.{milestones[i]}") > before[i], $"no seed of {name} reached '{milestones[i]}'");
        }

        var mutator = new Mutator(Seed, [.. seeds.Select(s => s.Bytes)], maxLength: 8192);
        for (var i = 0; i < MutatedInputs; i++)
        {
            Run(target, mutator.Next(), $"mutated input #{i} (seed {Seed})");
        }
    }

    private static void Run(FuzzTarget target, byte[] input, string what)
    {
        try
        {
            target.Run(input);
        }
#pragma warning disable CA1031 // any exception is the finding; report it with the input
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Assert.Fail($"{target.Name} crashed on {what}, input hex {Convert.ToHexString(input)}:\n{ex}");
        }
    }

    private static List<(string File, byte[] Bytes)> LoadSeeds(string target)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "corpus", target);
        return Directory.Exists(dir)
            ? [.. Directory.GetFiles(dir).Order(StringComparer.Ordinal).Select(f => (Path.GetFileName(f), File.ReadAllBytes(f)))]
            : [];
    }
}
