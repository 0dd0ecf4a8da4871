using System.Buffers;
using System.IO.Pipelines;
using Gatehouse.Proxy.Core.Framing;

namespace Gatehouse.Proxy.Core.Relay;

/// <summary>
/// Relays one direction of a session frame by frame. The async loop only reads, flushes and waits; framing
/// and rewriting happen synchronously in <see cref="Process"/> (Kestrel <c>Http1Connection</c>). Untouched
/// frames are forwarded as runs of the read buffer, a frame the rewriter does not inspect streams through
/// however large it is, and only inspected frames are held whole (bounded by <see cref="RelayLimits"/>).
/// </summary>
public sealed class FrameRelay
{
    private readonly Direction _direction;
    private readonly PipeReader _source;
    private readonly SessionOutput _target;
    private readonly SessionOutput _replyTarget;
    private readonly IFrameDecoder _decoder;
    private readonly int _maxHeaderLength; // the decoder's, read once: it is asked of every frame
    private readonly IFrameRewriter _rewriter;
    private readonly RelayLimits _limits;
    private readonly RelayMeter _meter;
    private readonly RelayOutput _output; // what rewriters write for the frames they inspect whole
    private bool _outputIsRow; // _output holds omitted rows (not for the tap) rather than recorded bytes
    private ArrayBufferWriter<byte> _forwardScratch = new(256); // what a rewriter writes for a part of a frame
    private readonly ArrayBufferWriter<byte> _reply = new(256);
    private readonly RewriteContext _context;
    private readonly IRelayTap? _tap;

    // Bytes of an untouched frame's body that have not arrived yet: the next read forwards them first
    // without rescanning (StackExchange.Redis RespScanState: resume, don't rescan).
    private long _streamRemaining;
    private Task? _hold;

    // Recording with results: row_count — result rows go out but are not handed to the tap, only counted.
    private readonly bool _omitRows;
    private bool _streamIsRow; // the streaming frame's remaining bytes belong to an omitted row
    private bool _pendingIsRow;
    private long _rowsOmitted; // rows omitted since the tap was last handed bytes

    // Small pieces for the tap (masked rows, one at a time) gathered per read and handed over at once: a tap
    // call per row cost a lock per row. Rented while a read is processed, so an idle session holds none.
    private const int SmallTap = 1024;
    private const int TapBatchSize = 32 * 1024;
    private byte[]? _tapBatch;
    private int _tapBatched;

    private const int MaxPart = 64 * 1024;

    // A frame too large to inspect whole, rewritten part by part as its bytes arrive (a huge masked row).
    private FrameHeader _partHeader;
    private long _partRemaining;
    private bool _partIsRow;

    // A header already decoded whose frame is awaited whole (incomplete, or held): decoders may keep state
    // (MySQL sequence ids), so a header is decoded exactly once.
    private FrameHeader? _pendingHeader;

    /// <summary>Creates the relay for one direction.</summary>
    public FrameRelay(Direction direction, PipeReader source, SessionOutput target, SessionOutput replyTarget,
        IFrameDecoder decoder, IFrameRewriter rewriter, RelayLimits limits, RelayMeter meter, IRelayTap? tap = null)
    {
        _tap = tap;
        _omitRows = tap is { RecordsRows: false } && direction == Direction.UpstreamToClient;
        _direction = direction;
        _source = source;
        _target = target;
        _replyTarget = replyTarget;
        _decoder = decoder;
        _maxHeaderLength = decoder.MaxHeaderLength;
        _rewriter = rewriter;
        _limits = limits;
        _meter = meter;
        _output = new RelayOutput(target.Writer, OnOutputCommitted);
        _context = new RewriteContext(_output, _reply);
    }

    /// <summary>Frames relayed so far.</summary>
    public long Frames { get; private set; }

    /// <summary>Bytes read from the source so far.</summary>
    public long Bytes { get; private set; }

