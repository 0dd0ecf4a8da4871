namespace Gatehouse.Proxy.Core.Recording;

/// <summary>One record read back: where it is, its header and its payload.</summary>
public sealed record StoredRecord(long Segment, int Offset, RecordHeader Header, byte[] Payload);

/// <summary>
/// Reads a recording back in order for the tools (replay, sessions). It reads only what verifies record by
/// record (CRC); whether the whole is untampered is <see cref="SegmentVerifier"/>'s question, and the tools
/// say so when it is not.
/// </summary>
public static class RecordingReader
{
    /// <summary>The records of <paramref name="segments"/> (all, by default), in order.</summary>
    public static IEnumerable<StoredRecord> Read(ISegmentStore store, byte[] key, IEnumerable<long>? segments = null)
    {
        foreach (var number in segments ?? store.List())
        {
            var data = store.ReadAll(number);
            var scan = SegmentScan.Read(number, data, key);
            foreach (var record in scan.Records)
            {
                yield return new StoredRecord(number, record.Offset, record.Header, data.AsSpan(record.PayloadOffset, (int)record.Header.Length).ToArray());
            }
        }
    }
}
