using BenchmarkDotNet.Attributes;
using Gatehouse.Fuzz.Support;
using Gatehouse.Proxy.Core.Metrics;

namespace Gatehouse.Bench;

/// <summary>
/// Cost per row of bench/e2e-postgres.sh's masked workload inside the gateway, without TLS or sockets: rows of
/// (id, 16-digit card number, md5 note) through a PostgreSQL session's relay, the card partially masked by the
/// session's rewriter, planner and row masker (<see cref="MaskedStream"/>), against the same rows through an
/// exempt session's relay (the baseline). Results are per row; the steady state allocates nothing.
/// </summary>
[MemoryDiagnoser]
public class MaskedStreamBenchmarks
{
    public const int Rows = 1000;

    private byte[] _batch = [];
    private SteadyRelay? _exempt;
    private SteadyRelay? _masked;

    [GlobalSetup]
    public void Setup()
    {
        _batch = MaskedStream.Batch(Rows);
        _exempt = MaskedStream.Create(masked: false, metrics: null);
        _masked = MaskedStream.Create(masked: true, new GatehouseMetrics(new BenchMeterFactory()));
        var first = MaskedStream.Row(1);
        if (_masked.PumpAndRead(first).AsSpan().IndexOf("************0001"u8) < 0
            || _exempt.PumpAndRead(first).AsSpan().IndexOf("4000000000000001"u8) < 0)
        {
            throw new InvalidOperationException("the benchmark rows are not masked, or not passed, as the benchmarks are named");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _exempt?.Dispose();
        _masked?.Dispose();
    }

    /// <summary>An exempt session: rows framed and forwarded as runs of the read buffer.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Rows)]
    public long Exempt() => _exempt!.Pump(_batch);

    /// <summary>A contractor's session: every row inspected, its card number masked, the row written anew.</summary>
    [Benchmark(OperationsPerInvoke = Rows)]
    public long Masked() => _masked!.Pump(_batch);
}
