using System.Buffers;
using System.Text.Json;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Proxy.Core.Recording;

/// <summary>
/// One session's recording, as the relay's tap: every byte forwarded (after masking) in both directions, the
/// gateway's own replies included, plus its session start and end and each policy decision. Client bytes —
/// statements, binds, commands — are durable before the relay flushes them to the database; results are
/// queued without waiting for the disk. What a read forwards becomes one record per direction (split at the
/// record size cap, never cut short). Each direction's stage is used by its own relay loop, and by the other
/// loop only for the gateway's replies, so it is locked. With <see cref="ResultRecording.RowCount"/> the relay
/// leaves result rows out and a RowsOmitted record with their count stands where they were.
/// </summary>
public sealed class SessionRecording(Recorder recorder, Guid session, ResultRecording results = ResultRecording.Full) : IRelayTap
{
    private readonly Stage _toUpstream = new(RecordKind.Statement);
    private readonly Stage _toClient = new(RecordKind.Result);

    public Guid Session => session;

    /// <summary>The session start, durable before the session may relay anything. Throws <see cref="RecordingUnavailableException"/>.</summary>
    public ValueTask StartAsync(SessionStartInfo info, CancellationToken cancellationToken)
        => recorder.RecordAsync(RecordKind.SessionStart, RecordDirection.None, session, JsonSerializer.SerializeToUtf8Bytes(info, RecordingJson.Default.SessionStartInfo), durable: true, cancellationToken);

    /// <summary>The session end with its reason; false when it could not be recorded (the caller logs it: the session is over anyway).</summary>
    public async ValueTask<bool> EndAsync(string reason, string? detail)
    {
        try
        {
            await recorder.RecordAsync(RecordKind.SessionEnd, RecordDirection.None, session,
                JsonSerializer.SerializeToUtf8Bytes(new SessionEndInfo(reason, detail), RecordingJson.Default.SessionEndInfo), durable: true).ConfigureAwait(false);
            return true;
        }
        catch (RecordingUnavailableException)
        {
            return false;
        }
    }

    /// <summary>A policy decision, recorded in order with the client bytes it judged (a refused statement's text goes with it, since it is never forwarded).</summary>
    public void Decision(DecisionInfo decision) => _toUpstream.NoteDecision(decision);

    public void OnForwarded(Direction direction, ReadOnlySpan<byte> bytes) => StageOf(direction).Add(bytes);

    public void OnForwardedPooled(Direction direction, byte[] pooled, int length) => StageOf(direction).AddPooled(pooled, length);

    public bool RecordsRows => results == ResultRecording.Full;

    public void OnRowsOmitted(Direction direction, long rows)
    {
        Span<byte> count = stackalloc byte[sizeof(long)];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(count, rows);
        StageOf(direction).NoteCopy(RecordKind.RowsOmitted, count);
    }

