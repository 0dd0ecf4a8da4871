using Gatehouse.Fuzz.Support;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Fuzz.Targets;

/// <summary>
/// <see cref="SegmentScan"/> over arbitrary bytes as segment 1 (the input is the file). It reports damage as a
/// problem, so any exception is a crash; so is a record outside the file or out of order, a valid length past
/// the last whole record, a seal on something that is not exactly a sealed segment, an open segment whose end
/// is taken for zeros laid down ahead when anything but zeros follows, or a verdict that differs when the same
/// bytes are scanned again (the reader keeps no state between files). The same bytes are walked header to
/// header (<see cref="SegmentWalk"/>, the gateway's indexer), with every payload read and with none: a walk
/// that succeeds must cover the file record after record and agree with the scan on every record both read;
/// a sealed segment must walk to exactly the scan's records; and reading fewer payloads may only accept more.
/// </summary>
internal sealed class SegmentReaderTarget : IFuzzTarget
{
    /// <summary>The key the seed corpus was sealed with.</summary>
    public static readonly byte[] Key = "the fuzzing key for segment seals"u8.ToArray();

    public static string Name => "segment-reader";

    public static void Run(ReadOnlySpan<byte> input)
    {
        var data = input.ToArray();
        var scan = SegmentScan.Read(1, data, Key);
        var end = 0;
        foreach (var record in scan.Records)
        {
            if (record.Offset != end || record.End > data.Length)
            {
                throw new FuzzInvariantException($"record at {record.Offset} (expected {end}) ends at {record.End} of {data.Length}");
            }

            end = record.End;
        }

        if (scan.ValidLength != end)
        {
            throw new FuzzInvariantException($"valid length {scan.ValidLength}, records end at {end}");
        }

        if (scan.Seal is not null && (scan.Problem is not null || scan.Records[^1].Header.Kind != RecordKind.Seal || end != data.Length))
        {
            throw new FuzzInvariantException("a seal was accepted on a segment that is not exactly a sealed one");
        }

        if (scan.IsOpen && end < data.Length)
        {
            if (data.AsSpan(end).IndexOfAnyExcept((byte)0) >= 0)
            {
                throw new FuzzInvariantException($"an open segment ends at {end} with more than zeros after it");
            }

            FuzzCounters.Hit($"{Name}.open-zero-tail");
        }

        var again = SegmentScan.Read(1, data, Key);
        if (again.Problem != scan.Problem || again.Records.Count != scan.Records.Count)
        {
            throw new FuzzInvariantException("the same bytes scanned twice gave different verdicts");
        }

        Walk(data, scan);
        FuzzCounters.Hit(scan.Seal is not null ? $"{Name}.sealed" : scan.Problem is null ? $"{Name}.open" : $"{Name}.damaged");
        if (scan.Records.Count >= 3)
        {
            FuzzCounters.Hit($"{Name}.records>=3");
        }
    }

    private static void Walk(byte[] data, SegmentScan scan)
    {
        var all = SegmentWalk.TryRead(new HeapSegmentSource(data), _ => true, out var every, out _);
        var none = SegmentWalk.TryRead(new HeapSegmentSource(data), _ => false, out var headers, out _);
        if (scan.Seal is not null && !all)
        {
            throw new FuzzInvariantException("a sealed segment does not walk");
        }

        if (all && !none)
        {
            throw new FuzzInvariantException("a walk reading every payload succeeded where one reading none failed");
        }

        foreach (var walked in new[] { all ? every : null, none ? headers : null })
        {
            if (walked is null)
            {
                continue;
            }

            long end = 0;
            for (var i = 0; i < walked.Count; i++)
            {
                var record = walked[i];
                if (record.Offset != end)
                {
                    throw new FuzzInvariantException($"walked record {i} at {record.Offset}, expected {end}");
                }

                end += RecordHeader.Size + record.Header.Length;
                if (i < scan.Records.Count && (scan.Records[i].Header != record.Header || scan.Records[i].Offset != record.Offset))
                {
                    throw new FuzzInvariantException($"walked record {i} differs from the scan's");
                }

                if (walked == every && !data.AsSpan((int)record.Offset + RecordHeader.Size, (int)record.Header.Length).SequenceEqual(record.Payload.Span))
                {
                    throw new FuzzInvariantException($"walked record {i}'s payload is not the file's");
                }
            }

            if (end != data.Length)
            {
                throw new FuzzInvariantException($"a walk ended at {end} of {data.Length}");
            }
        }

        if (scan.Seal is not null && every!.Count != scan.Records.Count)
        {
            throw new FuzzInvariantException($"a sealed segment walked to {every.Count} records, scanned to {scan.Records.Count}");
        }

        FuzzCounters.Hit(all ? $"{Name}.walked" : none ? $"{Name}.walked-headers-only" : $"{Name}.walk-refused");
    }
}
