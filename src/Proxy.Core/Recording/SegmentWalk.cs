using System.Diagnostics.CodeAnalysis;

namespace Gatehouse.Proxy.Core.Recording;

/// <summary>One record as <see cref="SegmentWalk"/> found it: its header and offset, and its payload when its kind was asked for.</summary>
public readonly record struct WalkedRecord(RecordHeader Header, long Offset, ReadOnlyMemory<byte> Payload);

/// <summary>
/// Walks a sealed segment from header to header, reading the payloads of the kinds asked for (each CRC-checked)
/// and skipping the rest: the gateway's indexer needs the sessions' starts, ends and statements, not the result
/// bytes that make up nearly all of a recorded stream. Reading those back and checking their CRCs was a twentieth
/// of the gateway's CPU while it streamed; whether they are intact is <c>gatehouse verify</c>'s question, which
/// reads every record and re-hashes the chain. Headers are read a small window at a time, so a run of small records
/// costs one read; after a record larger than the window the next read is a short one, as records of a stream
/// come one after another at about the size of a read from the database.
/// </summary>
public static class SegmentWalk
{
    /// <summary>Bytes read at a record's start: its header, and small records after it.</summary>
    public const int Window = 4096;

    /// <summary>Bytes read at a record's start after a record larger than <see cref="Window"/>: its header and a little more.</summary>
    public const int ShortWindow = 256;

    /// <summary>
    /// The records of <paramref name="source"/> in order, with the payloads <paramref name="payloadOf"/> asks for.
    /// False with why when a record is cut short, a header is impossible, or an asked-for record fails its CRC.
    /// </summary>
    public static bool TryRead(ISegmentSource source, Func<RecordKind, bool> payloadOf, [NotNullWhen(true)] out List<WalkedRecord>? records,
        [NotNullWhen(false)] out string? problem)
    {
        records = [];
        var window = new byte[Window];
        long windowAt = 0;
        var windowLength = 0;
        long at = 0;
        var afterLarge = false;
        while (at < source.Length)
        {
            if (at + RecordHeader.Size > windowAt + windowLength)
            {
                windowAt = at;
                windowLength = source.Read(window.AsSpan(0, afterLarge ? ShortWindow : Window), at);
            }

            var inWindow = window.AsSpan((int)(at - windowAt), windowLength - (int)(at - windowAt));
            if (!RecordHeader.TryReadFields(inWindow, out var header, out problem))
            {
                return Fail(at, records, problem, out records, out problem);
            }

            var size = RecordHeader.Size + header.Length;
            if (at + size > source.Length)
            {
                return Fail(at, records, $"the record claims {header.Length} payload bytes, {source.Length - at - RecordHeader.Size} remain", out records, out problem);
            }

            var payload = ReadOnlyMemory<byte>.Empty;
            if (payloadOf(header.Kind))
            {
                var record = new byte[size];
                if (size <= inWindow.Length)
                {
                    inWindow[..(int)size].CopyTo(record);
                }
                else if (source.Read(record, at) < size)
                {
                    return Fail(at, records, "the segment was cut short while it was read", out records, out problem);
                }

                if (!RecordHeader.TryRead(record, out header, out problem))
                {
                    return Fail(at, records, problem, out records, out problem);
                }

                payload = record.AsMemory(RecordHeader.Size);
            }

            records.Add(new WalkedRecord(header, at, payload));
            afterLarge = size > Window;
            at += size;
        }

        problem = null;
        return true;
    }

    private static bool Fail(long at, List<WalkedRecord> walked, string? why, out List<WalkedRecord>? records, out string problem)
    {
        records = null;
        problem = $"at byte {at} (record {walked.Count}): {why}";
        return false;
    }
}
