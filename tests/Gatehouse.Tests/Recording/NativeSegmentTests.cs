using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Tests.Recording;

/// <summary>Runs alone: the kept buffer is one per process, and another test reading a segment would take it.</summary>
[CollectionDefinition(nameof(NativeSegmentTests), DisableParallelization = true)]
public sealed class NativeSegmentCollection;

[Collection(nameof(NativeSegmentTests))]
public sealed class NativeSegmentTests
{
    [Fact]
    public void A_segment_read_into_a_kept_buffer_shows_its_own_bytes_only()
    {
        // The buffer is kept for the next segment (verify reads them one after another): a shorter one read into it must not show the longer
        // one's tail, and a disposed segment must not read the buffer its successor now fills.
        var directory = Directory.CreateTempSubdirectory("gatehouse-native-");
        try
        {
            var store = new DirectorySegmentStore(directory.FullName);
            var longer = Path.Combine(directory.FullName, SegmentFormat.FileName(1));
            var shorter = Path.Combine(directory.FullName, SegmentFormat.FileName(2));
            File.WriteAllBytes(longer, Enumerable.Repeat((byte)0xAA, 3 * 1024 * 1024).ToArray());
            File.WriteAllBytes(shorter, Enumerable.Repeat((byte)0x55, 1024 * 1024 + 7).ToArray());

            var first = store.Open(1);
            Assert.Equal(3 * 1024 * 1024, first.Memory.Length);
            first.Dispose();
            Assert.True(NativeSegment.HasParked);
            Assert.Throws<ObjectDisposedException>(() => first.Memory.Span.Length);

            using var second = store.Open(2);
            Assert.False(NativeSegment.HasParked); // taken, not copied
            Assert.Equal(1024 * 1024 + 7, second.Memory.Length);
            Assert.Equal(-1, second.Memory.Span.IndexOfAnyExcept((byte)0x55));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    [Fact]
    public void Dropping_a_segments_cached_pages_keeps_its_bytes_and_ignores_a_segment_gone_since()
    {
        var directory = Directory.CreateTempSubdirectory("gatehouse-native-");
        try
        {
            var store = new DirectorySegmentStore(directory.FullName);
            var bytes = Enumerable.Range(0, 300_000).Select(i => (byte)i).ToArray();
            File.WriteAllBytes(Path.Combine(directory.FullName, SegmentFormat.FileName(1)), bytes);
            store.ForgetCached(1);
            Assert.Equal(bytes, store.ReadAll(1));
            store.ForgetCached(2); // no such segment: advice only, nothing thrown
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
