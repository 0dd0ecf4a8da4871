using System.Buffers;

namespace Gatehouse.Tests.Framing;

/// <summary>
/// Ways to lay the same bytes out as a <see cref="ReadOnlySequence{T}"/> (aspnetcore
/// <c>src/Shared/Buffers.Testing/ReadOnlySequenceFactory.cs</c>): a framer must give the same answer for all.
/// Each segment's bytes sit inside a larger array at a non-zero offset, so code that ignores a segment's
/// offset reads the wrong bytes.
/// </summary>
public abstract class SequenceFactory
{
    public static SequenceFactory Array { get; } = new ArrayFactory();

    public static SequenceFactory SingleSegment { get; } = new SegmentsFactory("single segment", d => [d.Length]);

    public static SequenceFactory OneBytePerSegment { get; } = new SegmentsFactory("one byte per segment", d => [.. Enumerable.Repeat(1, d.Length)]);

    /// <summary>One byte per segment with an empty segment before each: FirstSpan is empty and must not be trusted.</summary>
    public static SequenceFactory OneByteWithEmptySegments { get; } = new SegmentsFactory("one byte, empty segments between",
        d => [.. Enumerable.Range(0, d.Length).SelectMany(_ => new[] { 0, 1 }), 0]);

    /// <summary>The first two bytes, then the rest: a Postgres header split inside its length field.</summary>
    public static SequenceFactory SplitInHeader { get; } = new SegmentsFactory("split after 2 bytes",
        d => d.Length <= 2 ? [d.Length] : [2, d.Length - 2]);

    public static IReadOnlyList<SequenceFactory> All { get; } = [Array, SingleSegment, OneBytePerSegment, OneByteWithEmptySegments, SplitInHeader];

    /// <summary>xunit theory data: one row per factory.</summary>
    public static TheoryData<string> Names => [.. All.Select(f => f.ToString()!)];

    public static SequenceFactory Named(string name) => All.Single(f => f.ToString() == name);

    public abstract ReadOnlySequence<byte> Create(byte[] data);

    /// <summary>A sequence cut at the given segment sizes (zero allowed: an empty segment).</summary>
    public static ReadOnlySequence<byte> FromSegments(byte[] data, IReadOnlyList<int> sizes)
    {
        if (sizes.Sum() != data.Length)
        {
            throw new ArgumentException("sizes do not cover the data", nameof(sizes));
        }

        if (sizes.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        Segment? first = null;
        Segment? last = null;
        var at = 0;
        foreach (var size in sizes)
        {
            // Pad each piece on both sides with 0xEE so a wrong offset shows up as wrong bytes.
            var padded = new byte[size + 8];
            padded.AsSpan().Fill(0xEE);
            data.AsSpan(at, size).CopyTo(padded.AsSpan(4));
            var segment = new Segment(padded.AsMemory(4, size));
            at += size;
            if (last is null)
            {
                first = segment;
            }
            else
            {
                last.Append(segment);
            }

            last = segment;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class ArrayFactory : SequenceFactory
    {
        public override ReadOnlySequence<byte> Create(byte[] data)
        {
            var padded = new byte[data.Length + 8];
            data.CopyTo(padded, 4);
            return new ReadOnlySequence<byte>(padded, 4, data.Length);
        }

        public override string ToString() => "array";
    }

    private sealed class SegmentsFactory(string name, Func<byte[], int[]> sizes) : SequenceFactory
    {
        public override ReadOnlySequence<byte> Create(byte[] data) => FromSegments(data, sizes(data));

        public override string ToString() => name;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public void Append(Segment next)
        {
            next.RunningIndex = RunningIndex + Memory.Length;
            Next = next;
        }
    }
}
