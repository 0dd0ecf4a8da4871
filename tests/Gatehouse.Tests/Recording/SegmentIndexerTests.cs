using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Gatehouse.Fuzz.Support;
using Gatehouse.Host.Commands;
using Gatehouse.Host.Recording;
using Gatehouse.Proxy.Core.Recording;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Tests.Recording;

/// <summary>The gateway's indexer, hooked to the recorder as GatewayHost hooks it: it indexes what is sealed, and its failures never stop recording.</summary>
public sealed class SegmentIndexerTests : IDisposable
{
    private readonly RecordingTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_recorder_goes_on_whether_or_not_indexes_can_be_written(bool failing)
    {
        var store = new IndexFailingStore(_kit.Store, failing);
        var logger = new CollectingLogger();
        var writer = new SegmentWriter(store, RecordingTestKit.Key, RecordingTestKit.Small, TimeProvider.System);
        var indexer = new SegmentIndexer(store, RecordingTestKit.Key, logger);
        writer.SegmentSealed += indexer.OnSealed;
        writer.Open();
        var recorder = new Recorder(writer, TimeProvider.System);
        var session = Guid.NewGuid();
        for (var i = 0; i < 200; i++)
        {
            await recorder.RecordAsync(RecordKind.Statement, RecordDirection.ClientToUpstream, session, Encoding.UTF8.GetBytes($"statement {i}"), durable: i % 10 == 0);
        }

        await recorder.DisposeAsync();
        await indexer.DisposeAsync();

        Assert.Null(recorder.Failure);
        Assert.All(_kit.Verify(), v => Assert.True(v.Ok, v.Message));
        Assert.Equal(200, _kit.Statements().Count);
        var segments = _kit.Store.List();
        Assert.True(segments.Count > 3, $"{segments.Count} segments");
        var indexed = segments.Where(n => File.Exists(Path.Combine(_kit.Directory, SegmentIndex.FileName(n)))).ToList();
        Assert.Equal(failing ? [] : segments, indexed);
        var logged = logger.Errors.Count(e => e.StartsWith("3300 ", StringComparison.Ordinal) && e.Contains("No space left on device", StringComparison.Ordinal));
        Assert.True(failing ? logged >= segments.Count : logged == 0, $"{logged} errors logged"); // a segment the catch-up failed on is tried again when its seal is reported

        var output = new StringWriter();
        Assert.Equal(0, ReplayCommand.Sessions(new DirectoryInfo(_kit.Directory), RecordedTraffic.KeyFile(_kit), new ReplayCommand.SessionFilter(null, null, null, null, null), output, TextWriter.Null));
        Assert.Equal(failing, output.ToString().Contains($"note: no index for {segments.Count} sealed segments", StringComparison.Ordinal));
    }

    [Fact]
    public async Task At_start_it_writes_the_indexes_missing_from_before_and_leaves_altered_ones_for_verify()
    {
        new RecordedTraffic().Write(_kit.Store);
        var altered = Path.Combine(_kit.Directory, SegmentIndex.FileName(1));
        File.WriteAllBytes(altered, "GHIDX1\0\0 not the index"u8.ToArray());
        await new SegmentIndexer(_kit.Store, RecordingTestKit.Key, new CollectingLogger()).DisposeAsync();

        Assert.Equal("GHIDX1\0\0 not the index", File.ReadAllText(altered)); // evidence kept
        var seals = _kit.Verify().ToDictionary(v => v.Number, v => v.Seal!);
        foreach (var number in _kit.Store.List().Skip(1))
        {
            Assert.True(SegmentIndex.TryRead(RecordingTestKit.Key, number, seals[number], _kit.Store.ReadIndex(number)!, out _, out var problem), problem);
        }
    }

