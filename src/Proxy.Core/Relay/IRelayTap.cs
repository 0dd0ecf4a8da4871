namespace Gatehouse.Proxy.Core.Relay;

/// <summary>
/// Sees every byte the relay forwards, after rewriting (so masked), in both directions, including the
/// gateway's own replies. The bytes of one read are handed over by <see cref="OnForwarded"/> while they sit in
/// the target pipe unflushed, and <see cref="CommitAsync"/> runs before the flush that sends them: so a tap
/// can make them durable before they leave (session recording), and its queue can slow the relay down.
/// </summary>
public interface IRelayTap
{
    /// <summary>Bytes about to go out in <paramref name="direction"/>. May be called from both relay loops.</summary>
    void OnForwarded(Direction direction, ReadOnlySpan<byte> bytes);

    /// <summary>
    /// <see cref="OnForwarded"/> for the first <paramref name="length"/> bytes of an array from
    /// <see cref="System.Buffers.ArrayPool{T}.Shared"/>, which the tap now owns: it may keep the array instead of
    /// copying it, and returns it to the pool when done.
    /// </summary>
    void OnForwardedPooled(Direction direction, byte[] pooled, int length)
    {
        try
        {
            OnForwarded(direction, pooled.AsSpan(0, length));
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(pooled);
        }
    }

    /// <summary>
    /// Called before the bytes handed over for <paramref name="direction"/> are flushed; they go out only when
    /// it completes. Throws <see cref="Recording.RecordingUnavailableException"/> when they must not go out.
    /// </summary>
    ValueTask CommitAsync(Direction direction, CancellationToken cancellationToken);

    /// <summary>
    /// False when the tap wants result rows left out (recording with <c>results: row_count</c>): the relay then
    /// hands over every upstream frame except those the rewriter calls rows, and counts those instead.
    /// </summary>
    bool RecordsRows => true;

    /// <summary>
    /// <paramref name="rows"/> result rows went out in <paramref name="direction"/> without being handed over,
    /// at this point of the stream (only when <see cref="RecordsRows"/> is false).
    /// </summary>
    void OnRowsOmitted(Direction direction, long rows)
    {
    }
}
