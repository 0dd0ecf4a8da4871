namespace Gatehouse.Proxy.Core.Recording;

/// <summary>
/// A sealed segment judged by its two ends alone: the SegmentStart at its head (its number, and the link to the
/// previous segment's seal) and a Seal at its tail that verifies under the key. The records between are not
/// re-hashed, so a body altered after sealing passes here: this is for listing from the keyed indexes, which are
/// bound to these seals (<c>gatehouse sessions</c>), while <see cref="SegmentVerifier"/> re-hashes every record.
/// </summary>
public static class SealCheck
{
    private const int StartSize = RecordHeader.Size + SegmentFormat.StartPayloadSize;
    private const int SealSize = RecordHeader.Size + SegmentFormat.SealPayloadSize;

    /// <summary>False when the ends do not show a valid seal: the segment is open, damaged, or not ours; read it whole to say which.</summary>
    public static bool TryRead(ISegmentStore store, long number, ReadOnlySpan<byte> key, out byte[] previousSeal, out byte[] seal, out long records)
    {
        previousSeal = seal = [];
        records = 0;
        var ends = store.ReadEnds(number, StartSize, SealSize);
        if (ends.Length < StartSize + SealSize
            || !RecordHeader.TryRead(ends.Head, out var start, out _) || start.Kind != RecordKind.SegmentStart
            || !SegmentFormat.TryReadStart(ends.Head.AsSpan(RecordHeader.Size, (int)start.Length), out var started, out previousSeal) || started != number
            || !RecordHeader.TryRead(ends.Tail, out var last, out _) || last.Kind != RecordKind.Seal
            || !SegmentFormat.TryReadSeal(ends.Tail.AsSpan(RecordHeader.Size, (int)last.Length), out var count, out var chain, out seal))
        {
            return false;
        }

        Span<byte> expected = stackalloc byte[SegmentFormat.HashSize];
        SegmentFormat.Seal(key, number, count, chain, previousSeal, expected);
        records = count + 1;
        return expected.SequenceEqual(seal);
    }
}
