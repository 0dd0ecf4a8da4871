using System.Collections.Concurrent;
using Gatehouse.Proxy.Core.Identity;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Proxy.Core.Sessions;

/// <summary>
/// A listener's relaying sessions and who they are, so that a configuration reload which withdraws a subject's
/// access to an upstream ends their live sessions too (fail closed), not only their next login. A session's
/// other rules (policy, masking) stay those it started with.
/// </summary>
public sealed class LiveSessions
{
    private readonly ConcurrentDictionary<string, Entry> _sessions = new(StringComparer.Ordinal);
    private RoleMap? _roles; // the last reload's; null until a reload

    private sealed record Entry(ClientAuthResult Who, string Upstream, SessionRelay Relay);

    /// <summary>Sessions relaying now.</summary>
    public int Count => _sessions.Count;

    /// <summary>
    /// Adds a session about to relay, and ends it at once if a reload since its login withdrew its access. Its
    /// handle removes it again when disposed.
    /// </summary>
    public IDisposable Add(string id, ClientAuthResult who, string upstream, SessionRelay relay)
    {
        var entry = new Entry(who, upstream, relay);
        _sessions[id] = entry;
        if (Volatile.Read(ref _roles) is { } roles)
        {
            EndIfWithdrawn(roles, entry); // the reload may have looked before this session was added
        }

        return new Removal(this, id);
    }

    /// <summary>A reload's roles: each live session whose subject they no longer let use its upstream ends now. Returns how many.</summary>
    public int Withdraw(RoleMap roles)
    {
        Volatile.Write(ref _roles, roles);
        var ended = 0;
        foreach (var entry in _sessions.Values)
        {
            ended += EndIfWithdrawn(roles, entry) ? 1 : 0;
        }

        return ended;
    }

    private static bool EndIfWithdrawn(RoleMap roles, Entry entry)
    {
        if (roles.MayUse(roles.RolesFor(entry.Who.Groups), entry.Upstream))
        {
            return false;
        }

        entry.Relay.End(SessionEndReason.AccessWithdrawn,
            $"terminating connection: a configuration reload withdrew the access of \"{entry.Who.Subject}\" to upstream \"{entry.Upstream}\"");
        return true;
    }

    private sealed class Removal(LiveSessions owner, string id) : IDisposable
    {
        public void Dispose() => owner._sessions.TryRemove(id, out _);
    }
}
