using System.Buffers;
using System.IO.Pipelines;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Fuzz.Support;

/// <summary>
/// Something that moves one batch of bytes from a source pipe to an output pipe and drains the output, for
/// the relay benchmarks and the allocation-budget test.
/// </summary>
internal interface IBatchPump : IDisposable
{
    /// <summary>
    /// Pushes <paramref name="batch"/> through in writes of at most <see cref="SteadyRelay.WriteSize"/> bytes (what
    /// one socket read delivers to the session's input pipe), draining the output after each; returns the
    /// bytes that came out.
    /// </summary>
    long Pump(ReadOnlySpan<byte> batch);
}

/// <summary>
/// A long-lived <see cref="FrameRelay"/> over in-memory pipes with <see cref="PipeScheduler.Inline"/>: each
/// <see cref="Pump"/> writes a batch to the source and flushes, which runs the relay's read loop to completion
/// on the calling thread, then takes what reached the output. Between batches the relay waits in ReadAsync,
/// as it does between socket reads, so the steady state is measured (the async state machine is boxed once,
/// on the first wait, not per batch). Shared by the benchmarks (linked source) and the tests.
/// </summary>
internal sealed class SteadyRelay : IBatchPump
{
    private readonly Pipe _source = new(CreateOptions());
    private readonly Pipe _output = new(CreateOptions());
    private readonly Pipe _reply = new(CreateOptions());
    private readonly SessionOutput _target;
    private readonly SessionOutput _replyTarget;
    private readonly Task<RelayOutcome> _running;
    private readonly IDisposable? _owned;

    /// <param name="owned">What the rewriter's session depends on and this relay disposes with itself.</param>
    public SteadyRelay(Direction direction, IFrameDecoder decoder, IFrameRewriter rewriter, IDisposable? owned = null)
    {
        _owned = owned;
        _target = new SessionOutput(_output.Writer);
        _replyTarget = new SessionOutput(_reply.Writer);
        Relay = new FrameRelay(direction, _source.Reader, _target, _replyTarget, decoder, rewriter, new RelayLimits(), new RelayMeter(null));
        _running = Relay.RunAsync(CancellationToken.None);
    }

    /// <summary>Bytes per write: the size of the session's socket reads (StreamDuplexPipe reads 16 KiB).</summary>
    public const int WriteSize = 16 * 1024;

    /// <summary>
    /// No back-pressure, inline continuations, no synchronization context, and a pool of its own: on the
    /// shared ArrayPool, other threads (parallel tests, the runtime) take and return arrays too, which shows
    /// up here as allocations that are not the relay's.
    /// </summary>
    public static PipeOptions CreateOptions() => new(pool: new ReusableBlockPool(), readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.Inline, pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false);

    public FrameRelay Relay { get; }

    public long Pump(ReadOnlySpan<byte> batch)
    {
        long output = 0;
        while (!batch.IsEmpty)
        {
            var write = batch[..Math.Min(WriteSize, batch.Length)];
            batch = batch[write.Length..];
            _source.Writer.Write(write);
            var flush = _source.Writer.FlushAsync();
            if (!flush.IsCompletedSuccessfully || _running.IsCompleted)
            {
                throw new InvalidOperationException(_running.IsCompleted ? $"the relay ended: {_running.Result}" : "the flush did not complete inline");
            }

            output += Drain(_output.Reader);
        }

        return output;
    }

    /// <summary>Pushes a few messages through and returns what came out (setups check what a benchmark's rows become).</summary>
    public byte[] PumpAndRead(ReadOnlySpan<byte> messages)
    {
        _source.Writer.Write(messages);
        if (!_source.Writer.FlushAsync().IsCompletedSuccessfully || _running.IsCompleted || !_output.Reader.TryRead(out var result))
        {
            throw new InvalidOperationException(_running.IsCompleted ? $"the relay ended: {_running.Result}" : "nothing came out inline");
        }

        var bytes = result.Buffer.ToArray();
        _output.Reader.AdvanceTo(result.Buffer.End);
        return bytes;
    }

    /// <summary>Takes everything readable without waiting.</summary>
    internal static long Drain(PipeReader reader)
    {
        if (!reader.TryRead(out var result))
        {
            return 0;
        }

        var length = result.Buffer.Length;
        reader.AdvanceTo(result.Buffer.End);
        return length;
    }

    public void Dispose()
    {
        _source.Writer.Complete();
        _running.GetAwaiter().GetResult();
        _source.Reader.Complete();
        _output.Writer.Complete();
        _output.Reader.Complete();
        _reply.Writer.Complete();
        _reply.Reader.Complete();
        _target.Dispose();
        _replyTarget.Dispose();
        _owned?.Dispose();
    }
}

/// <summary>The baseline: the same pipes and batch, copied from source to output with no framing at all.</summary>
internal sealed class SteadyPipeCopy : IBatchPump
{
    private readonly Pipe _source = new(SteadyRelay.CreateOptions());
    private readonly Pipe _output = new(SteadyRelay.CreateOptions());

    public long Pump(ReadOnlySpan<byte> batch)
    {
        long output = 0;
        while (!batch.IsEmpty)
        {
            var write = batch[..Math.Min(SteadyRelay.WriteSize, batch.Length)];
            batch = batch[write.Length..];
            _source.Writer.Write(write);
            if (!_source.Writer.FlushAsync().IsCompletedSuccessfully || !_source.Reader.TryRead(out var read))
            {
                throw new InvalidOperationException("the in-memory source did not complete inline");
            }

            foreach (var segment in read.Buffer)
            {
                _output.Writer.Write(segment.Span);
            }

            _source.Reader.AdvanceTo(read.Buffer.End);
            if (!_output.Writer.FlushAsync().IsCompletedSuccessfully)
            {
                throw new InvalidOperationException("the in-memory output did not complete inline");
            }

            output += SteadyRelay.Drain(_output.Reader);
        }

        return output;
    }

    public void Dispose()
    {
        _source.Writer.Complete();
        _source.Reader.Complete();
        _output.Writer.Complete();
        _output.Reader.Complete();
    }
}

/// <summary>
/// 4 KiB blocks kept on a stack and handed out again, owner objects included, so a steady pipe allocates
/// nothing (Kestrel <c>PinnedBlockMemoryPool</c>, without the pinning).
/// </summary>
internal sealed class ReusableBlockPool : MemoryPool<byte>
{
    private const int BlockSize = 4096;
    private readonly Stack<Block> _free = new();

    public override int MaxBufferSize => BlockSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        if (minBufferSize > BlockSize)
        {
            throw new ArgumentOutOfRangeException(nameof(minBufferSize));
        }

        lock (_free)
        {
            return _free.TryPop(out var block) ? block : new Block(this);
        }
    }

    protected override void Dispose(bool disposing)
    {
    }

    private void Return(Block block)
    {
        lock (_free)
        {
            _free.Push(block);
        }
    }

    private sealed class Block(ReusableBlockPool pool) : IMemoryOwner<byte>
    {
        private readonly byte[] _array = new byte[BlockSize];

        public Memory<byte> Memory => _array;

        public void Dispose() => pool.Return(this);
    }
}
