using System.Buffers;
using System.IO.Pipelines;

namespace Gatehouse.Proxy.Core.Relay;

/// <summary>
/// One side's outgoing pipe. Both relay directions may write to it (frames in one direction, replies from the
/// other), and a <see cref="PipeWriter"/> takes one writer at a time, so writes and flushes go through a gate.
/// Uncontended, the gate completes synchronously and allocates nothing.
/// </summary>
public sealed class SessionOutput : IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Wraps <paramref name="writer"/>.</summary>
    public SessionOutput(PipeWriter writer) => Writer = writer;

    /// <summary>The underlying writer; use only while holding the gate.</summary>
    public PipeWriter Writer { get; }

    /// <summary>Takes the gate.</summary>
    public Task EnterAsync(CancellationToken cancellationToken) => _gate.WaitAsync(cancellationToken);

    /// <summary>Releases the gate.</summary>
    public void Exit() => _gate.Release();

    /// <summary>Writes <paramref name="bytes"/> and flushes, under the gate.</summary>
    public async ValueTask<FlushResult> WriteAndFlushAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Writer.Write(bytes.Span);
            return await Writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public void Dispose() => _gate.Dispose();
}