    public async ValueTask CommitAsync(Direction direction, CancellationToken cancellationToken)
    {
        var records = StageOf(direction).Take();
        if (records is null)
        {
            return;
        }

        var recordDirection = direction == Direction.ClientToUpstream ? RecordDirection.ClientToUpstream : RecordDirection.UpstreamToClient;
        try
        {
            await RecordAllAsync(records, recordDirection, direction == Direction.ClientToUpstream, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            StageOf(direction).Recycle(records);
        }
    }

    private async ValueTask RecordAllAsync(List<(RecordKind Kind, byte[] Payload, int Length, bool Rented)> records, RecordDirection recordDirection,
        bool statements, CancellationToken cancellationToken)
    {
        for (var i = 0; i < records.Count; i++)
        {
            // One queue, written in order: the last record's fsync covers all before it.
            var durable = statements && i == records.Count - 1;
            var (kind, payload, length, rented) = records[i];
            if (rented)
            {
                await recorder.RecordRentedAsync(kind, recordDirection, session, payload, length, durable, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await recorder.RecordAsync(kind, recordDirection, session, payload.AsMemory(0, length), durable, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private Stage StageOf(Direction direction) => direction == Direction.ClientToUpstream ? _toUpstream : _toClient;

    private sealed class Stage(RecordKind dataKind)
    {
        private readonly Lock _lock = new();
        // The bytes forwarded since the last record, in an array rented at the first of them (idle sessions hold none)
        // and handed to the recorder as it is: a stream's bytes are copied once here, not into a buffer and then again.
        private byte[]? _pending;
        private int _pendingLength;
        private ArrayBufferWriter<byte>? _decisionBuffer;
        private List<(RecordKind Kind, byte[] Payload, int Length, bool Rented)>? _records;
        private List<(RecordKind Kind, byte[] Payload, int Length, bool Rented)>? _spare; // a committed list, reused: no list per read
        private Utf8JsonWriter? _json; // reused for every decision: no array per statement

        public void Add(ReadOnlySpan<byte> bytes)
        {
            lock (_lock)
            {
                while (!bytes.IsEmpty)
                {
                    var take = Math.Min(RecordHeader.MaxPayload - _pendingLength, bytes.Length);
                    bytes[..take].CopyTo(Reserve(take));
                    _pendingLength += take;
                    bytes = bytes[take..];
                    if (_pendingLength == RecordHeader.MaxPayload)
                    {
                        FlushData();
                    }
                }
            }
        }

        /// <summary>
        /// <see cref="Add"/> for bytes in a pooled array the stage now owns: with nothing pending (a read's masked rows,
        /// gathered by the relay) the array becomes the pending data as it is, so its bytes are not copied again.
        /// </summary>
        public void AddPooled(byte[] pooled, int length)
        {
            lock (_lock)
            {
                if (_pending is null && length <= RecordHeader.MaxPayload)
                {
                    _pending = pooled;
                    _pendingLength = length;
                    return;
                }
            }

            try
            {
                Add(pooled.AsSpan(0, length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(pooled);
            }
        }

        public void Note(RecordKind kind, byte[] payload)
        {
            lock (_lock)
            {
                FlushData();
                Records().Add((kind, payload, payload.Length, false));
            }
        }

        /// <summary>A small payload copied into a pooled buffer (the recorder returns it): no array per call on the relay's path.</summary>
        public void NoteCopy(RecordKind kind, ReadOnlySpan<byte> payload)
        {
            lock (_lock)
            {
                FlushData();
                AddRented(kind, payload);
            }
        }

        /// <summary>A policy decision as JSON, written straight into a pooled buffer (the recorder returns it).</summary>
        public void NoteDecision(DecisionInfo decision)
        {
            lock (_lock)
            {
                FlushData();
                var data = _decisionBuffer ??= new ArrayBufferWriter<byte>(512);
                if (_json is null)
                {
                    _json = new Utf8JsonWriter(data);
                }
                else
                {
                    _json.Reset(data);
                }

                JsonSerializer.Serialize(_json, decision, RecordingJson.Default.DecisionInfo);
                _json.Flush();
                AddRented(RecordKind.Decision, data.WrittenSpan);
                data.ResetWrittenCount();
            }
        }

        /// <summary>Hands a committed list back for the next read's records.</summary>
        public void Recycle(List<(RecordKind Kind, byte[] Payload, int Length, bool Rented)> records)
        {
            records.Clear();
            lock (_lock)
            {
                _spare ??= records;
            }
        }

        public List<(RecordKind Kind, byte[] Payload, int Length, bool Rented)>? Take()
        {
            lock (_lock)
            {
                FlushData();
                var records = _records;
                _records = null;
                return records;
            }
        }

        private void FlushData()
        {
            if (_pendingLength > 0)
            {
                Records().Add((dataKind, _pending!, _pendingLength, true)); // the recorder returns it once written
                _pending = null;
                _pendingLength = 0;
            }
        }

        /// <summary>Room for <paramref name="count"/> more pending bytes: a rented array, or a larger one holding what is pending.</summary>
        private Span<byte> Reserve(int count)
        {
            if (_pending is null || _pending.Length - _pendingLength < count)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_pendingLength + count, Math.Min(RecordHeader.MaxPayload, Math.Max(4096, (_pending?.Length ?? 0) * 2))));
                if (_pending is not null)
                {
                    _pending.AsSpan(0, _pendingLength).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(_pending);
                }

                _pending = larger;
            }

            return _pending.AsSpan(_pendingLength, count);
        }

        private void AddRented(RecordKind kind, ReadOnlySpan<byte> payload)
        {
            var copy = ArrayPool<byte>.Shared.Rent(payload.Length); // the recorder returns it once written
            payload.CopyTo(copy);
            Records().Add((kind, copy, payload.Length, true));
        }

        private List<(RecordKind Kind, byte[] Payload, int Length, bool Rented)> Records()
        {
            if (_records is null)
            {
                _records = _spare ?? [];
                _spare = null;
            }

            return _records;
        }
    }
}

/// <summary>Connects a session's statement guard to its recording: every verdict becomes a Decision record.</summary>
public static class DecisionRecording
{
    public static void Attach(Policy.StatementGuard guard, SessionRecording recording)
        => guard.Judged = (in Policy.PolicyVerdict verdict, ReadOnlySpan<byte> sql) => recording.Decision(new DecisionInfo(
            Policy.PolicyNames.Label(verdict.Decision), verdict.Rule, Policy.PolicyNames.Label(verdict.Kind), Policy.PolicyNames.Describe(verdict.Risks),
            verdict.Reason, verdict.Allowed ? null : System.Text.Encoding.UTF8.GetString(sql)));
}
