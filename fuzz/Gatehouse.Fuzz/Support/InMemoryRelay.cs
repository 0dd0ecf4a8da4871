using System.Buffers;
using System.IO.Pipelines;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Fuzz.Support;

/// <summary>What one relay run over in-memory pipes produced.</summary>
internal sealed record RelayRun(RelayOutcome Outcome, byte[] Output, byte[] Reply, long Frames, long Bytes, int LeakedBlocks);

/// <summary>
/// Runs one <see cref="FrameRelay"/> direction over in-memory pipes: the input is written in the given chunks
/// (each flushed), then the writer completes and the relay must end by itself. With the inline scheduler the
/// whole run happens on the calling thread, so a given input always replays the same way.
/// </summary>
internal static class InMemoryRelay
{
    /// <summary>How long a relay may take to end after its source completed before the run counts as a hang.</summary>
    public static readonly TimeSpan EndTimeout = TimeSpan.FromSeconds(2);

    public static PipeOptions Options(MemoryPool<byte>? pool, int blockSize, PipeScheduler scheduler)
        => new(pool: pool, readerScheduler: scheduler, writerScheduler: scheduler,
            pauseWriterThreshold: 0, resumeWriterThreshold: 0,
            minimumSegmentSize: blockSize > 0 ? blockSize : 4096, useSynchronizationContext: false);

    /// <summary>Runs the relay over <paramref name="input"/> split into <paramref name="chunks"/>.</summary>
    /// <param name="blockSize">Bytes per source buffer segment; 0 for the pipe's default pool.</param>
    /// <param name="scheduler">Null for <see cref="PipeScheduler.Inline"/> (deterministic).</param>
    /// <param name="endTimeout">
    /// <see cref="EndTimeout"/> unless given: the test suite allows more, since with the thread-pool scheduler a
    /// busy machine running many tests at once can delay a healthy relay past 2 s.
    /// </param>
    public static async Task<RelayRun> RunAsync(Direction direction, IFrameDecoder decoder, IFrameRewriter rewriter, RelayLimits limits,
        ReadOnlyMemory<byte> input, IReadOnlyList<int> chunks, int blockSize, PipeScheduler? scheduler = null, TimeSpan? endTimeout = null, IRelayTap? tap = null)
    {
        var timeout = endTimeout ?? EndTimeout;
        scheduler ??= PipeScheduler.Inline;
        var pool = blockSize > 0 ? new SmallBlockMemoryPool(blockSize) : null;
        var source = new Pipe(Options(pool, blockSize, scheduler));
        var output = new Pipe(Options(null, 0, scheduler));
        var reply = new Pipe(Options(null, 0, scheduler));
        using var target = new SessionOutput(output.Writer);
        using var replyTarget = new SessionOutput(reply.Writer);
        var relay = new FrameRelay(direction, source.Reader, target, replyTarget, decoder, rewriter, limits, new RelayMeter(null), tap);
        var running = relay.RunAsync(CancellationToken.None);

        var at = 0;
        foreach (var size in chunks)
        {
            if (running.IsCompleted)
            {
                break; // the relay ended (a violation); the rest of the input has nowhere to go
            }

            await source.Writer.WriteAsync(input.Slice(at, size)).ConfigureAwait(false);
            at += size;
        }

        if (!running.IsCompleted && at < input.Length)
        {
            throw new ArgumentException("chunks do not cover the input", nameof(chunks));
        }

        await source.Writer.CompleteAsync().ConfigureAwait(false);
        RelayOutcome outcome;
        try
        {
            outcome = await running.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new FuzzInvariantException($"the relay did not end within {timeout.TotalSeconds} s of its source completing (hang)");
        }

        await source.Reader.CompleteAsync().ConfigureAwait(false);
        await output.Writer.CompleteAsync().ConfigureAwait(false);
        await reply.Writer.CompleteAsync().ConfigureAwait(false);
        var outputBytes = await DrainAsync(output.Reader).ConfigureAwait(false);
        var replyBytes = await DrainAsync(reply.Reader).ConfigureAwait(false);
        return new RelayRun(outcome, outputBytes, replyBytes, relay.Frames, relay.Bytes, pool?.Outstanding ?? 0);
    }

    /// <summary>Reads a completed pipe to its end.</summary>
    public static async Task<byte[]> DrainAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await reader.ReadAsync().ConfigureAwait(false);
            if (result.IsCompleted)
            {
                var bytes = result.Buffer.ToArray();
                reader.AdvanceTo(result.Buffer.End);
                await reader.CompleteAsync().ConfigureAwait(false);
                return bytes;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }
}
