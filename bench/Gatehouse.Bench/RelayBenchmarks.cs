using BenchmarkDotNet.Attributes;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Bench;

/// <summary>
/// Cost per relayed message: a batch of <see cref="Messages"/> typical messages pushed through a long-lived
/// <see cref="FrameRelay"/> over in-memory pipes with <see cref="System.IO.Pipelines.PipeScheduler.Inline"/>,
/// in 16 KiB writes, against the same bytes copied pipe to pipe with no framing (the baseline). Results are
/// per message (<c>OperationsPerInvoke</c>); the steady state should allocate nothing.
/// </summary>
[MemoryDiagnoser]
public class RelayBenchmarks
{
    public const int Messages = 1000;

    private byte[] _batch = [];
    private SteadyPipeCopy? _copy;
    private SteadyRelay? _relay;
    private SteadyRelay? _session;

    [Params(Workload.DataRow, Workload.QuerySync)]
    public Workload Workload { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _batch = Workloads.Batch(Workload, Messages);
        var direction = Workloads.DirectionOf(Workload);
        _copy = new SteadyPipeCopy();
        _relay = new SteadyRelay(direction, Workloads.DecoderFor(Workload), PassThroughRewriter.Instance);
        _session = new SteadyRelay(direction, Workloads.DecoderFor(Workload), new PgSessionRewriter());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _copy?.Dispose();
        _relay?.Dispose();
        _session?.Dispose();
    }

    /// <summary>Read from one pipe, write the same bytes to another: what any proxy pays.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Messages)]
    public long PipeCopy() => _copy!.Pump(_batch);

    /// <summary>Framing every message, rewriting none.</summary>
    [Benchmark(OperationsPerInvoke = Messages)]
    public long Relay() => _relay!.Pump(_batch);

    /// <summary>The production rewriter (it inspects only ParameterStatus, so these messages stream).</summary>
    [Benchmark(OperationsPerInvoke = Messages)]
    public long RelaySessionRewriter() => _session!.Pump(_batch);
}
