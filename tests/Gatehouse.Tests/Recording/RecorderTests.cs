using System.Text;
using Gatehouse.Proxy.Core.Recording;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Tests.Recording;

/// <summary>
/// The recorder's queue and durability: durable records complete only after an fsync and share fsyncs (group
/// commit); records that need not be durable wait for one that does, or for a batch worth a write; a full
/// queue holds callers back; a failing disk (fsync error, disk full) stops recording for
/// good and every caller is told, so sessions can fail closed.
/// </summary>
public sealed class RecorderTests : IDisposable
{
    private readonly RecordingTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private Recorder Start(ISegmentStore? store = null, int capacity = 4096, TimeProvider? time = null)
    {
        var writer = new SegmentWriter(store ?? _kit.Store, RecordingTestKit.Key, new SegmentLimits { MaxBytes = 64 * 1024 }, TimeProvider.System);
        writer.Open();
        return new Recorder(writer, time ?? TimeProvider.System, capacity);
    }

    /// <summary>A recorder on full-size segments and one session's recording on it.</summary>
    private (Recorder Recorder, SessionRecording Recording, Guid Session) StartSession()
    {
        var writer = new SegmentWriter(_kit.Store, RecordingTestKit.Key, new SegmentLimits(), TimeProvider.System);
        writer.Open();
        var recorder = new Recorder(writer, TimeProvider.System);
        var session = Guid.NewGuid();
        return (recorder, new SessionRecording(recorder, session), session);
    }

    /// <summary>The kind and payload of every record of <paramref name="session"/> in the store, in order.</summary>
    private List<(RecordKind Kind, byte[] Payload)> RecordsOf(Guid session)
    {
        var records = new List<(RecordKind Kind, byte[] Payload)>();
        foreach (var number in _kit.Store.List())
        {
            var data = _kit.Store.ReadAll(number);
            records.AddRange(SegmentScan.Read(number, data, RecordingTestKit.Key).Records.Where(r => r.Header.Session == session)
                .Select(r => (r.Header.Kind, data.AsSpan(r.PayloadOffset, (int)r.Header.Length).ToArray())));
        }

        return records;
    }

    [Fact]
    public async Task A_sessions_forwarded_bytes_become_records_whole_in_order_split_only_at_the_payload_cap()
    {
        // The stage rents one array per record and grows it as reads arrive (4 KiB first): pieces of every size,
        // a decision between them, and a read past the 64 MiB record cap must come back byte for byte.
        var (recorder, recording, session) = StartSession();
        var random = new Random(7);
        byte[] Piece(int length)
        {
            var piece = new byte[length];
            random.NextBytes(piece);
            return piece;
        }

        var first = new List<byte>();
        foreach (var length in new[] { 1, 4095, 3, 9000, 70_000 })
        {
            var piece = Piece(length);
            recording.OnForwarded(Direction.UpstreamToClient, piece);
            first.AddRange(piece);
        }

        recording.Decision(new DecisionInfo("allow", "rule", "read", "", null, null));
        var statement = Piece(300);
        recording.OnForwarded(Direction.ClientToUpstream, statement);
        await recording.CommitAsync(Direction.ClientToUpstream, CancellationToken.None);
        var huge = Piece(RecordHeader.MaxPayload + 10);
        recording.OnForwarded(Direction.UpstreamToClient, huge);
        await recording.CommitAsync(Direction.UpstreamToClient, CancellationToken.None);
        await recorder.DisposeAsync();

        var records = RecordsOf(session);

        Assert.Equal([RecordKind.Decision, RecordKind.Statement, RecordKind.Result, RecordKind.Result], records.Select(r => r.Kind));
        Assert.Equal(statement, records[1].Payload);
        Assert.Equal([.. first, .. huge.AsSpan(0, RecordHeader.MaxPayload - first.Count)], records[2].Payload);
        Assert.Equal(huge.AsSpan(RecordHeader.MaxPayload - first.Count).ToArray(), records[3].Payload);
    }

