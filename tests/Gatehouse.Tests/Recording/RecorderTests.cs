using System.Text;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Tests.Recording;

/// <summary>
/// The recorder's queue and durability: durable records complete only after an fsync and share fsyncs (group
/// commit); a full queue holds callers back; a failing disk (fsync error, disk full) stops recording for
/// good and every caller is told, so sessions can fail closed.
/// </summary>
public sealed class RecorderTests : IDisposable
{
    private readonly RecordingTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    private Recorder Start(ISegmentStore? store = null, int capacity = 4096)
    {
        var writer = new SegmentWriter(store ?? _kit.Store, RecordingTestKit.Key, new SegmentLimits { MaxBytes = 64 * 1024 }, TimeProvider.System);
        writer.Open();
        return new Recorder(writer, TimeProvider.System, capacity);
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
