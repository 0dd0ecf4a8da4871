using BenchmarkDotNet.Attributes;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Bench;

/// <summary>
/// What recording costs per record, without the disk (a store that keeps only lengths, so the numbers are the
/// gateway's own work: header, CRC-32C, hash chain, staging): a 200-byte statement appended and committed,
/// and the same through the <see cref="Recorder"/>'s queue and loop, 1000 results then one durable statement
/// (whose commit covers them all). Records per second = 1e9 / mean ns. A streamed result becomes one record per
/// read the relay forwards, about 12 KiB (PostgreSQL's TLS records are 8 KiB): <see cref="AppendResult"/> is one
/// of those, whose cost is per byte (the hash chain's SHA-256, then the CRC-32C, then the copy), and
/// <see cref="ResultCrc"/> its CRC alone.
/// </summary>
[MemoryDiagnoser]
public class RecorderBenchmarks
{
    private static readonly byte[] Statement = new byte[200];
    private static readonly byte[] Result = new byte[12 * 1024];
    private static readonly byte[] Key = "a benchmark key, at least thirty-two bytes long"u8.ToArray();
    private SegmentWriter _writer = null!;
    private Recorder _recorder = null!;
    private readonly Guid _session = Guid.NewGuid();

    [GlobalSetup]
    public void Setup()
    {
        Statement.AsSpan().Fill((byte)'s');
        new Random(1).NextBytes(Result);
        _writer = new SegmentWriter(new LengthOnlyStore(), Key, new SegmentLimits(), TimeProvider.System);
        _writer.Open();
        var queued = new SegmentWriter(new LengthOnlyStore(), Key, new SegmentLimits(), TimeProvider.System);
        queued.Open();
        _recorder = new Recorder(queued, TimeProvider.System);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _writer.Dispose();
        _recorder.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Baseline = true)]
    public void AppendAndCommit()
    {
        _writer.Append(RecordKind.Statement, RecordDirection.ClientToUpstream, _session, Statement);
        _writer.Commit(sync: false);
    }

    [Benchmark]
    public void AppendResult()
    {
        _writer.Append(RecordKind.Result, RecordDirection.UpstreamToClient, _session, Result);
        _writer.Commit(sync: false);
    }

    [Benchmark]
    public uint ResultCrc() => Crc32C.Compute(Result);

    [Benchmark(OperationsPerInvoke = 1001)]
    public async Task ThroughTheQueue()
    {
        for (var i = 0; i < 1000; i++)
        {
            await _recorder.RecordAsync(RecordKind.Result, RecordDirection.UpstreamToClient, _session, Statement, durable: false);
        }

        await _recorder.RecordAsync(RecordKind.Statement, RecordDirection.ClientToUpstream, _session, Statement, durable: true);
    }

    /// <summary>Segments that keep only their length: the benchmark measures the gateway, not the disk.</summary>
    private sealed class LengthOnlyStore : ISegmentStore
    {
        private readonly Dictionary<long, long> _lengths = [];

        public IReadOnlyList<long> List() => [.. _lengths.Keys];

        public byte[] ReadAll(long number) => throw new NotSupportedException("a benchmark store keeps no bytes");

        public ISegmentFile Create(long number)
        {
            _lengths[number] = 0;
            return new File();
        }

        public ISegmentFile OpenTruncated(long number, long length) => throw new NotSupportedException();

        public void Delete(long number) => _lengths.Remove(number);

        public byte[]? ReadHead() => null;

        public void WriteHead(byte[] head)
        {
        }

        private sealed class File : ISegmentFile
        {
            public long Length { get; private set; }

            public void Append(ReadOnlySpan<byte> data) => Length += data.Length;

            public void Sync()
            {
            }

            public void StopZeroFilling()
            {
            }

            public void Dispose()
            {
            }
        }
    }
}
