using System.Buffers;
using System.Buffers.Binary;

namespace Gatehouse.Proxy.Core.Recording;

/// <summary>How big and how old a segment may grow before it is sealed and the next one begins.</summary>
public sealed record SegmentLimits
{
    public long MaxBytes { get; init; } = 64L * 1024 * 1024;

    public TimeSpan MaxAge { get; init; } = TimeSpan.FromHours(1);
}

/// <summary>What <see cref="SegmentWriter.Open"/> found and did: the torn tail it cut, if any.</summary>
public sealed record RecoveryReport(long RecoveredSegment, long BytesCut, string? Why)
{
    public static RecoveryReport Clean { get; } = new(0, 0, null);
}

/// <summary>
/// Appends records to the active segment (see <see cref="SegmentFormat"/>), one thread at a time (the
/// recorder's loop). Records are staged in memory and reach the file in <see cref="Commit"/>, one write per
/// batch, with an fsync when asked. On open it recovers: an unsealed last segment left by a crash is cut back
/// to its last whole record, gets a Recovery record saying how much was cut, and is sealed; corruption
/// anywhere else is not repaired (the verifier reports it). Segments roll by size and age.
/// </summary>
public sealed class SegmentWriter(ISegmentStore store, byte[] key, SegmentLimits limits, TimeProvider time) : IDisposable
{
    private ArrayBufferWriter<byte> _staged = new(64 * 1024);
    private ISegmentFile? _file;
    private SegmentChain? _chain;
    private long _number;
    private byte[] _previousSeal = new byte[SegmentFormat.HashSize];
    private long _openedAt;
    private long _length;

    /// <summary>The active segment's number.</summary>
    public long Segment => _number;

    /// <summary>
    /// Raised with a segment's number once it is sealed and the head names it, on the writer's thread (the
    /// recorder's loop): for work derived from the sealed segment, such as its index. A handler hands the work
    /// off and returns at once, and does not throw: it runs between records.
    /// </summary>
    public event Action<long>? SegmentSealed;

    public RecoveryReport Open()
    {
        var report = RecoveryReport.Clean;
        var numbers = store.List();
        if (numbers.Count > 0)
        {
            var last = numbers[^1];
            var data = store.ReadAll(last);
            var scan = SegmentScan.Read(last, data, key);
            CheckHead(numbers);
            if (scan.Seal is { } seal)
            {
                _number = last;
                _previousSeal = seal;
                store.WriteHead(SegmentHead.Create(key, last, seal)); // a crash between sealing and the head's update leaves it one behind
            }
            else if (scan.Problem is not null && (scan.Records is [.., { Header.Kind: RecordKind.Seal }] || !IsTornTail(data, scan.ValidLength)))
            {
                throw new RecordingCorruptException(
                    $"segment {last} is corrupt {scan.Problem}, before its end: that is no torn tail from a crash, so the gateway does not cut it; move the file aside after investigating");
            }
            else if (scan.Records.Count == 0)
            {
                // Not even a whole SegmentStart: the crash came as the file was created. It holds nothing.
                store.Delete(last);
                var inner = Open(); // the segment before it is now the last one
                return inner.BytesCut > 0 ? inner : new RecoveryReport(last, data.Length, "a segment file without a whole first record was removed");
            }
            else
            {
                report = new RecoveryReport(last, Math.Max(0, EndOfData(data) - scan.ValidLength), scan.Problem ?? "the segment was not sealed");
                Resume(last, data, scan);
                Append(RecordKind.Recovery, RecordDirection.None, Guid.Empty, RecoveryPayload(report));
                SealActive();
            }
        }

        StartSegment(_number + 1);
        return report;
    }

    /// <summary>Stages one record; it reaches the file at the next <see cref="Commit"/>.</summary>
    public void Append(RecordKind kind, RecordDirection direction, Guid session, ReadOnlySpan<byte> payload, long? timestampMicros = null)
    {
        if (_file is null)
        {
            throw new InvalidOperationException("the writer is not open");
        }

        if (_length + _staged.WrittenCount + RecordHeader.Size + payload.Length > limits.MaxBytes && _chain!.Count > 1 && kind != RecordKind.Seal)
        {
            Commit(sync: false);
            RollNow();
        }

        var span = _staged.GetSpan(RecordHeader.Size + payload.Length);
        var written = RecordHeader.Write(span, kind, direction, session, timestampMicros ?? NowMicros(), payload);
        _chain!.Add(span[..written]);
        _staged.Advance(written);
    }

    /// <summary>Writes what was staged in one call; with <paramref name="sync"/>, makes it durable before returning.</summary>
    public void Commit(bool sync)
    {
        if (_staged.WrittenCount > 0)
        {
            _file!.Append(_staged.WrittenSpan);
            _length += _staged.WrittenCount;
            _staged.ResetWrittenCount();
            if (_staged.Capacity > 4 * 1024 * 1024)
            {
                _staged = new ArrayBufferWriter<byte>(64 * 1024); // one large record grew it: do not keep that for good
            }
        }

        if (sync)
        {
            _file!.Sync();
        }
    }

    /// <summary>Seals and rolls the active segment when it has outlived <see cref="SegmentLimits.MaxAge"/>.</summary>
    public bool RollIfDue()
    {
        if (_file is null || _chain!.Count <= 1 || time.GetElapsedTime(_openedAt) < limits.MaxAge)
        {
            return false;
        }

        Commit(sync: false);
        RollNow();
        return true;
    }

