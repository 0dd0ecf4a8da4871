namespace Gatehouse.Proxy.Core.Sessions;

/// <summary>
/// The gateway-wide cap on client connections. Beyond it a connection is refused with the protocol's own
/// "too many connections" error rather than dropped, so a pool or a person sees why.
/// </summary>
public sealed class ConnectionLimiter
{
    private readonly int _max;
    private int _current;

    /// <summary>Creates a limiter for <paramref name="max"/> concurrent connections.</summary>
    public ConnectionLimiter(int max) => _max = max;

    /// <summary>Connections held now.</summary>
    public int Current => Volatile.Read(ref _current);

    /// <summary>Takes a slot; false when the gateway is full.</summary>
    public bool TryAcquire()
    {
        if (Interlocked.Increment(ref _current) <= _max)
        {
            return true;
        }

        Interlocked.Decrement(ref _current);
        return false;
    }

    /// <summary>Returns a slot taken by <see cref="TryAcquire"/>.</summary>
    public void Release() => Interlocked.Decrement(ref _current);
}
