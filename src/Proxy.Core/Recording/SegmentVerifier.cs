namespace Gatehouse.Proxy.Core.Recording;

/// <summary>The verdict on one segment: OK, or what is wrong with it; <see cref="Seal"/> when it holds a valid one (its index is checked against it).</summary>
public sealed record SegmentVerdict(long Number, bool Ok, string Message, int Records, byte[]? Seal = null);

/// <summary>
/// Checks every segment of a store in order: each intact and sealed (<see cref="SegmentScan"/>), numbered
/// from 1 without gaps, and each linked to the seal of the one before. The last segment may be open (the
/// gateway is writing it) only when the caller says so. The head file must name the newest sealed segment
/// with its seal, so segments deleted from the end are missed too. Without <c>bodies</c>, a segment whose ends
/// show a valid seal is not read further (<see cref="SealCheck"/>); the others are read whole as always.
/// </summary>
public static class SegmentVerifier
{
    public static List<SegmentVerdict> Verify(ISegmentStore store, ReadOnlySpan<byte> key, bool allowOpenLast = false, bool bodies = true)
    {
        var verdicts = new List<SegmentVerdict>();
        var sealedNumbers = new List<long>();
        var seals = new Dictionary<long, byte[]>();
        var numbers = store.List();
        byte[]? previousSeal = null;
        long previousNumber = 0;
        for (var i = 0; i < numbers.Count; i++)
        {
            var number = numbers[i];
            byte[] linked = [], sealedBy = [];
            long sealedRecords = 0;
            var sealedAtEnd = SealCheck.TryRead(store, number, key, out linked, out sealedBy, out sealedRecords);
            var sealOnly = sealedAtEnd && !bodies;
            var scan = sealOnly ? null : Scan(store, number, key);
            var records = scan?.Records.Count ?? (int)sealedRecords;
            var seal = scan is null ? sealedBy : scan.Seal;
            var previous = scan is null ? linked : scan.PreviousSeal;
            var open = scan?.IsOpen ?? false;
            string? problem = scan?.Problem;
            if (problem is null && number != previousNumber + 1)
            {
                problem = previousNumber == 0
                    ? $"segments 1 to {number - 1} are missing"
                    : $"segment{(number - previousNumber > 2 ? "s" : "")} {previousNumber + 1}{(number - previousNumber > 2 ? $" to {number - 1}" : "")} missing before it";
            }

            if (problem is null && previousSeal is not null && !previous.AsSpan().SequenceEqual(previousSeal))
            {
                problem = $"it is not the segment that followed segment {previousNumber} (its link to that segment's seal does not match: swapped or replaced)";
            }

            if (problem is null && number == 1 && previous is { } first && first.AsSpan().IndexOfAnyExcept((byte)0) >= 0)
            {
                problem = "segment 1 links to a previous segment (segments before it were removed and renumbered?)";
            }

            var last = i == numbers.Count - 1;
            if (problem is null && open && !(last && allowOpenLast))
            {
                problem = last
                    ? $"not sealed: cut short after {records} records (or still being written: verify again after the gateway rolls or stops it)"
                    : $"not sealed: cut short after {records} records";
            }

            verdicts.Add(problem is null
                ? new SegmentVerdict(number, true, open ? $"open (being written), {records} records intact so far" : sealOnly ? $"sealed, {records} records (seal checked, records not re-hashed)" : $"sealed, {records} records", records, seal)
                : new SegmentVerdict(number, false, problem, records, seal));
            previousSeal = seal; // after a bad segment the next link cannot be judged: that segment already failed
            if (problem is null && seal is { } sealedWith)
            {
                sealedNumbers.Add(number);
                seals[number] = sealedWith;
            }
            previousNumber = number;
        }

        CheckHead(store, key, verdicts, sealedNumbers, seals);
        return verdicts;
    }

    /// <summary>Reads a segment whole through <see cref="ISegmentStore.Open"/>: native memory, not the heap.</summary>
    private static SegmentScan Scan(ISegmentStore store, long number, ReadOnlySpan<byte> key)
    {
        using var segment = store.Open(number);
        return SegmentScan.Read(number, segment.Memory.Span, key);
    }

    private static void CheckHead(ISegmentStore store, ReadOnlySpan<byte> key, List<SegmentVerdict> verdicts, List<long> sealedNumbers, Dictionary<long, byte[]> seals)
    {
        if (verdicts.Count == 0)
        {
            return;
        }

        string? problem = null;
        var head = store.ReadHead();
        var newestSealed = sealedNumbers.Count > 0 ? sealedNumbers[^1] : 0;
        if (head is null)
        {
            problem = newestSealed > 0 ? $"the {SegmentHead.FileName} file is missing (it names the newest sealed segment)" : null;
        }
        else if (!SegmentHead.TryRead(key, head, out var number, out var seal))
        {
            problem = $"the {SegmentHead.FileName} file does not verify with this key";
        }
        else if (!seals.TryGetValue(number, out var actual))
        {
            problem = $"{SegmentHead.FileName} names segment {number} as the newest sealed one, which is missing or not intact (segments deleted from the end?)";
        }
        else if (!actual.AsSpan().SequenceEqual(seal))
        {
            problem = $"{SegmentHead.FileName} names another seal for segment {number} (the segment was replaced)";
        }
        else if (newestSealed != number)
        {
            problem = $"segment {newestSealed} is sealed after the one {SegmentHead.FileName} names ({number}): an old head file put back?";
        }

        if (problem is not null)
        {
            var last = verdicts[^1];
            verdicts[^1] = last with { Ok = false, Message = last.Ok ? problem : last.Message + "; " + problem };
        }
    }
}
