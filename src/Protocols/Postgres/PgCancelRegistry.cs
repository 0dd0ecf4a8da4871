using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Gatehouse.Protocols.Postgres;

/// <summary>
/// The BackendKeyData the gateway minted for each live session, mapped to the upstream's own key. A
/// CancelRequest arrives on a fresh, unauthenticated connection: it is forwarded only for a key minted
/// here, so a client can never cancel (or probe) another session's queries by guessing upstream keys.
/// </summary>
public sealed class PgCancelRegistry
{
    private readonly ConcurrentDictionary<long, CancelTarget> _sessions = new();

    internal readonly record struct CancelTarget(PgUpstreamOptions Upstream, int ProcessId, int Secret);

    /// <summary>Mints a unique random key for a session's upstream key.</summary>
    internal (int ProcessId, int Secret) Register(PgUpstreamOptions upstream, int upstreamProcessId, int upstreamSecret)
    {
        while (true)
        {
            var processId = RandomNumberGenerator.GetInt32(1, int.MaxValue);
            var secret = RandomNumberGenerator.GetInt32(int.MinValue, int.MaxValue);
            if (_sessions.TryAdd(Key(processId, secret), new CancelTarget(upstream, upstreamProcessId, upstreamSecret)))
            {
                return (processId, secret);
            }
        }
    }

    internal void Unregister(int processId, int secret) => _sessions.TryRemove(Key(processId, secret), out _);

    internal bool TryGet(int processId, int secret, out CancelTarget target) => _sessions.TryGetValue(Key(processId, secret), out target);

    /// <summary>Live sessions that can be cancelled.</summary>
    public int Count => _sessions.Count;

    private static long Key(int processId, int secret) => ((long)processId << 32) | (uint)secret;
}