    /// <summary>Seals the active segment (durably) and leaves no segment open.</summary>
    public void Close()
    {
        if (_file is not null)
        {
            SealActive();
        }
    }

    public void Dispose()
    {
        _file?.Dispose();
        _chain?.Dispose();
    }

    /// <summary>
    /// The head must name a segment that is still there: a head naming a later one means segments were deleted
    /// from the end, and starting anyway would write a new head over that evidence.
    /// </summary>
    private void CheckHead(IReadOnlyList<long> numbers)
    {
        var head = store.ReadHead();
        if (head is null)
        {
            if (numbers.Count > 1 || numbers[0] > 1)
            {
                throw new RecordingCorruptException($"the recording's {SegmentHead.FileName} file is missing while sealed segments exist; run gatehouse verify and investigate");
            }

            return; // a crash before the first seal wrote it
        }

        if (!SegmentHead.TryRead(key, head, out var named, out _))
        {
            throw new RecordingCorruptException($"the recording's {SegmentHead.FileName} file does not verify with the configured key");
        }

        if (named > numbers[^1])
        {
            throw new RecordingCorruptException($"{SegmentHead.FileName} names segment {named}, but the newest present is {numbers[^1]}: segments were deleted");
        }
    }

    /// <summary>
    /// Whether the bytes after the last whole record are what a crash mid-write leaves: too few for a header, a
    /// record running past the end, the last record itself damaged, zeros the file system added, or a page of
    /// that record lost. (A truncated file passes as a crash too: the Recovery record says how much was cut.)
    /// </summary>
    private static bool IsTornTail(byte[] data, int validLength)
    {
        var rest = data.AsSpan(validLength, Math.Max(0, EndOfData(data) - validLength)); // zeros after it were laid down ahead
        if (rest.Length < RecordHeader.Size)
        {
            return true;
        }

        var claimed = (long)BinaryPrimitives.ReadUInt32LittleEndian(rest) + RecordHeader.Size;
        return claimed >= rest.Length || LosesAPage(data, validLength, validLength + claimed);
    }

    /// <summary>
    /// Whether some page between the damage at <paramref name="start"/> and the end its record claims holds only
    /// zeros from the damage on: a page of an unsynced write that power loss kept from the disk reads back as the
    /// zeros laid down before it, while later pages of the same write may have reached it.
    /// </summary>
    private static bool LosesAPage(byte[] data, int start, long end)
    {
        const int Page = 4096;
        for (long page = start / Page * Page; page < Math.Min(end, data.Length); page += Page)
        {
            var from = (int)Math.Max(page, start);
            var to = (int)Math.Min(page + Page, data.Length);
            if (data.AsSpan(from, to - from).IndexOfAnyExcept((byte)0) < 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Where the file's data ends: zeros after it were laid down ahead of records (<see cref="ZeroFilledSegmentFile"/>) or added by the file system.</summary>
    private static int EndOfData(byte[] data) => data.AsSpan().LastIndexOfAnyExcept((byte)0) + 1;

    private void RollNow()
    {
        SealActive();
        StartSegment(_number + 1);
    }

    private void StartSegment(long number)
    {
        _number = number;
        _file = store.Create(number);
        _chain = new SegmentChain();
        _length = 0;
        _openedAt = time.GetTimestamp();
        Append(RecordKind.SegmentStart, RecordDirection.None, Guid.Empty, SegmentFormat.StartPayload(number, _previousSeal, NowMicros()));
        Commit(sync: true);
    }

    /// <summary>Continues a crashed segment after its last whole record, with its chain rebuilt.</summary>
    private void Resume(long number, byte[] data, SegmentScan scan)
    {
        _number = number;
        _previousSeal = scan.PreviousSeal ?? new byte[SegmentFormat.HashSize];
        _chain = new SegmentChain();
        foreach (var record in scan.Records)
        {
            _chain.Add(data.AsSpan(record.Offset, record.End - record.Offset));
        }

        _file = store.OpenTruncated(number, scan.ValidLength);
        _length = scan.ValidLength;
        _openedAt = time.GetTimestamp();
    }

    private void SealActive()
    {
        Commit(sync: false);
        _file!.StopZeroFilling();
        var seal = SegmentFormat.SealPayload(key, _number, _chain!.Count, _chain.Current, _previousSeal);
        var span = _staged.GetSpan(RecordHeader.Size + seal.Length);
        _staged.Advance(RecordHeader.Write(span, RecordKind.Seal, RecordDirection.None, Guid.Empty, NowMicros(), seal));
        Commit(sync: true);
        _previousSeal = seal.AsSpan(8 + SegmentFormat.HashSize).ToArray();
        store.WriteHead(SegmentHead.Create(key, _number, _previousSeal));
        _file!.Dispose();
        _file = null;
        _chain.Dispose();
        _chain = null;
        SegmentSealed?.Invoke(_number);
    }

    private static byte[] RecoveryPayload(RecoveryReport report)
    {
        var why = System.Text.Encoding.UTF8.GetBytes(report.Why ?? "");
        var payload = new byte[8 + why.Length];
        BinaryPrimitives.WriteInt64LittleEndian(payload, report.BytesCut);
        why.CopyTo(payload, 8);
        return payload;
    }

    private long NowMicros() => (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / 10;
}

/// <summary>A segment is damaged in a way recovery must not repair: the recorder does not start (fail closed).</summary>
public sealed class RecordingCorruptException(string message) : IOException(message);