    [Fact]
    public async Task Indexing_a_sealed_segment_reads_its_headers_and_statements_not_its_results()
    {
        // One segment of about 8 MiB: results (which an index does not keep) and a few statements.
        var writer = new SegmentWriter(_kit.Store, RecordingTestKit.Key, new SegmentLimits(), TimeProvider.System);
        writer.Open();
        var recorder = new Recorder(writer, TimeProvider.System);
        var session = Guid.NewGuid();
        var start = new SessionStartInfo("postgres", "demo", "carol", ["contractors"], ["contractor"], "127.0.0.1:5000", "demo-db", "app", null, null, session.ToString("N"));
        await recorder.RecordAsync(RecordKind.SessionStart, RecordDirection.None, session, JsonSerializer.SerializeToUtf8Bytes(start, RecordingJson.Default.SessionStartInfo), durable: false);
        var result = new byte[64 * 1024];
        for (var i = 0; i < 128; i++)
        {
            await recorder.RecordAsync(RecordKind.Statement, RecordDirection.ClientToUpstream, session, PgMessages.Query($"SELECT {i % 100}"), durable: false);
            await recorder.RecordAsync(RecordKind.Result, RecordDirection.UpstreamToClient, session, result, durable: false);
        }

        await recorder.DisposeAsync(); // seals the segment
        var number = Assert.Single(_kit.Store.List());
        var store = new OpenCountingStore(_kit.Store);
        var indexes = new SegmentIndexWriter(store, RecordingTestKit.Key);
        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.True(indexes.Write(number));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        var size = new FileInfo(_kit.PathOf(number)).Length;
        Assert.True(size > 8 * 1024 * 1024, $"{size} B segment");
        Assert.True(store.BytesRead < size / 8, $"indexing a {size} B segment read {store.BytesRead} B");
        Assert.True(allocated < size / 8, $"indexing a {size} B segment allocated {allocated} B");
        Assert.Equal(0, store.Opens); // never read whole

        var seal = Assert.Single(_kit.Verify()).Seal!;
        Assert.True(SegmentIndex.TryRead(RecordingTestKit.Key, number, seal, _kit.Store.ReadIndex(number)!, out var content, out var problem), problem);
        var entry = Assert.Single(content.Sessions);
        Assert.Equal(128, entry.Statements);
        Assert.Equal(Enumerable.Range(0, 100).Select(i => $"SELECT {i}"), entry.Texts);
    }

    [Theory]
    [InlineData(RecordKind.Result, true)]
    [InlineData(RecordKind.Statement, false)]
    public async Task A_damaged_statement_keeps_a_segment_unindexed_while_a_damaged_result_is_left_to_verify(RecordKind damaged, bool indexed)
    {
        var writer = new SegmentWriter(_kit.Store, RecordingTestKit.Key, new SegmentLimits(), TimeProvider.System);
        writer.Open();
        var recorder = new Recorder(writer, TimeProvider.System);
        var session = Guid.NewGuid();
        await recorder.RecordAsync(RecordKind.Statement, RecordDirection.ClientToUpstream, session, "SELECT card FROM t"u8.ToArray(), durable: false);
        await recorder.RecordAsync(RecordKind.Result, RecordDirection.UpstreamToClient, session, new byte[10_000], durable: false);
        await recorder.DisposeAsync();
        var number = Assert.Single(_kit.Store.List());

        // One bit flipped in the middle of the chosen record's payload, after it was sealed.
        var data = _kit.Store.ReadAll(number);
        var record = SegmentScan.Read(number, data, RecordingTestKit.Key).Records.First(r => r.Header.Kind == damaged);
        data[record.PayloadOffset + ((int)record.Header.Length / 2)] ^= 0x10;
        File.WriteAllBytes(_kit.PathOf(number), data);

        Assert.Equal(indexed, new SegmentIndexWriter(_kit.Store, RecordingTestKit.Key).Write(number));
        Assert.False(Assert.Single(_kit.Verify()).Ok); // either way verify, which reads every record, reports it
    }

    [Fact]
    public async Task An_open_segment_is_not_indexed_until_it_is_sealed()
    {
        var writer = new SegmentWriter(_kit.Store, RecordingTestKit.Key, new SegmentLimits(), TimeProvider.System);
        writer.Open();
        var recorder = new Recorder(writer, TimeProvider.System);
        await recorder.RecordAsync(RecordKind.Statement, RecordDirection.ClientToUpstream, Guid.NewGuid(), "SELECT 1"u8.ToArray(), durable: true);
        var number = Assert.Single(_kit.Store.List());
        var store = new OpenCountingStore(_kit.Store);
        Assert.False(new SegmentIndexWriter(store, RecordingTestKit.Key).Write(number)); // open: no index yet
        Assert.Equal(0, store.Sources);

        await recorder.DisposeAsync(); // seals it
        Assert.True(new SegmentIndexWriter(store, RecordingTestKit.Key).Write(number));
        Assert.Equal(1, store.Sources);
    }

