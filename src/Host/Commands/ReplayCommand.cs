using System.CommandLine;
using System.Globalization;
using Gatehouse.Host.Recording;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Host.Commands;

/// <summary>
/// <c>gatehouse replay SESSION</c> prints one recorded session as a person reads it; <c>gatehouse sessions</c>
/// lists recorded sessions, filtered by user, upstream, time and statement text. Both read the segments
/// directly and warn when the recording does not verify.
/// </summary>
internal static class ReplayCommand
{
    public static Command CreateReplay()
    {
        var session = new Argument<string>("SESSION") { Description = "The session id (or a unique prefix of it), as `gatehouse sessions` lists it." };
        var (dir, key) = (Dir(), Key());
        var command = new Command("replay", "Print a recorded session: statements, decisions, results, errors.") { session, dir, key };
        command.SetAction(parse => Replay(parse.GetValue(dir)!, parse.GetValue(key)!, parse.GetValue(session)!, Console.Out, Console.Error));
        return command;
    }

    public static Command CreateSessions()
    {
        var (dir, key) = (Dir(), Key());
        var user = new Option<string?>("--user") { Description = "Only sessions of this user." };
        var upstream = new Option<string?>("--upstream") { Description = "Only sessions to this upstream." };
        var since = new Option<DateTimeOffset?>("--since") { Description = "Only sessions started at or after this time (ISO 8601)." };
        var until = new Option<DateTimeOffset?>("--until") { Description = "Only sessions started before this time." };
        var text = new Option<string?>("--text") { Description = "Only sessions that sent a statement containing this text." };
        var command = new Command("sessions", "List recorded sessions.") { dir, key, user, upstream, since, until, text };
        command.SetAction(parse => Sessions(parse.GetValue(dir)!, parse.GetValue(key)!, new SessionFilter(parse.GetValue(user), parse.GetValue(upstream),
            parse.GetValue(since), parse.GetValue(until), parse.GetValue(text)), Console.Out, Console.Error));
        return command;
    }

    internal sealed record SessionFilter(string? User, string? Upstream, DateTimeOffset? Since, DateTimeOffset? Until, string? Text);

    internal static int Replay(DirectoryInfo directory, FileInfo keyFile, string id, TextWriter output, TextWriter errors)
    {
        if (!TryOpen(directory, keyFile, errors, output, out var sessions))
        {
            return 2;
        }

        var matches = sessions.Where(s => s.Id.ToString("N").StartsWith(id.Replace("-", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase)).ToList();
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
        if (!TryOpen(directory, keyFile, errors, output, out var sessions))
        {
            return 2;
        }

        output.WriteLine($"{"session",-32}  {"started (UTC)",-23}  {"user",-20}  {"upstream",-16}  {"statements",10}  end");
        foreach (var session in sessions)
        {
            var start = session.Start;
            if ((filter.User is not null && start?.User != filter.User) || (filter.Upstream is not null && start?.Upstream != filter.Upstream)
                || (filter.Since is { } since && session.Started < since) || (filter.Until is { } until && session.Started >= until))
            {
                continue;
            }

            session.Transcribe(out var transcript);
            if (filter.Text is { } text && !transcript.Statements.Exists(s => s.Contains(text, StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            output.WriteLine($"{session.Id:N}  {Time(session.Started),-23}  {start?.User,-20}  {start?.Upstream,-16}  {transcript.Statements.Count,10}  {session.End?.Reason ?? "open"}");
        }

        return 0;
    }

    private static bool TryOpen(DirectoryInfo directory, FileInfo keyFile, TextWriter errors, TextWriter output, out List<RecordedSession> sessions)
    {
        sessions = [];
        byte[] key;
        try
        {
            key = RecordingKey.Load(keyFile.FullName);
        }
        catch (IOException ex)
        {
            errors.WriteLine(ex.Message);
            return false;
        }

        if (!directory.Exists)
        {
            errors.WriteLine($"{directory.FullName}: no such directory");
            return false;
        }

        var store = new DirectorySegmentStore(directory.FullName);
        foreach (var bad in SegmentVerifier.Verify(store, key, allowOpenLast: true).Where(v => !v.Ok))
        {
            output.WriteLine($"WARNING: {SegmentFormat.FileName(bad.Number)} does not verify ({bad.Message}); what follows may be incomplete or altered");
        }

        sessions = RecordedSession.Load(store, key);
        return true;
    }

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);

    private static Option<DirectoryInfo> Dir() => new("--dir") { Description = "The recording directory.", Required = true };

    private static Option<FileInfo> Key() => new("--key-file") { Description = "The file holding the sealing key.", Required = true };
}
