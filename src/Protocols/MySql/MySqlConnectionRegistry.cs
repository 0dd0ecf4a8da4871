using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Gatehouse.Protocols.MySql;

/// <summary>
/// The connection ids the gateway announced in its greetings, mapped to each session's upstream thread id.
/// A client's KILL names the id it was told; it is honoured only for a session of the same identity on the
/// same upstream, and rewritten to the upstream's own id, so nobody can kill (or probe) another's work.
/// </summary>
public sealed class MySqlConnectionRegistry
{
    private readonly ConcurrentDictionary<uint, Entry> _sessions = new();

    internal sealed record Entry(string Subject, string Upstream)
    {
        public uint ThreadId { get; set; }
    }

    internal uint Mint(string upstream)
    {
        while (true)
        {
            var id = (uint)RandomNumberGenerator.GetInt32(1, int.MaxValue);
            if (_sessions.TryAdd(id, new Entry("", upstream)))
            {
                return id;
            }
        }
    }

    internal void Bind(uint id, string subject, uint threadId) => _sessions[id] = new Entry(subject, _sessions[id].Upstream) { ThreadId = threadId };

    internal void Release(uint id) => _sessions.TryRemove(id, out _);

    /// <summary>The upstream thread behind <paramref name="id"/>, if it belongs to <paramref name="subject"/> on <paramref name="upstream"/>.</summary>
    internal bool TryResolve(uint id, string subject, string upstream, out uint threadId)
    {
        threadId = 0;
        if (_sessions.TryGetValue(id, out var entry) && entry.Subject.Length > 0 && entry.Subject == subject && entry.Upstream == upstream)
        {
            threadId = entry.ThreadId;
            return true;
        }

        return false;
    }
}
