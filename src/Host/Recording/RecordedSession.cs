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
    public static List<RecordedSession> Load(ISegmentStore store, byte[] key)
    {
        var sessions = new Dictionary<Guid, RecordedSession>();
        var order = new List<RecordedSession>();
        foreach (var record in RecordingReader.Read(store, key))
        {
            if (record.Header.Session == Guid.Empty)
            {
                continue; // segment bookkeeping
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
        transcript = Start?.Protocol == "mysql" ? new MySqlTranscript(Start.Features?.Contains("deprecate_eof") ?? false) : new PgTranscript();
        var lines = new List<(DateTimeOffset, string)>();
        foreach (var record in Records)
        {
            var before = transcript.Lines.Count;
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
                case RecordKind.Capped:
                    transcript.Note($"! capped: {Encoding.UTF8.GetString(record.Payload)}");
                    break;
            }

            for (var i = before; i < transcript.Lines.Count; i++)
            {
                lines.Add((record.Header.Timestamp, transcript.Lines[i]));
            }
        }

        return lines;
    }

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
