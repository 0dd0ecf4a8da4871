using System.Buffers;
using System.Threading.Channels;

namespace Gatehouse.Proxy.Core.Recording;

/// <summary>
/// The gateway's session recorder: sessions hand it records through a bounded queue, and one loop off the
/// relay's hot path appends them to the segments. A durable record's task completes only after an fsync that
/// covers it; every durable record waiting when the loop wakes shares that one fsync (group commit), and other
/// records ride along with it or are synced within <see cref="LazySyncInterval"/>. The loop is woken for a
/// durable record, or once <see cref="WakeBytes"/> of others or half the queue are waiting: a stream of results
/// is written in large batches instead of waking a thread for every read. A full queue makes callers
/// wait (backpressure), never drops. The first write or sync that fails stops the recorder for good: every
/// waiting and later caller gets a <see cref="RecordingUnavailableException"/>, and <see cref="Failure"/> says
/// why, so sessions fail closed and /readyz can report it.
/// </summary>
public sealed class Recorder : IAsyncDisposable
{
    public static readonly TimeSpan LazySyncInterval = TimeSpan.FromMilliseconds(200);

    // One batch is one write (and at most one fsync): enough to share an fsync among many sessions, small
    // enough that the staging buffer stays in the cache rather than growing with a burst of results.
    private const int MaxBatchRecords = 1024;
    private const long MaxBatchBytes = 1024 * 1024;

    /// <summary>Bytes of records that need not be durable yet, queued before the loop is woken for them.</summary>
    public const int WakeBytes = 256 * 1024;

    private readonly SegmentWriter _writer;
    private readonly TimeProvider _time;
    private readonly Channel<Entry> _queue;
    private readonly Task _loop;
    private readonly SemaphoreSlim _wake = new(0);
    private readonly int _wakeCount;
    private long _unwokenBytes;
    private int _unwokenRecords;
    private int _wakeRequested;
    private volatile string? _failure;
    private volatile bool _closing;

