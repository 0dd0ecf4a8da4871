using System.Buffers;
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
    private SteadyRelay? _rewriting;

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
        _rewriting = new SteadyRelay(direction, Workloads.DecoderFor(Workload), new RewriteEveryFrame());
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _copy?.Dispose();
        _relay?.Dispose();
        _session?.Dispose();
        _rewriting?.Dispose();
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

    /// <summary>Every message inspected whole and written anew (what a masked result costs the relay, masking aside).</summary>
    [Benchmark(OperationsPerInvoke = Messages)]
    public long RelayRewritingEveryFrame() => _rewriting!.Pump(_batch);

    /// <summary>Inspects every frame and writes its bytes back unchanged, as a replacement.</summary>
    private sealed class RewriteEveryFrame : IFrameRewriter
    {
        public FrameInterest OnHeader(Direction direction, in Gatehouse.Proxy.Core.Framing.FrameHeader header) => FrameInterest.Inspect;

        public RewriteDecision OnFrame(Direction direction, in Gatehouse.Proxy.Core.Framing.FrameHeader header, in System.Buffers.ReadOnlySequence<byte> frame, RewriteContext context)
        {
            // As the protocol rewriters do: the frame's bytes as one span (copied only when they straddle segments).
            var length = (int)frame.Length;
            var span = context.Forward.GetSpan(length);
            if (frame.IsSingleSegment)
            {
                frame.FirstSpan.CopyTo(span);
            }
            else
            {
                frame.CopyTo(span);
            }

            context.Forward.Advance(length);
            return RewriteDecision.Replace;
        }
    }
}
