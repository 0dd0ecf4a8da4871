using System.Text;
using System.Text.Json;
using Gatehouse.Protocols;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Host.Recording;

/// <summary>How much one index entry keeps: statement texts past these are left out (the entry says so), and a
/// session's unfinished client bytes past <see cref="MaxPending"/> are not carried to the next segment (its later
/// entries are then partial).</summary>
internal sealed record IndexLimits(int MaxTexts, int MaxTextBytes, int MaxPending)
{
    /// <summary>For index files: a busy session's texts would otherwise make the index as big as the segment.</summary>
    public static IndexLimits File { get; } = new(256, 64 * 1024, 1024 * 1024);

    /// <summary>For a segment read in memory by <c>gatehouse sessions</c>, which needs every text.</summary>
    public static IndexLimits Unlimited { get; } = new(int.MaxValue, int.MaxValue, int.MaxValue);
}

/// <summary>
/// Reads one segment's records into its index: per session its start, its end, how many statements it sent
/// and their distinct texts, transcribed from its client bytes as <see cref="RecordedSession"/> does. A client
/// message can straddle a roll, so a segment is read on from the sessions the previous one left open (their
/// protocol and unfinished bytes); without them (<c>before</c> null: the previous index is lost) a session that
/// continues here cannot be followed and its entry is partial.
/// </summary>
internal static class SegmentIndexBuilder
{
    /// <summary>The kinds of record whose payloads an index is built from; of the others it needs only the headers.</summary>
    public static bool ReadsPayloadOf(RecordKind kind) => kind is RecordKind.SessionStart or RecordKind.SessionEnd or RecordKind.Statement;

    /// <summary>The index of a segment read whole (<c>gatehouse sessions</c> reading a segment without one).</summary>
    public static SegmentIndexContent Build(long number, ReadOnlyMemory<byte> data, IReadOnlyList<SegmentRecord> records, IReadOnlyList<OpenSession>? before, IndexLimits limits)
        => Build(number, [.. records.Select(r => new WalkedRecord(r.Header, r.Offset, data.Slice(r.PayloadOffset, (int)r.Header.Length)))], before, limits);

    /// <summary>The index of a segment's records, with at least the payloads <see cref="ReadsPayloadOf"/> names.</summary>
    public static SegmentIndexContent Build(long number, IReadOnlyList<WalkedRecord> records, IReadOnlyList<OpenSession>? before, IndexLimits limits)
    {
        var carried = before?.ToDictionary(o => o.Session) ?? new Dictionary<Guid, OpenSession>();
        var sessions = new Dictionary<Guid, SessionReader>();
        var order = new List<SessionReader>();
        var recovered = false;
        foreach (var record in records)
        {
            var header = record.Header;
            if (header.Session == Guid.Empty)
            {
                recovered |= header.Kind == RecordKind.Recovery; // the gateway crashed: no session of before goes on
                continue;
            }

            if (!sessions.TryGetValue(header.Session, out var session))
            {
                session = new SessionReader(header.Session, limits);
                if (carried.Remove(header.Session, out var open))
                {
                    session.GoOnFrom(open);
                }

                sessions.Add(header.Session, session);
                order.Add(session);
            }

            session.Add(header, record.Payload);
        }

        IReadOnlyList<OpenSession> stillOpen = recovered
            ? []
            : [.. carried.Values, .. order.Where(s => s.End is null).Select(s => s.Open())];
        return new SegmentIndexContent(number, [.. order.Select(s => s.Entry())], stillOpen);
    }

    /// <summary>One session's records in one segment.</summary>
    private sealed class SessionReader(Guid id, IndexLimits limits)
    {
        private readonly List<ReadOnlyMemory<byte>> _client = [];
        private readonly List<string> _texts = [];
        private readonly HashSet<string> _distinct = new(StringComparer.Ordinal);
        private ITranscript? _transcript;
        private string? _protocol;
        private SessionStartInfo? _start;
        private DateTimeOffset? _started;
        private DateTimeOffset? _ended;
        private int _statements;
        private int _textBytes;
        private bool _capped;
        private bool _partial;

        public SessionEndInfo? End { get; private set; }

        public void GoOnFrom(OpenSession open)
        {
            if (open is { Protocol: { } protocol, Pending: { } pending })
            {
                Follow(protocol);
                Client(pending);
            }
        }

        public void Add(RecordHeader header, ReadOnlyMemory<byte> payload)
        {
            switch (header.Kind)
            {
                case RecordKind.SessionStart:
                    _start = JsonSerializer.Deserialize(payload.Span, RecordingJson.Default.SessionStartInfo);
                    _started = header.Timestamp;
                    Follow(_start?.Protocol);
                    break;
                case RecordKind.SessionEnd:
                    End = JsonSerializer.Deserialize(payload.Span, RecordingJson.Default.SessionEndInfo);
                    _ended = header.Timestamp;
                    break;
                case RecordKind.Statement when _transcript is null:
                    _partial = true; // its start is in an earlier segment, and how its stream went on from there is lost
                    break;
                case RecordKind.Statement:
                    Client(payload);
                    break;
            }
        }

        public SegmentIndexEntry Entry() => new(id, _start, _started, End, _ended, _statements, _texts, _capped, _partial);

        public OpenSession Open()
        {
            var unfinished = _transcript?.UnfinishedClientBytes;
            return new OpenSession(id, _protocol, unfinished <= limits.MaxPending ? Tail(unfinished.Value) : null);
        }

        private void Follow(string? protocol)
        {
            _protocol = protocol;
            _transcript = RecordedSession.NewTranscript(protocol, deprecateEof: false); // EOF packets are server bytes: statements read the same
        }

        private void Client(ReadOnlyMemory<byte> bytes)
        {
            _client.Add(bytes);
            _transcript!.Client(bytes.Span);
            foreach (var text in _transcript.Statements)
            {
                _statements++;
                if (_distinct.Contains(text))
                {
                    continue;
                }

                var size = Encoding.UTF8.GetByteCount(text);
                if (_texts.Count < limits.MaxTexts && size <= limits.MaxTextBytes - _textBytes)
                {
                    _distinct.Add(text);
                    _texts.Add(text);
                    _textBytes += size;
                }
                else
                {
                    _capped = true;
                }
            }

            _transcript.Statements.Clear(); // counted: a long session's texts are not kept twice
        }

        /// <summary>The last <paramref name="count"/> client bytes fed (those of the unfinished message).</summary>
        private byte[] Tail(int count)
        {
            var tail = new byte[count];
            for (var i = _client.Count - 1; i >= 0 && count > 0; i--)
            {
                var piece = _client[i].Span;
                var take = Math.Min(count, piece.Length);
                count -= take;
                piece[^take..].CopyTo(tail.AsSpan(count));
            }

            return tail;
        }
    }
}
