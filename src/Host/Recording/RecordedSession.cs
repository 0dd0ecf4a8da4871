using System.Text;
using System.Text.Json;
using Gatehouse.Protocols;
using Gatehouse.Protocols.MySql;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Host.Recording;

/// <summary>One session as the recording holds it: its start and end records and everything in between.</summary>
internal sealed class RecordedSession(Guid id)
{
    public Guid Id { get; } = id;

    public SessionStartInfo? Start { get; private set; }

    public DateTimeOffset Started { get; private set; }

    public SessionEndInfo? End { get; private set; }

    public DateTimeOffset? Ended { get; private set; }

    public List<StoredRecord> Records { get; } = [];

    /// <summary>Every session in the recording, in the order they started.</summary>
    public static List<RecordedSession> Load(ISegmentStore store, byte[] key) => Load(store, key, store.List(), only: null);

    /// <summary>The sessions of <paramref name="segments"/> (those in <paramref name="only"/>, when given), in the order they started.</summary>
    public static List<RecordedSession> Load(ISegmentStore store, byte[] key, IEnumerable<long> segments, IReadOnlySet<Guid>? only)
    {
        var sessions = new Dictionary<Guid, RecordedSession>();
        var order = new List<RecordedSession>();
        foreach (var record in RecordingReader.Read(store, key, segments))
        {
            if (record.Header.Session == Guid.Empty || (only is not null && !only.Contains(record.Header.Session)))
            {
                continue; // segment bookkeeping, or not asked for
            }

            if (!sessions.TryGetValue(record.Header.Session, out var session))
            {
                session = new RecordedSession(record.Header.Session);
                sessions.Add(session.Id, session);
                order.Add(session);
            }

            session.Add(record);
        }

        return order;
    }

    /// <summary>What the session did, line by line, each with the time of the record it came from.</summary>
    public List<(DateTimeOffset Time, string Line)> Transcribe(out ITranscript transcript)
    {
        transcript = NewTranscript(Start?.Protocol, Start?.Features?.Contains("deprecate_eof") ?? false);
        var lines = new List<(DateTimeOffset, string)>();
        var omitted = 0L; // a run of RowsOmitted records (one per read) is one note
        foreach (var record in Records)
        {
            var before = transcript.Lines.Count;
            if (omitted > 0 && record.Header.Kind != RecordKind.RowsOmitted)
            {
                transcript.Note(RowsOmittedNote(omitted));
                omitted = 0;
            }

            switch (record.Header.Kind)
            {
                case RecordKind.Statement:
                    transcript.Client(record.Payload);
                    break;
                case RecordKind.Result:
                    transcript.Server(record.Payload);
                    break;
                case RecordKind.Decision when JsonSerializer.Deserialize(record.Payload, RecordingJson.Default.DecisionInfo) is { } d:
                    if (d.Decision != "allow")
                    {
                        transcript.Note($"! {d.Decision} by rule {d.Rule} ({d.Kind}, risks: {d.Risks}){(d.Reason is null ? "" : $": {d.Reason}")}{(d.Statement is null ? "" : $"\n    statement: {d.Statement}")}");
                    }

                    break;
                case RecordKind.RowsOmitted when record.Payload.Length == sizeof(long):
                    omitted += System.Buffers.Binary.BinaryPrimitives.ReadInt64LittleEndian(record.Payload);
                    break;
                case RecordKind.Capped:
                    transcript.Note($"! capped: {Encoding.UTF8.GetString(record.Payload)}");
                    break;
            }

            for (var i = before; i < transcript.Lines.Count; i++)
            {
                lines.Add((record.Header.Timestamp, transcript.Lines[i]));
            }
        }

        if (omitted > 0)
        {
            transcript.Note(RowsOmittedNote(omitted));
            lines.Add((Records[^1].Header.Timestamp, transcript.Lines[^1]));
        }

        return lines;
    }

    private static string RowsOmittedNote(long rows) => $"({rows} rows sent, not recorded: results: row_count)";

    /// <summary>The transcript that reads a session of <paramref name="protocol"/> (as its SessionStart names it).</summary>
    public static ITranscript NewTranscript(string? protocol, bool deprecateEof) => protocol == "mysql" ? new MySqlTranscript(deprecateEof) : new PgTranscript();

    private void Add(StoredRecord record)
    {
        switch (record.Header.Kind)
        {
            case RecordKind.SessionStart:
                Start = JsonSerializer.Deserialize(record.Payload, RecordingJson.Default.SessionStartInfo);
                Started = record.Header.Timestamp;
                return;
            case RecordKind.SessionEnd:
                End = JsonSerializer.Deserialize(record.Payload, RecordingJson.Default.SessionEndInfo);
                Ended = record.Header.Timestamp;
                return;
            default:
                Records.Add(record);
                return;
        }
    }
}