    public Recorder(SegmentWriter writer, TimeProvider time, int queueCapacity = 4096)
    {
        _writer = writer;
        _time = time;
        _queue = Channel.CreateBounded<Entry>(new BoundedChannelOptions(queueCapacity)
        {
            FullMode = BoundedChannelFullMode.Wait, SingleReader = true, AllowSynchronousContinuations = false,
        });
        _wakeCount = Math.Max(1, queueCapacity / 2); // well before writers must wait for room
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Why recording stopped; null while it works.</summary>
    public string? Failure => _failure;

    public bool IsHealthy => _failure is null;

    /// <summary>Records written (durably or not) since start.</summary>
    public long Written { get; private set; }

    /// <summary>fsyncs issued since start (fewer than durable records when group commit works).</summary>
    public long Syncs { get; private set; }

    /// <summary>Payload bytes written since start.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Time spent in commits that synced, since start: with <see cref="Syncs"/>, the disk's fsync latency.</summary>
    public TimeSpan SyncTime { get; private set; }

    /// <summary>Records waiting in the queue now; near its capacity, sessions are being held back.</summary>
    public int Queued => _queue.Reader.Count;

    /// <summary>
    /// Queues one record. With <paramref name="durable"/>, completes once it is on disk; otherwise once it is
    /// queued. Throws <see cref="RecordingUnavailableException"/> when recording has failed.
    /// </summary>
    public ValueTask RecordAsync(RecordKind kind, RecordDirection direction, Guid session, ReadOnlyMemory<byte> payload, bool durable, CancellationToken cancellationToken = default)
        => EnqueueAsync(kind, direction, session, payload, null, durable, cancellationToken);

    /// <summary>
    /// As <see cref="RecordAsync"/> for a payload in an array rented from <see cref="ArrayPool{T}.Shared"/>: the
    /// recorder owns it from here and returns it once written (streams of results would otherwise allocate a
    /// large array per read).
    /// </summary>
    public ValueTask RecordRentedAsync(RecordKind kind, RecordDirection direction, Guid session, byte[] rented, int length, bool durable, CancellationToken cancellationToken = default)
        => EnqueueAsync(kind, direction, session, rented.AsMemory(0, length), rented, durable, cancellationToken);

    private async ValueTask EnqueueAsync(RecordKind kind, RecordDirection direction, Guid session, ReadOnlyMemory<byte> payload, byte[]? rented, bool durable,
        CancellationToken cancellationToken)
    {
        if (_failure is { } failure)
        {
            Return(rented);
            throw new RecordingUnavailableException(failure);
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(payload.Length, RecordHeader.MaxPayload); // the caller caps, and records the cap
        // Continuations run on the recorder's loop as it completes the batch: the session's relay resumes there
        // (flush, next read) instead of hopping to the thread pool: 1.50-1.76 instead of 1.80-2.49 s of gateway CPU per
        // 10k select-only transactions, in alternating e2e runs (README, Benchmarks, Recording).
        var done = durable ? new TaskCompletionSource() : null;
        var micros = (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / 10;
        try
        {
            await _queue.Writer.WriteAsync(new Entry(kind, direction, session, payload, micros, done, rented), cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
            Return(rented);
            throw new RecordingUnavailableException(_failure ?? "the recorder is shut down");
        }
        catch (OperationCanceledException)
        {
            Return(rented);
            throw;
        }

        if (done is not null)
        {
            Wake();
            await done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (Interlocked.Add(ref _unwokenBytes, RecordHeader.Size + payload.Length) >= WakeBytes
            || Interlocked.Increment(ref _unwokenRecords) >= _wakeCount) // counted here: the channel's own Count takes its lock
        {
            Wake();
        }
    }

    /// <summary>Wakes the loop once, however many callers ask before it runs.</summary>
    private void Wake()
    {
        if (Interlocked.Exchange(ref _wakeRequested, 1) == 0)
        {
            _wake.Release();
        }
    }

    /// <summary>Stops accepting records, writes what is queued and seals the active segment.</summary>
    public async ValueTask DisposeAsync()
    {
        _closing = true;
        _queue.Writer.TryComplete();
        Wake();
        await _loop.ConfigureAwait(false);
        if (_failure is null)
        {
            try
            {
                _writer.Close();
            }
            catch (IOException ex)
            {
                _failure = $"sealing the last segment failed: {ex.Message}";
            }
        }

        _writer.Dispose();
    }

    private async Task RunAsync()
    {
        var batch = new List<Entry>();
        var lastSync = _time.GetTimestamp();
        var unsynced = false;
        var backlog = false;
        var reader = _queue.Reader;
        try
        {
            while (await WaitAsync(reader, backlog).ConfigureAwait(false) is var more && (more || unsynced))
            {
                var durable = false;
                var bytes = 0L;
                while (batch.Count < MaxBatchRecords && bytes < MaxBatchBytes && reader.TryRead(out var entry))
                {
                    batch.Add(entry);
                    bytes += entry.Payload.Length;
                    _writer.Append(entry.Kind, entry.Direction, entry.Session, entry.Payload.Span, entry.Micros);
                    Return(entry.Rented); // staged: the payload's bytes are copied
                    durable |= entry.Done is not null;
                }

                backlog = batch.Count == MaxBatchRecords || bytes >= MaxBatchBytes;
                Written += batch.Count;
                BytesWritten += bytes;
                unsynced |= batch.Count > 0;
                var sync = durable || (unsynced && (_time.GetElapsedTime(lastSync) >= LazySyncInterval || !more));
                var committing = _time.GetTimestamp();
                _writer.Commit(sync);
                if (sync)
                {
                    Syncs++;
                    lastSync = _time.GetTimestamp();
                    SyncTime += _time.GetElapsedTime(committing, lastSync);
                    unsynced = false;
                }

                foreach (var entry in batch)
                {
                    entry.Done?.TrySetResult();
                }

                batch.Clear();
                _writer.RollIfDue();
                if (!more && !unsynced)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _failure = $"recording failed: {ex.Message}";
            _queue.Writer.TryComplete();
            var error = new RecordingUnavailableException(_failure);
            foreach (var entry in batch)
            {
                entry.Done?.TrySetException(error);
            }

            while (reader.TryRead(out var entry))
            {
                Return(entry.Rented);
                entry.Done?.TrySetException(error);
            }
        }
    }

    /// <summary>
    /// Unless records are left over from a full batch, waits to be woken (see <see cref="Wake"/>), at most until
    /// a lazy sync would be due: records queued meanwhile without waking it are then written and synced in time,
    /// and a quiet segment still rolls when it reaches its maximum age. False once the recorder is closing and
    /// its queue is empty.
    /// </summary>
    private async Task<bool> WaitAsync(ChannelReader<Entry> reader, bool backlog)
    {
        if (!backlog && !_closing)
        {
            using var timeout = new CancellationTokenSource(LazySyncInterval, _time);
            try
            {
                await _wake.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // a lazy sync may be due: loop once more to write and sync what waits, or to roll an old segment
            }
        }

        // Cleared (with a full fence) before the queue is read: a record queued from here on wakes the loop again.
        Interlocked.Exchange(ref _wakeRequested, 0);
        Interlocked.Exchange(ref _unwokenBytes, 0);
        Interlocked.Exchange(ref _unwokenRecords, 0);
        return !_closing || reader.Count > 0;
    }

    private static void Return(byte[]? rented)
    {
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private readonly record struct Entry(RecordKind Kind, RecordDirection Direction, Guid Session, ReadOnlyMemory<byte> Payload, long Micros,
        TaskCompletionSource? Done, byte[]? Rented);
}

/// <summary>Recording has failed or stopped; the message says why. Sessions must not forward what was not recorded.</summary>
public sealed class RecordingUnavailableException(string message) : Exception(message);
