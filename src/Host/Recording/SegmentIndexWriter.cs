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
        if (!SealCheck.TryRead(store, number, key, out _, out _, out _))
        {
            return false;
        }

        using var segment = store.Open(number); // native memory, not the heap: a sealed segment is up to 64 MiB
        var data = segment.Memory;
        // Records framed and CRC-checked, the seal checked, the chain not hashed again: an index is derived data, and
        // whether the records still match the chain is what `gatehouse verify` answers for the segment itself.
        var scan = SegmentScan.Read(number, data.Span, key, recomputeChain: false);
        if (scan.Seal is not { } seal)
        {
            return false;
        }

        var content = SegmentIndexBuilder.Build(number, data, scan.Records, OpenBefore(number, scan.PreviousSeal), limits ?? IndexLimits.File);
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
