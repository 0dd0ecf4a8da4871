using BenchmarkDotNet.Attributes;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Bench;

/// <summary>
/// What a durable statement waits for on this machine's disk: one 200-byte record written and synced through
/// the segment store (over zeros laid down ahead, then fdatasync), against appending to the file's end and
/// fsyncing it, as the store did before (a sync must then write the file's size and block map too). The disk,
/// not the gateway, is measured: compare the two within one run.
/// </summary>
[MemoryDiagnoser]
public class SegmentSyncBenchmarks
{
    private static readonly byte[] Record = new byte[200];
    private string _directory = null!;
    private ISegmentFile _segment = null!;
    private FileStream _appended = null!;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "gatehouse-sync-bench-" + Guid.NewGuid().ToString("N"));
        _segment = new DirectorySegmentStore(_directory).Create(1);
        _appended = new FileStream(Path.Combine(_directory, "appended"), FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1, FileOptions.None);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _segment.Dispose();
        _appended.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public void AppendAndFsync()
    {
        _appended.Write(Record);
        _appended.Flush(flushToDisk: true);
    }

    [Benchmark]
    public void ZeroFilledAndFdatasync()
    {
        _segment.Append(Record);
        _segment.Sync();
    }
}
