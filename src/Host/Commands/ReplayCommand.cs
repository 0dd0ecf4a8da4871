using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Gatehouse.Host.Recording;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Host.Commands;

/// <summary>
/// <c>gatehouse replay SESSION</c> prints one recorded session as a person reads it; <c>gatehouse sessions</c>
/// lists recorded sessions, filtered by user, upstream, time and statement text, from the segments' indexes
/// where they verify. Both warn when the recording does not verify: replay re-hashes every record, sessions checks
/// each sealed segment's seal and links (its indexes are bound to them) and reads whole only the others.
/// </summary>
internal static class ReplayCommand
{
    public static Command CreateReplay()
    {
        var session = new Argument<string>("SESSION") { Description = "The session id (or a unique prefix of it), as `gatehouse sessions` lists it." };
        var (dir, key) = (RecordingArguments.Dir(), RecordingArguments.Key());
        var command = new Command("replay", "Print a recorded session: statements, decisions, results, errors.") { session, dir, key };
        command.SetAction(parse => Replay(parse.GetValue(dir)!, parse.GetValue(key)!, parse.GetValue(session)!, Console.Out, Console.Error));
        return command;
    }

    public static Command CreateSessions()
    {
        var (dir, key) = (RecordingArguments.Dir(), RecordingArguments.Key());
        var user = new Option<string?>("--user") { Description = "Only sessions of this user." };
        var upstream = new Option<string?>("--upstream") { Description = "Only sessions to this upstream." };
        var since = new Option<DateTimeOffset?>("--since") { Description = "Only sessions started at or after this time (ISO 8601)." };
        var until = new Option<DateTimeOffset?>("--until") { Description = "Only sessions started before this time." };
        var text = new Option<string?>("--text") { Description = "Only sessions that sent a statement containing this text." };
        var command = new Command("sessions", "List recorded sessions (checks seals and links; gatehouse verify re-hashes every record).") { dir, key, user, upstream, since, until, text };
        command.SetAction(parse => Sessions(parse.GetValue(dir)!, parse.GetValue(key)!, new SessionFilter(parse.GetValue(user), parse.GetValue(upstream),
            parse.GetValue(since), parse.GetValue(until), parse.GetValue(text)), Console.Out, Console.Error));
        return command;
    }

    internal sealed record SessionFilter(string? User, string? Upstream, DateTimeOffset? Since, DateTimeOffset? Until, string? Text);

    internal static int Replay(DirectoryInfo directory, FileInfo keyFile, string id, TextWriter output, TextWriter errors)
    {
        if (!TryOpen(directory, keyFile, errors, output, bodies: true, out var store, out var key, out _))
        {
            return 2;
        }

        var matches = RecordedSession.Load(store, key).Where(s => s.Id.ToString("N").StartsWith(id.Replace("-", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase)).ToList();
        if (matches.Count != 1)
        {
            errors.WriteLine(matches.Count == 0 ? $"no recorded session {id}" : $"{matches.Count} sessions start with {id}: give more of the id");
            return 1;
        }

        var session = matches[0];
        var start = session.Start;
        output.WriteLine($"session {session.Id:N}");
        output.WriteLine($"  user      {start?.User ?? "?"} (groups: {string.Join(", ", start?.Groups ?? [])}; roles: {string.Join(", ", start?.Roles ?? [])})");
        output.WriteLine($"  from      {start?.Client ?? "?"} over {start?.ClientTls ?? "plaintext"} to {start?.Protocol} listener {start?.Listener}");
        output.WriteLine($"  upstream  {start?.Upstream}/{start?.Database} ({start?.UpstreamTls ?? "no tls"})");
        output.WriteLine($"  started   {Time(session.Started)}");
        foreach (var (time, line) in session.Transcribe(out _))
        {
            output.WriteLine($"{Time(time)}  {line}");
        }

        output.WriteLine(session.End is { } end
            ? $"{Time(session.Ended!.Value)}  session ended: {end.Reason}{(end.Detail is null ? "" : $" ({end.Detail})")}"
            : "(no end record yet: the session is still open, or the gateway stopped before it could record the end)");
        return 0;
    }

    internal static int Sessions(DirectoryInfo directory, FileInfo keyFile, SessionFilter filter, TextWriter output, TextWriter errors)
    {
        // Listing answers from the keyed indexes, which are bound to the seals: checking each seal is enough
        // here, without re-hashing gigabytes of records (gatehouse verify does that).
        if (!TryOpen(directory, keyFile, errors, output, bodies: false, out var store, out var key, out var verdicts))
        {
            return 2;
        }

        var catalog = SessionCatalog.Load(store, key, verdicts);
        foreach (var note in catalog.Notes)
        {
            output.WriteLine(note);
        }

        var listed = catalog.Sessions.Where(s => (filter.User is null || s.Start?.User == filter.User) && (filter.Upstream is null || s.Start?.Upstream == filter.Upstream)
            && (filter.Since is not { } since || s.Started >= since) && (filter.Until is not { } until || s.Started < until)).ToList();
        var transcribed = TranscribeUnsure(store, key, listed, filter.Text);
        output.WriteLine($"{"session",-32}  {"started (UTC)",-23}  {"user",-20}  {"upstream",-16}  {"statements",10}  end");
        foreach (var session in listed)
        {
            var (count, sent) = transcribed.TryGetValue(session.Id, out var statements)
                ? (statements.Count, filter.Text is { } text && statements.Exists(s => s.Contains(text, StringComparison.OrdinalIgnoreCase)))
                : (session.Statements, filter.Text is { } indexed && session.MayHaveSent(indexed));
            if (filter.Text is null || sent)
            {
                output.WriteLine($"{session.Id:N}  {Time(session.Started),-23}  {session.Start?.User,-20}  {session.Start?.Upstream,-16}  {count,10}  {session.End?.Reason ?? "open"}");
            }
        }

        return 0;
    }

    /// <summary>
    /// The statements of the sessions the indexes cannot answer for: partial ones, and, for a text search, those
    /// whose indexed texts were capped and do not hold it. Read from their own records, in one pass over their segments.
    /// </summary>
    private static Dictionary<Guid, List<string>> TranscribeUnsure(DirectorySegmentStore store, byte[] key, List<SessionSummary> listed, string? text)
    {
        var unsure = listed.Where(s => s.Partial || (text is not null && s.TextsCapped && !s.MayHaveSent(text))).ToList();
        if (unsure.Count == 0)
        {
            return [];
        }

        return RecordedSession.Load(store, key, unsure.SelectMany(s => s.Segments).Distinct().Order(), unsure.Select(s => s.Id).ToHashSet())
            .ToDictionary(s => s.Id, s =>
            {
                s.Transcribe(out var transcript);
                return transcript.Statements;
            });
    }

    private static bool TryOpen(DirectoryInfo directory, FileInfo keyFile, TextWriter errors, TextWriter output, bool bodies, [NotNullWhen(true)] out DirectorySegmentStore? store,
        out byte[] key, out List<SegmentVerdict> verdicts)
    {
        verdicts = [];
        if (!RecordingArguments.TryOpen(directory, keyFile, errors, out store, out key))
        {
            return false;
        }

        verdicts = SegmentVerifier.Verify(store, key, allowOpenLast: true, bodies);
        foreach (var bad in verdicts.Where(v => !v.Ok))
        {
            output.WriteLine($"WARNING: {SegmentFormat.FileName(bad.Number)} does not verify ({bad.Message}); what follows may be incomplete or altered");
        }

        return true;
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);
}
