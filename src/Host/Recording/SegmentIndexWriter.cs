using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Host.Recording;

/// <summary>
/// Builds sealed segments' index files (<see cref="SegmentIndex"/>), best in order: each goes on from the
/// sessions the previous one left open, kept from the last build or read from the previous index (verified
/// against the seal the segment's SegmentStart records for it).
/// </summary>
internal sealed class SegmentIndexWriter(ISegmentStore store, byte[] key, IndexLimits? limits = null)
{
    private (long Number, IReadOnlyList<OpenSession> Open)? _last;

    /// <summary>Builds and writes segment <paramref name="number"/>'s index; false when the segment is not sealed (being written, or damaged).</summary>
    public bool Write(long number)
    {
        // Only a segment whose tail shows its seal is read: an open one is still growing (and its zeros laid down
        // ahead are cut before sealing), so its index would be out of date at once.
        if (!SealCheck.TryRead(store, number, key, out var previousSeal, out var seal, out var count))
        {
            return false;
        }

        // Headers walked, the payloads an index reads CRC-checked, result bytes skipped: an index is derived data,
        // and whether every record still matches the chain is what `gatehouse verify` answers for the segment.
        List<WalkedRecord>? records;
        using (var source = store.OpenSource(number))
        {
            if (!SegmentWalk.TryRead(source, SegmentIndexBuilder.ReadsPayloadOf, out records, out _) || records.Count != count
                || records[^1].Header.Kind != RecordKind.Seal)
            {
                return false; // damaged since the seal was checked, or not framed as the seal says: verify reports it
            }
        }

        var content = SegmentIndexBuilder.Build(number, records, OpenBefore(number, previousSeal), limits ?? IndexLimits.File);
        _last = (number, content.Open); // even if the write below fails: the next index can still go on from it
        store.WriteIndex(number, SegmentIndex.Create(key, seal, content));
        store.ForgetCached(number); // read back for the last time in the gateway's life (see DirectorySegmentStore.ForgetCached)
        return true;
    }

    /// <summary>The segments without an index file (all of them, with <paramref name="all"/>), in order; some may not be sealed.</summary>
    public IEnumerable<long> Unindexed(bool all = false) => store.List().Where(number => all || store.ReadIndex(number) is null);

    /// <summary>The sessions open when segment <paramref name="number"/> began; null when that is lost.</summary>
    private IReadOnlyList<OpenSession>? OpenBefore(long number, byte[]? previousSeal)
    {
        if (number == 1)
        {
            return [];
        }

        if (_last is { } last && last.Number == number - 1)
        {
            return last.Open;
        }

        return previousSeal is not null && store.ReadIndex(number - 1) is { } previous
            && SegmentIndex.TryRead(key, number - 1, previousSeal, previous, out var content, out _)
            ? content.Open
            : null;
    }
}
