using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Host.Recording;

/// <summary>One session as <c>gatehouse sessions</c> lists it, merged from the index entries of the segments it has records in.</summary>
internal sealed class SessionSummary(Guid id)
{
    private readonly List<string> _texts = [];

    public Guid Id { get; } = id;

    public SessionStartInfo? Start { get; private set; }

    public DateTimeOffset Started { get; private set; }

    public SessionEndInfo? End { get; private set; }

    public int Statements { get; private set; }

    /// <summary>Some segment could not follow its client stream: its count and texts are known only from its records.</summary>
    public bool Partial { get; private set; }

    /// <summary>Some segment's index left texts out: a text not among <see cref="MayHaveSent"/>'s is not proof of absence.</summary>
    public bool TextsCapped { get; private set; }

    public List<long> Segments { get; } = [];

    public bool MayHaveSent(string text) => _texts.Exists(s => s.Contains(text, StringComparison.OrdinalIgnoreCase));

    public void Add(long segment, SegmentIndexEntry entry)
    {
        Segments.Add(segment);
        if (entry.Start is not null)
        {
            (Start, Started) = (entry.Start, entry.Started ?? default);
        }

        End = entry.End ?? End;
        Statements += entry.Statements;
        _texts.AddRange(entry.Texts);
        TextsCapped |= entry.TextsCapped;
        Partial |= entry.Partial;
    }
}

/// <summary>
/// Every recorded session, for listing: from each sealed segment's index when it verifies, and by reading the
/// segment otherwise (the one being written, or one whose index is missing or does not verify, which
/// <see cref="Notes"/> names). Sessions come in the order they first appear, as <see cref="RecordedSession.Load(ISegmentStore, byte[])"/> gives them.
/// </summary>
internal sealed class SessionCatalog
{
    public List<SessionSummary> Sessions { get; } = [];

    public List<string> Notes { get; } = [];

    /// <param name="verdicts">The verifier's verdicts on the store's segments, for their seals.</param>
    public static SessionCatalog Load(ISegmentStore store, byte[] key, IReadOnlyList<SegmentVerdict> verdicts)
    {
        var catalog = new SessionCatalog();
        var byId = new Dictionary<Guid, SessionSummary>();
        var missing = new List<long>();
        IReadOnlyList<OpenSession>? open = [];
        foreach (var verdict in verdicts)
        {
            var content = catalog.Indexed(store, key, verdict, missing) ?? Read(store, key, verdict.Number, open);
            foreach (var entry in content.Sessions)
            {
                if (!byId.TryGetValue(entry.Session, out var session))
                {
                    byId.Add(entry.Session, session = new SessionSummary(entry.Session));
                    catalog.Sessions.Add(session);
                }

                session.Add(verdict.Number, entry);
            }

            open = content.Open;
        }

        if (missing.Count > 0)
        {
            catalog.Notes.Insert(0, $"note: no index for {(missing.Count == 1 ? SegmentFormat.FileName(missing[0]) : $"{missing.Count} sealed segments ({SegmentFormat.FileName(missing[0])} to {SegmentFormat.FileName(missing[^1])})")}: read {(missing.Count == 1 ? "it" : "them")} instead (the gateway writes indexes as it seals segments; gatehouse index writes missing ones)");
        }

        return catalog;
    }

    /// <summary>The segment's index content when it has one that verifies; otherwise null, and a note for a sealed segment.</summary>
    private SegmentIndexContent? Indexed(ISegmentStore store, byte[] key, SegmentVerdict verdict, List<long> missing)
    {
        if (verdict.Seal is not { } seal)
        {
            return null; // being written, or damaged: only its records can tell
        }

        if (store.ReadIndex(verdict.Number) is not { } file)
        {
            missing.Add(verdict.Number);
            return null;
        }

        if (SegmentIndex.TryRead(key, verdict.Number, seal, file, out var content, out var problem))
        {
            return content;
        }

        Notes.Add($"note: {SegmentIndex.FileName(verdict.Number)} {problem}: read the segment instead");
        return null;
    }

    private static SegmentIndexContent Read(ISegmentStore store, byte[] key, long number, IReadOnlyList<OpenSession>? open)
    {
        var data = store.ReadAll(number);
        return SegmentIndexBuilder.Build(number, data, SegmentScan.Read(number, data, key).Records, open, IndexLimits.Unlimited);
    }
}