    [Fact]
    public async Task Pooled_pieces_come_back_in_order_whether_kept_as_the_pending_record_or_copied_behind_it()
    {
        // The relay hands a read's masked rows over in a pooled array: the stage keeps that array (no copy) when it
        // holds nothing yet, appends to it what follows, and copies a pooled piece that comes after other bytes.
        var (recorder, recording, session) = StartSession();
        byte[] Pooled(byte fill, int length)
        {
            var array = System.Buffers.ArrayPool<byte>.Shared.Rent(length);
            array.AsSpan(0, length).Fill(fill);
            return array;
        }

        recording.OnForwardedPooled(Direction.UpstreamToClient, Pooled(1, 3000), 3000); // kept
        recording.OnForwarded(Direction.UpstreamToClient, Enumerable.Repeat((byte)2, 40_000).ToArray()); // appended, the array grown
        recording.OnForwardedPooled(Direction.UpstreamToClient, Pooled(3, 500), 500); // copied behind
        await recording.CommitAsync(Direction.UpstreamToClient, CancellationToken.None);
        recording.OnForwardedPooled(Direction.UpstreamToClient, Pooled(4, 10), 10); // the next read's: kept again
        await recording.CommitAsync(Direction.UpstreamToClient, CancellationToken.None);
        await recorder.DisposeAsync();

        var results = RecordsOf(session).Select(r => r.Payload).ToList();

        Assert.Equal(2, results.Count);
        Assert.Equal([.. Enumerable.Repeat((byte)1, 3000), .. Enumerable.Repeat((byte)2, 40_000), .. Enumerable.Repeat((byte)3, 500)], results[0]);
        Assert.Equal(Enumerable.Repeat((byte)4, 10), results[1]);
    }

    [Fact]
    public async Task Results_are_written_in_batches_a_durable_record_at_once_and_the_rest_when_the_lazy_sync_is_due()
    {
        var time = new StoppedTimers();
        var recorder = Start(time: time);
        var row = new byte[1000];
        for (var i = 0; i < 10; i++)
        {
            await recorder.RecordAsync(RecordKind.Result, RecordDirection.UpstreamToClient, Guid.Empty, row, durable: false);
        }

        await Task.Delay(300);
        Assert.Equal(0, recorder.Written); // 10 kB of results wake nobody: no thread hop and no write per read

        await recorder.RecordAsync(RecordKind.Statement, RecordDirection.ClientToUpstream, Guid.Empty, "SELECT 1"u8.ToArray(), durable: true);
        Assert.Equal(11, recorder.Written); // the durable record took the results with it, in order

        for (var i = 0; i < Recorder.WakeBytes / row.Length + 1; i++)
        {
            await recorder.RecordAsync(RecordKind.Result, RecordDirection.UpstreamToClient, Guid.Empty, row, durable: false);
        }

        await WaitUntil(() => recorder.Written > 11); // a batch worth a write wakes the loop
        await recorder.RecordAsync(RecordKind.Result, RecordDirection.UpstreamToClient, Guid.Empty, row, durable: false);
        var written = recorder.Written;
        time.FireAll(); // the lazy sync is due: what waits is written and synced
        await WaitUntil(() => recorder.Written > written);
        await recorder.DisposeAsync();
        Assert.All(_kit.Verify(), v => Assert.True(v.Ok, v.Message));
    }

    [Fact]
    public async Task A_lone_result_on_an_idle_recorder_is_written_and_synced_when_the_lazy_sync_is_due()
    {
        var recorder = Start();
        await Task.Delay(300); // the loop waits with nothing queued
        await recorder.RecordAsync(RecordKind.Result, RecordDirection.UpstreamToClient, Guid.Empty, "the last row before a quiet hour"u8.ToArray(), durable: false);
        await WaitUntil(() => recorder.Written == 1 && recorder.Syncs == 1); // within LazySyncInterval, not an idle timeout
        await recorder.DisposeAsync();
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        for (var waited = 0; !condition(); waited += 20)
        {
            Assert.True(waited < 5_000, "the recorder's loop did not run");
            await Task.Delay(20);
        }
    }

    /// <summary>System time whose timers fire only when told: the lazy sync and idle checks come when the test says.</summary>
    private sealed class StoppedTimers : TimeProvider
    {
        private readonly List<(TimerCallback Callback, object? State)> _timers = [];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            lock (_timers)
            {
                _timers.Add((callback, state));
            }

            return new Stopped();
        }

        public void FireAll()
        {
            List<(TimerCallback Callback, object? State)> due;
            lock (_timers)
            {
                due = [.. _timers];
                _timers.Clear();
            }

            foreach (var (callback, state) in due)
            {
                callback(state);
            }
        }

