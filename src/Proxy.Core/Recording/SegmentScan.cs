namespace Gatehouse.Proxy.Core.Recording;

/// <summary>One record found in a segment: its header and where it starts in the file.</summary>
public readonly record struct SegmentRecord(RecordHeader Header, int Offset)
{
    public int PayloadOffset => Offset + RecordHeader.Size;

    public int End => PayloadOffset + (int)Header.Length;
}

/// <summary>
/// What one segment file holds and whether it is intact on its own: every record whole with a good CRC, the
/// first a SegmentStart for this file's number, and — when sealed — the seal last, matching the chain and the
/// key. Links between segments are checked by <see cref="SegmentVerifier"/>.
/// </summary>
public sealed class SegmentScan
{
    private SegmentScan(long number) => Number = number;

    public long Number { get; }

    public List<SegmentRecord> Records { get; } = [];

    /// <summary>Bytes from the start that hold whole, well-formed records (what recovery keeps); an open segment may have zeros after them.</summary>
    public int ValidLength { get; private set; }

    /// <summary>The first thing wrong with the file, with its byte offset; null when nothing is.</summary>
    public string? Problem { get; private set; }

    /// <summary>The previous segment's seal, as this segment's SegmentStart records it.</summary>
    public byte[]? PreviousSeal { get; private set; }

    /// <summary>This segment's seal, when it has a valid one.</summary>
    public byte[]? Seal { get; private set; }

    /// <summary>The file ends with records but no seal: cut short (a crash, or truncation) or still being written.</summary>
    public bool IsOpen => Problem is null && Seal is null;

    /// <summary>Reads and checks segment <paramref name="number"/>, hashing the chain again over its records.</summary>
    public static SegmentScan Read(long number, ReadOnlySpan<byte> data, ReadOnlySpan<byte> key)
    {
        var scan = new SegmentScan(number);
        using var chain = new SegmentChain();
        Span<byte> expected = stackalloc byte[SegmentFormat.HashSize];
        var at = 0;
        while (at < data.Length)
        {
            if (scan.Seal is not null)
            {
                return scan.Fail($"at byte {at}: data after the seal");
            }

            if (IsZeroTail(data, at))
            {
                break; // laid down ahead of the records of an open segment (ZeroFilledSegmentFile)
            }

            if (!RecordHeader.TryRead(data[at..], out var header, out var why))
            {
                return scan.Fail($"at byte {at} (record {scan.Records.Count}): {why}");
            }

            var record = new SegmentRecord(header, at);
            var payload = data.Slice(record.PayloadOffset, (int)header.Length);
            if (scan.Records.Count == 0)
            {
                if (header.Kind != RecordKind.SegmentStart || !SegmentFormat.TryReadStart(payload, out var started, out var previous))
                {
                    return scan.Fail("at byte 0: the segment does not begin with a SegmentStart record");
                }

                if (started != number)
                {
                    return scan.Fail($"at byte 0: this is segment {started}, stored under the name of segment {number}");
                }

                scan.PreviousSeal = previous;
            }
            else if (header.Kind == RecordKind.SegmentStart)
            {
                return scan.Fail($"at byte {at}: a second SegmentStart");
            }

            if (header.Kind == RecordKind.Seal)
            {
                if (!SegmentFormat.TryReadSeal(payload, out var count, out var sealedChain, out var seal))
                {
                    return scan.Fail($"at byte {at}: malformed seal");
                }

                if (count != scan.Records.Count || !sealedChain.AsSpan().SequenceEqual(chain.Current))
                {
                    return scan.Fail($"at byte {at}: the records do not match the hash chain the seal was made over (edited, inserted, deleted or reordered)");
                }

                SegmentFormat.Seal(key, number, count, sealedChain, scan.PreviousSeal, expected);
                if (!expected.SequenceEqual(seal))
                {
                    return scan.Fail($"at byte {at}: the seal does not verify with this key (sealed with another key, or forged)");
                }

                scan.Seal = seal;
            }
            else
            {
                chain.Add(data.Slice(at, RecordHeader.Size + (int)header.Length));
            }

            scan.Records.Add(record);
            at = record.End;
            scan.ValidLength = at;
        }

        return data.Length == 0 ? scan.Fail("the file is empty")
            : scan.Records.Count == 0 ? scan.Fail("at byte 0: the file holds only zeros")
            : scan;
    }

    /// <summary>Whether nothing but zeros follows <paramref name="at"/>; only looked at further where no record can begin (kind 0).</summary>
    private static bool IsZeroTail(ReadOnlySpan<byte> data, int at)
        => (data.Length - at <= 4 || data[at + 4] == 0) && data[at..].IndexOfAnyExcept((byte)0) < 0;

    private SegmentScan Fail(string problem)
    {
        Problem = problem;
        Seal = null; // a segment with anything wrong is not validly sealed, whatever seal it holds
        return this;
    }
}
