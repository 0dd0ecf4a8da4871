using System.Buffers;

namespace Gatehouse.Fuzz.Support;

/// <summary>Builds a multi-segment <see cref="ReadOnlySequence{T}"/> over given pieces (aspnetcore <c>ReadOnlySequenceFactory</c>).</summary>
internal static class Segments
{
    /// <summary>A sequence whose segments are <paramref name="data"/> cut at <paramref name="sizes"/>.</summary>
    public static ReadOnlySequence<byte> Split(ReadOnlyMemory<byte> data, IReadOnlyList<int> sizes)
    {
        if (sizes.Count == 0)
        {
            return new ReadOnlySequence<byte>(data);
        }

        Segment? first = null;
        Segment? last = null;
        var at = 0;
        foreach (var size in sizes)
        {
            var segment = new Segment(data.Slice(at, size));
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

        if (at != data.Length)
        {
            throw new ArgumentException("sizes do not cover the data", nameof(sizes));
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
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