        private sealed class Stopped : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task Concurrent_durable_records_share_fsyncs_and_all_land()
    {
        var recorder = Start();
        await Task.WhenAll(Enumerable.Range(0, 400).Select(i => Task.Run(async () =>
            await recorder.RecordAsync(RecordKind.Statement, RecordDirection.ClientToUpstream, Guid.NewGuid(), Encoding.UTF8.GetBytes($"statement {i}"), durable: true))));
        Assert.True(recorder.Syncs < 400, $"{recorder.Syncs} fsyncs for 400 durable records");
        await recorder.DisposeAsync();
        Assert.All(_kit.Verify(), v => Assert.True(v.Ok, v.Message));
        Assert.Equal(400, _kit.Statements().Count);
    }

    [Theory]
    [InlineData("fsync")]
    [InlineData("disk-full")]
    public async Task A_failing_disk_stops_recording_and_every_caller_is_told(string fault)
    {
        var store = new FaultyStore(_kit.Store);
        var recorder = Start(store);
        await recorder.RecordAsync(RecordKind.Statement, RecordDirection.ClientToUpstream, Guid.NewGuid(), "before"u8.ToArray(), durable: true);
        store.Fault = fault;
        var error = await Assert.ThrowsAsync<RecordingUnavailableException>(async () =>
            await recorder.RecordAsync(RecordKind.Statement, RecordDirection.ClientToUpstream, Guid.NewGuid(), "after"u8.ToArray(), durable: true));
        Assert.Contains(fault == "fsync" ? "Input/output error" : "No space left", error.Message, StringComparison.Ordinal);
        Assert.False(recorder.IsHealthy);
        await Assert.ThrowsAsync<RecordingUnavailableException>(async () =>
            await recorder.RecordAsync(RecordKind.Statement, RecordDirection.ClientToUpstream, Guid.NewGuid(), "later"u8.ToArray(), durable: false));
        await recorder.DisposeAsync();
    }

    [Fact]
    public async Task A_full_queue_holds_callers_back_instead_of_dropping()
    {
        var store = new FaultyStore(_kit.Store);
        var recorder = Start(store, capacity: 2);
        store.Gate.Reset(); // the disk stalls: the loop blocks writing the first record
        var first = recorder.RecordAsync(RecordKind.Result, RecordDirection.UpstreamToClient, Guid.Empty, "row 0"u8.ToArray(), durable: false).AsTask();
        await Task.Delay(200);
        var writes = Enumerable.Range(1, 8).Select(i => recorder.RecordAsync(RecordKind.Result, RecordDirection.UpstreamToClient, Guid.Empty,
            Encoding.UTF8.GetBytes($"row {i}"), durable: false).AsTask()).ToList();
        await Task.Delay(300);
        Assert.Equal(2, writes.Count(w => w.IsCompleted)); // the queue holds two; the other six callers wait
        writes.Add(first);
        store.Gate.Set();
        await Task.WhenAll(writes);
        await recorder.DisposeAsync();
        Assert.All(_kit.Verify(), v => Assert.True(v.Ok, v.Message));
    }

    /// <summary>A store whose appends can stall and whose sync or appends can fail, as a dying disk does.</summary>
    private sealed class FaultyStore(ISegmentStore inner) : ISegmentStore
    {
        public string? Fault { get; set; }

        public ManualResetEventSlim Gate { get; } = new(true);

        public IReadOnlyList<long> List() => inner.List();

        public byte[] ReadAll(long number) => inner.ReadAll(number);

        public ISegmentFile Create(long number) => new File(this, inner.Create(number));

        public ISegmentFile OpenTruncated(long number, long length) => new File(this, inner.OpenTruncated(number, length));

        public void Delete(long number) => inner.Delete(number);

        public byte[]? ReadHead() => inner.ReadHead();

        public void WriteHead(byte[] head) => inner.WriteHead(head);

        private sealed class File(FaultyStore store, ISegmentFile file) : ISegmentFile
        {
            public long Length => file.Length;

            public void Append(ReadOnlySpan<byte> data)
            {
                store.Gate.Wait();
                if (store.Fault == "disk-full")
                {
                    throw new IOException("No space left on device");
                }

                file.Append(data);
            }

            public void Sync()
            {
                if (store.Fault == "fsync")
                {
                    throw new IOException("Input/output error");
                }

                file.Sync();
            }

            public void StopZeroFilling() => file.StopZeroFilling();

            public void Dispose() => file.Dispose();
        }
    }
}
