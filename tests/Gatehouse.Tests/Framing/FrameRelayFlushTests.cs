using System.Buffers;
using System.IO.Pipelines;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Proxy.Core.Relay;
using static Gatehouse.Fuzz.Support.PgMessages;

namespace Gatehouse.Tests.Framing;

/// <summary>
/// When the relay flushes: once its next read would wait (reads the source already holds go out together), at
/// least every <see cref="FrameRelay.MaxUnflushed"/> bytes while the source never waits, and before it waits on a hold.
/// </summary>
public sealed class FrameRelayFlushTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>A DataRow of about 8 KiB: what PostgreSQL sends per TLS record.</summary>
    private static byte[] Row(int i) => DataRow(i.ToString(), new string((char)('a' + (i % 26)), 8 * 1024 - 32));

    [Fact]
    public async Task Reads_the_source_already_holds_go_out_in_one_flush_once_the_next_read_would_wait()
    {
        var rows = Enumerable.Range(0, 6).Select(Row).ToArray();
        await using var run = new Run(rows, PassThroughRewriter.Instance);

        // All six rows arrive while the source waits for more: nothing is held back for a read that may never come.
        Assert.Equal(Concat(rows), await run.ReadOutputAsync(Concat(rows).Length));
        Assert.Equal(1, run.Target.Flushes);

        run.Source.End();
        Assert.Equal(SessionEndReason.UpstreamClosed, (await run.Relay.WaitAsync(Timeout)).Reason);
    }

    [Fact]
    public async Task A_source_that_never_waits_is_flushed_at_least_every_64_KiB()
    {
        var rows = Enumerable.Range(0, 40).Select(Row).ToArray();
        await using var run = new Run(rows, PassThroughRewriter.Instance);

        Assert.Equal(Concat(rows), await run.ReadOutputAsync(Concat(rows).Length));
        Assert.True(run.Target.Flushes >= Concat(rows).Length / FrameRelay.MaxUnflushed, $"{run.Target.Flushes} flushes");
        Assert.True(run.Target.MostUnflushed < FrameRelay.MaxUnflushed + rows[0].Length, $"{run.Target.MostUnflushed} bytes unflushed at once");
        run.Source.End();
        await run.Relay.WaitAsync(Timeout);
    }

    [Fact]
    public async Task What_was_forwarded_goes_out_before_the_relay_waits_on_a_hold()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var rows = Enumerable.Range(0, 3).Select(Row).ToArray();
        var held = CommandComplete("SELECT 3");
        await using var run = new Run([.. rows, held, ReadyForQuery()], new HoldCommandComplete(release.Task));

        // The rows came before the held message: they are flushed although the source had more ready at once.
        Assert.Equal(Concat(rows), await run.ReadOutputAsync(Concat(rows).Length));
        release.SetResult();
        Assert.Equal(Concat(held, ReadyForQuery()), await run.ReadOutputAsync(held.Length + ReadyForQuery().Length));
        run.Source.End();
        await run.Relay.WaitAsync(Timeout);
    }

    /// <summary>A relay from a source of ready chunks to a pipe whose flushes are counted.</summary>
    private sealed class Run : IAsyncDisposable
    {
        private readonly Pipe _output = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
        private readonly SessionOutput _target;
        private readonly SessionOutput _reply = new(new Pipe().Writer);
        private readonly PipeReader _reader;

        public Run(IEnumerable<byte[]> chunks, IFrameRewriter rewriter)
        {
            Source = new ChunkSource(chunks);
            Target = new CountingWriter(_output.Writer);
            _target = new SessionOutput(Target);
            _reader = PipeReader.Create(Source, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 16 * 1024));
            var relay = new FrameRelay(Direction.UpstreamToClient, _reader, _target, _reply, PgFrameDecoder.Backend, rewriter, new RelayLimits(), new RelayMeter(null));
            Relay = Task.Run(() => relay.RunAsync(CancellationToken.None));
        }

        public ChunkSource Source { get; }

        public CountingWriter Target { get; }

        public Task<RelayOutcome> Relay { get; }

        public async Task<byte[]> ReadOutputAsync(int length)
        {
            using var timeout = new CancellationTokenSource(Timeout);
            while (true)
            {
                var read = await _output.Reader.ReadAsync(timeout.Token);
                if (read.Buffer.Length >= length)
                {
                    var bytes = read.Buffer.Slice(0, length).ToArray();
                    _output.Reader.AdvanceTo(read.Buffer.GetPosition(length));
                    return bytes;
                }

                _output.Reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
            }
        }

        public async ValueTask DisposeAsync()
        {
            Source.End();
            await Relay.WaitAsync(Timeout).ConfigureAwait(false);
            await _reader.CompleteAsync().ConfigureAwait(false);
            _target.Dispose();
            _reply.Dispose();
        }
    }

    /// <summary>Each read returns the next chunk at once, as a socket with data queued does; then reads wait until <see cref="End"/>.</summary>
    private sealed class ChunkSource(IEnumerable<byte[]> chunks) : Stream
    {
        private readonly Queue<byte[]> _chunks = new(chunks);
        private readonly TaskCompletionSource _end = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void End() => _end.TrySetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_chunks.TryDequeue(out var chunk))
            {
                chunk.CopyTo(buffer); // chunks are smaller than the reader's buffer
                return chunk.Length;
            }

            await _end.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>A pipe writer that counts flushes and the most bytes it held unflushed.</summary>
    private sealed class CountingWriter(PipeWriter inner) : PipeWriter
    {
        public int Flushes { get; private set; }

        public long MostUnflushed { get; private set; }

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Advance(int bytes) => inner.Advance(bytes);

        public override Memory<byte> GetMemory(int sizeHint = 0) => inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => inner.GetSpan(sizeHint);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            MostUnflushed = Math.Max(MostUnflushed, inner.UnflushedBytes);
            if (inner.UnflushedBytes > 0)
            {
                Flushes++;
            }

            return inner.FlushAsync(cancellationToken);
        }
    }

    /// <summary>Holds CommandComplete until <paramref name="release"/> completes; passes everything else.</summary>
    private sealed class HoldCommandComplete(Task release) : IFrameRewriter
    {
        public FrameInterest OnHeader(Direction direction, in Gatehouse.Proxy.Core.Framing.FrameHeader header)
            => header.Type == (byte)'C' && !release.IsCompleted ? FrameInterest.Inspect : FrameInterest.Pass;

        public RewriteDecision OnFrame(Direction direction, in Gatehouse.Proxy.Core.Framing.FrameHeader header, in System.Buffers.ReadOnlySequence<byte> frame, RewriteContext context)
            => release.IsCompleted ? RewriteDecision.Pass : RewriteDecision.Hold(release);
    }
}
