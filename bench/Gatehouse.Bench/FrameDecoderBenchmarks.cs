using System.Buffers;
using BenchmarkDotNet.Attributes;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.Postgres;

namespace Gatehouse.Bench;

/// <summary>
/// <see cref="PgFrameDecoder.TryReadHeader"/> alone: the header in one segment (the fast path, a span slice),
/// split across two segments inside the length field, and one byte per segment (the copy path).
/// </summary>
[MemoryDiagnoser]
public class FrameDecoderBenchmarks
{
    private readonly PgFrameDecoder _decoder = PgFrameDecoder.Backend;
    private ReadOnlySequence<byte> _single;
    private ReadOnlySequence<byte> _split;
    private ReadOnlySequence<byte> _oneBytePerSegment;

    [GlobalSetup]
    public void Setup()
    {
        var row = Workloads.TypicalDataRow();
        _single = new ReadOnlySequence<byte>(row);
        _split = Chain(row, [2, row.Length - 2]);
        _oneBytePerSegment = Chain(row, [.. Enumerable.Repeat(1, row.Length)]);
    }

    [Benchmark(Baseline = true)]
    public long SingleSegment() => Decode(_single);

    [Benchmark]
    public long HeaderSplitAcrossSegments() => Decode(_split);

    [Benchmark]
    public long OneBytePerSegment() => Decode(_oneBytePerSegment);

    private long Decode(in ReadOnlySequence<byte> buffer)
    {
        _decoder.TryReadHeader(buffer, out var header, out _);
        return header.TotalLength;
    }

    private static ReadOnlySequence<byte> Chain(byte[] data, int[] sizes)
    {
        Segment? first = null, last = null;
        var at = 0;
        foreach (var size in sizes)
        {
            var segment = new Segment(data.AsMemory(at, size), last);
            first ??= segment;
            last = segment;
            at += size;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, Segment? previous)
        {
            Memory = memory;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }
}