    /// <summary>Runs until the source ends, the target goes away, a violation is found or a rewriter ends the session.</summary>
    public async Task<RelayOutcome> RunAsync(CancellationToken cancellationToken)
    {
        var closed = _direction == Direction.ClientToUpstream ? SessionEndReason.ClientClosed : SessionEndReason.UpstreamClosed;
        var gone = new RelayOutcome(_direction == Direction.ClientToUpstream ? SessionEndReason.UpstreamClosed : SessionEndReason.ClientClosed, _direction);
        var unflushed = false; // bytes written to the target and not yet flushed
        while (true)
        {
            if (_hold is { } hold)
            {
                _hold = null; // what was forwarded before the held frame was flushed when the hold began
                await hold.WaitAsync(cancellationToken).ConfigureAwait(false);
            }

            var reading = _source.ReadAsync(cancellationToken);
            if (unflushed && !reading.IsCompleted)
            {
                // Written bytes go out when the next read would wait, not after every read: reads the source
                // already holds (PostgreSQL sends 8 KiB TLS records) leave together, in fuller TLS records and
                // fewer sends. A source that never waits is flushed every MaxUnflushed bytes (below).
                unflushed = false;
                if (!await FlushTargetAsync(cancellationToken).ConfigureAwait(false))
                {
                    await AbandonReadAsync(reading).ConfigureAwait(false);
                    return gone;
                }
            }

            var read = await reading.ConfigureAwait(false);
            if (read.IsCanceled)
            {
                return new RelayOutcome(SessionEndReason.Shutdown, _direction);
            }

            var buffer = read.Buffer;
            Step step;
            await _target.EnterAsync(cancellationToken).ConfigureAwait(false);
            FlushResult flush = default;
            try
            {
                step = Process(buffer, out var consumed, out var examined);
                _source.AdvanceTo(consumed, examined);
                if (_tap is not null && !await CommitAsync(_direction, cancellationToken).ConfigureAwait(false))
                {
                    return new RelayOutcome(SessionEndReason.RecordingFailed, _direction, _tapFailure);
                }

                var writer = _target.Writer;
                if (step.Outcome is null && !read.IsCompleted && _hold is null && writer.CanGetUnflushedBytes && writer.UnflushedBytes < MaxUnflushed)
                {
                    unflushed = writer.UnflushedBytes > 0;
                }
                else
                {
                    unflushed = false;
                    flush = await writer.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            finally
            {
                _target.Exit();
            }

            if (_reply.WrittenCount > 0)
            {
                var back = _direction == Direction.ClientToUpstream ? Direction.UpstreamToClient : Direction.ClientToUpstream;
                if (_tap is not null)
                {
                    _tap.OnForwarded(back, _reply.WrittenSpan);
                    if (!await CommitAsync(back, cancellationToken).ConfigureAwait(false))
                    {
                        return new RelayOutcome(SessionEndReason.RecordingFailed, _direction, _tapFailure);
                    }
                }

                var replyFlush = await _replyTarget.WriteAndFlushAsync(_reply.WrittenMemory, cancellationToken).ConfigureAwait(false);
                _reply.ResetWrittenCount();
                if (replyFlush.IsCompleted)
                {
                    return new RelayOutcome(closed, _direction);
                }
            }

            if (step.Outcome is { } outcome)
            {
                return outcome;
            }

            if (flush.IsCompleted || flush.IsCanceled)
            {
                // The other side's writer is gone: the other direction reports why.
                return gone;
            }

            if (read.IsCompleted && _hold is null && !step.MadeProgress)
            {
                return step.PendingBytes
                    ? new RelayOutcome(SessionEndReason.ProtocolViolation, _direction, "connection closed in the middle of a message")
                    : new RelayOutcome(closed, _direction);
            }
        }
    }

    /// <summary>The most a relay leaves unflushed while its source has more to read at once.</summary>
    internal const int MaxUnflushed = 64 * 1024;

    /// <summary>Flushes the target under its gate; false when the other side's writer is gone.</summary>
    private async ValueTask<bool> FlushTargetAsync(CancellationToken cancellationToken)
    {
        await _target.EnterAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var flush = await _target.Writer.FlushAsync(cancellationToken).ConfigureAwait(false);
            return !flush.IsCompleted && !flush.IsCanceled;
        }
        finally
        {
            _target.Exit();
        }
    }

    /// <summary>Ends a read already started, so the session may complete the reader once this relay returns.</summary>
    private async ValueTask AbandonReadAsync(ValueTask<ReadResult> reading)
    {
        _source.CancelPendingRead();
        try
        {
            var read = await reading.ConfigureAwait(false);
            _source.AdvanceTo(read.Buffer.Start);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            // The session is ending either way.
        }
    }

    private string? _tapFailure;

    /// <summary>The tap's commit; false (with <see cref="_tapFailure"/>) when the bytes must not go out.</summary>
    private async ValueTask<bool> CommitAsync(Direction direction, CancellationToken cancellationToken)
    {
        try
        {
            await _tap!.CommitAsync(direction, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Recording.RecordingUnavailableException ex)
        {
            _tapFailure = $"the session could not be recorded ({ex.Message}), so the gateway ended it";
            return false;
        }
    }

    private readonly record struct Step(RelayOutcome? Outcome, bool MadeProgress, bool PendingBytes);

    /// <summary>
    /// Frames and forwards everything complete in <paramref name="buffer"/>. Never awaits. consumed = start of
    /// the first frame not yet forwarded; examined = buffer end, unless a frame must be decided again after a
    /// hold, in which case nothing past it counts as examined so the next read returns at once.
    /// </summary>
    private Step Process(ReadOnlySequence<byte> buffer, out SequencePosition consumed, out SequencePosition examined)
    {
        var writer = _target.Writer;
        var reader = new SequenceReader<byte>(buffer);
        var runStart = reader.Position; // first byte of the current run of untouched bytes
        long frames = 0;
        RelayOutcome? outcome = null;
        SequencePosition? stop = null; // where forwarding stops when the loop ends early
        examined = buffer.End;

        while (true)
        {
            if (_streamRemaining > 0)
            {
                var take = Math.Min(_streamRemaining, reader.Remaining);
                if (_streamIsRow)
                {
                    var rowPart = reader.Position;
                    ForwardRun(writer, buffer, runStart, rowPart);
                    reader.Advance(take);
                    WriteRun(writer, buffer.Slice(rowPart, reader.Position));
                    runStart = reader.Position;
                }
                else
                {
                    reader.Advance(take);
                }

                _streamRemaining -= take;
                if (_streamRemaining > 0)
                {
                    break;
                }

                continue;
            }

            if (_partRemaining > 0)
            {
                if (reader.End)
                {
                    break;
                }

                RewritePart(writer, ref reader, ref outcome);
                runStart = reader.Position;
                if (outcome is not null)
                {
                    stop = reader.Position;
                    break;
                }

                frames += _partRemaining == 0 ? 1 : 0;
                continue;
            }

            if (reader.End)
            {
                break;
            }

            var frameStart = reader.Position;
            FrameHeader header;
            bool isRow;
            if (_pendingHeader is { } decoded)
            {
                header = decoded;
                isRow = _pendingIsRow;
                _pendingHeader = null;
            }
            else
            {
                var unread = reader.UnreadSpan;
                var status = unread.Length >= _maxHeaderLength
                    ? _decoder.TryReadHeader(unread, out header, out var error)
                    : _decoder.TryReadHeader(reader.UnreadSequence, out header, out error);
                if (status == FrameStatus.Incomplete)
                {
                    break;
                }

                if (status == FrameStatus.Invalid)
                {
                    outcome = new RelayOutcome(SessionEndReason.ProtocolViolation, _direction, error);
                    stop = frameStart;
                    break;
                }

                var interest = _rewriter.OnHeader(_direction, header);
                isRow = _omitRows && _rewriter.IsResultRow(header);
                if (interest == FrameInterest.Pass)
                {
                    frames++;
                    var available = Math.Min(header.TotalLength, reader.Remaining);
                    if (isRow)
                    {
                        ForwardRun(writer, buffer, runStart, frameStart);
                        reader.Advance(available);
                        WriteRun(writer, buffer.Slice(frameStart, reader.Position));
                        runStart = reader.Position;
                        _rowsOmitted += header.Continuation ? 0 : 1;
                    }
                    else
                    {
                        reader.Advance(available);
                    }

                    _streamIsRow = isRow;
                    _streamRemaining = header.TotalLength - available;
                    continue;
                }
            }

            if (header.TotalLength > _limits.MaxInspectedFrame && _rewriter.CanRewriteInParts(_direction, header))
            {
                ForwardRun(writer, buffer, runStart, frameStart);
                runStart = frameStart;
                _partHeader = header;
                _partRemaining = header.TotalLength;
                _partIsRow = isRow;
                _rowsOmitted += isRow && !header.Continuation ? 1 : 0;
                continue;
            }

            frames++;
            if (header.TotalLength > _limits.MaxInspectedFrame)
            {
                outcome = new RelayOutcome(SessionEndReason.ProtocolViolation, _direction,
                    $"message of {header.TotalLength} bytes exceeds the gateway's limit of {_limits.MaxInspectedFrame}");
                stop = frameStart;
                break;
            }

            if (reader.Remaining < header.TotalLength)
            {
                frames--; // counted again when it is complete
                _pendingHeader = header;
                _pendingIsRow = isRow;
                break;
            }

            var frame = buffer.Slice(reader.Position, header.TotalLength);

            // The rewriter writes straight into the pipe (_output), so what precedes the frame goes first; a
            // frame of the other kind (omitted row or recorded bytes) commits what the output holds.
            ForwardRun(writer, buffer, runStart, frameStart);
            runStart = frameStart;
            if (isRow != _outputIsRow)
            {
                _output.Commit();
                _outputIsRow = isRow;
            }

            var written = _output.Written;
            var decision = _rewriter.OnFrame(_direction, header, frame, _context);
            if (decision.Action == RewriteAction.Hold && _output.Written != written)
            {
                // A rewriter that holds a frame writes nothing for it (IFrameRewriter.OnFrame): asked again, it
                // would write it twice. A rewriter's bug, and the session ends rather than send that.
                _output.Discard();
                outcome = new RelayOutcome(SessionEndReason.ProtocolViolation, _direction, "the gateway's rewriter wrote for a message it held");
                stop = frameStart;
                break;
            }

            if (decision.Action == RewriteAction.Hold)
            {
                frames--;
                _hold = decision.HoldUntil ?? Task.CompletedTask;
                _pendingHeader = header;
                _pendingIsRow = isRow;
                examined = frameStart;
                stop = frameStart;
                break;
            }

            if (isRow && decision.Action is RewriteAction.Pass or RewriteAction.Replace)
            {
                // A row (masked or not) goes out without reaching the tap.
                if (decision.Action == RewriteAction.Pass)
                {
                    WriteRun(writer, frame);
                }

                runStart = frame.End;
                _rowsOmitted += header.Continuation ? 0 : 1;
            }
            else if (_output.Written != written || decision.Action != RewriteAction.Pass)
            {
                // Whatever the rewriter wrote goes out before (Pass) or instead of (Replace/Drop) the frame.
                runStart = decision.Action == RewriteAction.Pass ? frameStart : frame.End;
            }

            reader.Advance(header.TotalLength);
            if (decision.Action == RewriteAction.End)
            {
                runStart = frame.End;
                stop = frame.End;
                outcome = new RelayOutcome(decision.EndReason, _direction, decision.Message);
                break;
            }
        }

        consumed = stop ?? reader.Position;
        ForwardRun(writer, buffer, runStart, consumed);
        _output.Commit(); // before the gate is let go: the other direction may write replies to this pipe
        if (_tap is not null)
        {
            HandOverTapBatch();
        }

        if (_rowsOmitted > 0)
        {
            _tap!.OnRowsOmitted(_direction, _rowsOmitted);
            _rowsOmitted = 0;
        }

        var progressed = buffer.Slice(buffer.Start, consumed).Length;
        Frames += frames;
        Bytes += progressed;
        _meter.Record(_direction, frames, progressed);
        var pending = buffer.Length - progressed > 0 || _streamRemaining > 0 || _partRemaining > 0;
        return new Step(outcome, progressed > 0 || _hold is not null, pending);
    }

    /// <summary>
    /// Hands the rewriter the next part of a frame it rewrites in parts and forwards what it wrote instead;
    /// at most <see cref="MaxPart"/> bytes at a time, so what the rewriter writes stays small. A rewriter's End sets
    /// <paramref name="outcome"/>.
    /// </summary>
    private void RewritePart(PipeWriter writer, ref SequenceReader<byte> reader, ref RelayOutcome? outcome)
    {
        var take = Math.Min(Math.Min(_partRemaining, reader.Remaining), MaxPart);
        var part = reader.UnreadSequence.Slice(0, take);
        _partRemaining -= take;
        _forwardScratch.ResetWrittenCount();
        _context.Forward = _forwardScratch; // a part rewritten is staged: an End drops what was written for it
        var decision = _rewriter.OnFramePart(_direction, _partHeader, part, _partRemaining == 0, _context);
        _context.Forward = _output;
        reader.Advance(take);
        if (decision.Action == RewriteAction.End)
        {
            _partRemaining = 0;
            outcome = new RelayOutcome(decision.EndReason, _direction, decision.Message);
            return;
        }

        if (decision.Action != RewriteAction.Replace)
        {
            _partRemaining = 0;
            outcome = new RelayOutcome(SessionEndReason.ProtocolViolation, _direction, "a message rewritten in parts was not rewritten");
            return;
        }

        _output.Commit();
        writer.Write(_forwardScratch.WrittenSpan);
        if (_tap is not null && !_partIsRow)
        {
            Tap(_forwardScratch.WrittenSpan);
        }

        ShrinkScratch();
    }

    /// <summary>After a rewriter wrote a lot at once (a huge masked row), do not keep a buffer that size for the session's life.</summary>
    private void ShrinkScratch()
    {
        if (_forwardScratch.Capacity > 4 * MaxPart)
        {
            _forwardScratch = new ArrayBufferWriter<byte>(256);
        }
    }

    /// <summary><see cref="Forward"/> of the bytes from <paramref name="start"/> to <paramref name="end"/>; no slicing when there are none (between frames rewritten or omitted one after another).</summary>
    private void ForwardRun(PipeWriter writer, in ReadOnlySequence<byte> buffer, SequencePosition start, SequencePosition end)
    {
        if (!start.Equals(end))
        {
            Forward(writer, buffer.Slice(start, end));
        }
    }

    private void Forward(PipeWriter writer, ReadOnlySequence<byte> run)
    {
        WriteRun(writer, run);
        if (_tap is not null && !run.IsEmpty)
        {
            foreach (var segment in run)
            {
                Tap(segment.Span);
            }
        }
    }

    private void OnOutputCommitted(ReadOnlySpan<byte> bytes)
    {
        if (_tap is not null && !_outputIsRow)
        {
            Tap(bytes);
        }
    }

    /// <summary>Hands bytes to the tap, after the count of any rows omitted before them, so the recording keeps the stream's order.</summary>
    private void Tap(ReadOnlySpan<byte> bytes)
    {
        if (_rowsOmitted > 0)
        {
            HandOverTapBatch();
            _tap!.OnRowsOmitted(_direction, _rowsOmitted);
            _rowsOmitted = 0;
        }

        if (bytes.Length <= SmallTap)
        {
            _tapBatch ??= ArrayPool<byte>.Shared.Rent(TapBatchSize);
            if (_tapBatch.Length - _tapBatched < bytes.Length)
            {
                HandOverTapBatch();
                _tapBatch = ArrayPool<byte>.Shared.Rent(TapBatchSize);
            }

            bytes.CopyTo(_tapBatch.AsSpan(_tapBatched));
            _tapBatched += bytes.Length;
            return;
        }

        HandOverTapBatch();
        _tap!.OnForwarded(_direction, bytes);
    }

    /// <summary>Hands the gathered small pieces to the tap with their buffer, which the tap keeps or returns to the pool.</summary>
    private void HandOverTapBatch()
    {
        if (_tapBatch is not { } batch)
        {
            return;
        }

        var length = _tapBatched;
        _tapBatch = null;
        _tapBatched = 0;
        if (length == 0)
        {
            ArrayPool<byte>.Shared.Return(batch);
            return;
        }

        _tap!.OnForwardedPooled(_direction, batch, length);
    }

    /// <summary>Writes bytes of the read buffer, after what the rewriters wrote before them.</summary>
    private void WriteRun(PipeWriter writer, ReadOnlySequence<byte> run)
    {
        _output.Commit();
        if (run.IsSingleSegment)
        {
            if (!run.FirstSpan.IsEmpty)
            {
                writer.Write(run.FirstSpan);
            }

            return;
        }

        foreach (var segment in run)
        {
            writer.Write(segment.Span);
        }
    }
}