    [Fact]
    public async Task A_sealed_segment_cut_short_by_someone_else_is_reported_not_fatal()
    {
        // A memory map of a file cut short kills the process (SIGBUS) when its lost pages are read: the segment is
        // held open, then cut, then read to its end, and verify runs over the cut file.
        var writer = new SegmentWriter(_kit.Store, RecordingTestKit.Key, new SegmentLimits(), TimeProvider.System);
        writer.Open();
        var recorder = new Recorder(writer, TimeProvider.System);
        var session = Guid.NewGuid();
        for (var i = 0; i < 2000; i++)
        {
            await recorder.RecordAsync(RecordKind.Statement, RecordDirection.ClientToUpstream, session, Encoding.UTF8.GetBytes($"statement {i} {new string('x', 100)}"), durable: false);
        }

        await recorder.DisposeAsync(); // seals it
        var number = Assert.Single(_kit.Store.List());
        var whole = _kit.Store.ReadAll(number);
        using (var held = _kit.Store.Open(number))
        {
            using (var file = new FileStream(_kit.PathOf(number), FileMode.Open, FileAccess.Write))
            {
                file.SetLength(4096);
            }

            Assert.Equal(whole, held.Memory.ToArray()); // what was read stays readable, to its last byte
        }

        var verdict = Assert.Single(SegmentVerifier.Verify(_kit.Store, RecordingTestKit.Key));
        Assert.False(verdict.Ok, verdict.ToString());
    }

    /// <summary>Counts the segments read whole (<see cref="ISegmentStore.Open"/>), the sources opened and the bytes read through them.</summary>
    private sealed class OpenCountingStore(DirectorySegmentStore inner) : ForwardingStore(inner)
    {
        public int Opens { get; private set; }

        public int Sources { get; private set; }

        public long BytesRead { get; private set; }

        public override System.Buffers.IMemoryOwner<byte> Open(long number)
        {
            Opens++;
            return base.Open(number);
        }

        public override ISegmentSource OpenSource(long number)
        {
            Sources++;
            return new CountingSource(base.OpenSource(number), this);
        }

        private sealed class CountingSource(ISegmentSource inner, OpenCountingStore owner) : ISegmentSource
        {
            public long Length => inner.Length;

            public int Read(Span<byte> destination, long offset)
            {
                var read = inner.Read(destination, offset);
                owner.BytesRead += read;
                return read;
            }

            public void Dispose() => inner.Dispose();
        }
    }

    /// <summary>A store whose index writes fail as a full disk does.</summary>
    private sealed class IndexFailingStore(DirectorySegmentStore inner, bool failing) : ForwardingStore(inner)
    {
        public override void WriteIndex(long number, byte[] index)
        {
            if (failing)
            {
                throw new IOException("No space left on device");
            }

            base.WriteIndex(number, index);
        }
    }

    /// <summary>The directory store, every member forwarded, for wrappers that change one.</summary>
    private abstract class ForwardingStore(DirectorySegmentStore inner) : ISegmentStore
    {
        public virtual System.Buffers.IMemoryOwner<byte> Open(long number) => inner.Open(number);

        public virtual ISegmentSource OpenSource(long number) => inner.OpenSource(number);

        public SegmentEnds ReadEnds(long number, int head, int tail) => inner.ReadEnds(number, head, tail);

        public IReadOnlyList<long> List() => inner.List();

        public byte[] ReadAll(long number) => inner.ReadAll(number);

        public ISegmentFile Create(long number) => inner.Create(number);

        public ISegmentFile OpenTruncated(long number, long length) => inner.OpenTruncated(number, length);

        public void Delete(long number) => inner.Delete(number);

        public byte[]? ReadHead() => inner.ReadHead();

        public void WriteHead(byte[] head) => inner.WriteHead(head);

        public byte[]? ReadIndex(long number) => inner.ReadIndex(number);

        public virtual void WriteIndex(long number, byte[] index) => inner.WriteIndex(number, index);
    }

    private sealed class CollectingLogger : ILogger
    {
        public ConcurrentQueue<string> Errors { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (logLevel >= LogLevel.Error)
            {
                Errors.Enqueue($"{eventId.Id} {formatter(state, exception)}");
            }
        }
    }
}
