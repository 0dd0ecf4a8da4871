using FsCheck;
using FsCheck.Fluent;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Tests.Recording;

/// <summary>Walking a segment header to header finds what reading it whole finds, and reads only the payloads asked for.</summary>
public sealed class SegmentWalkTests : IDisposable
{
    private static readonly FsCheck.Config Config = FsCheck.Config.QuickThrowOnFailure.WithMaxTest(60);

    private readonly RecordingTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public void The_walk_finds_every_record_a_whole_read_finds_whatever_their_sizes()
    {
        // Sizes around both windows: runs of small records in one read, records across an edge, records larger than the window.
        var size = Gen.OneOf(Gen.Choose(0, 200), Gen.Choose(SegmentWalk.ShortWindow - 100, SegmentWalk.ShortWindow + 100),
            Gen.Choose(SegmentWalk.Window - 100, SegmentWalk.Window + 100), Gen.Choose(0, 3 * SegmentWalk.Window));
        var record = Gen.Zip(Gen.Elements(RecordKind.Statement, RecordKind.Result), size);
        Check.One(Config, Prop.ForAll(Gen.ListOf(record).ToArbitrary(), records =>
        {
            var (number, data) = Write(records);
            var scan = SegmentScan.Read(number, data, RecordingTestKit.Key);
            Assert.NotNull(scan.Seal);
            foreach (var source in new ISegmentSource[] { _kit.Store.OpenSource(number), new HeapSegmentSource(data) })
            {
                using (source)
                {
                    Assert.True(SegmentWalk.TryRead(source, kind => kind == RecordKind.Statement, out var walked, out var problem), problem);
                    Assert.Equal(scan.Records.Select(r => (r.Header, (long)r.Offset)), walked.Select(w => (w.Header, w.Offset)));
                    foreach (var (whole, walk) in scan.Records.Zip(walked))
                    {
                        var expected = whole.Header.Kind == RecordKind.Statement ? data.AsSpan(whole.PayloadOffset, (int)whole.Header.Length) : [];
                        Assert.True(expected.SequenceEqual(walk.Payload.Span), $"record at {whole.Offset}");
                    }
                }
            }
        }));
    }

    [Fact]
    public void A_segment_cut_inside_a_skipped_record_or_with_an_impossible_length_is_refused()
    {
        var (number, data) = Write([(RecordKind.Statement, 10), (RecordKind.Result, 3 * SegmentWalk.Window), (RecordKind.Statement, 10)]);
        var result = SegmentScan.Read(number, data, RecordingTestKit.Key).Records.Single(r => r.Header.Kind == RecordKind.Result);

        Assert.False(SegmentWalk.TryRead(new HeapSegmentSource(data[..(result.End - 1)]), _ => false, out _, out var cut));
        Assert.Contains($"at byte {result.Offset} (record 2): the record claims", cut, StringComparison.Ordinal);

        var huge = data.ToArray();
        BitConverter.TryWriteBytes(huge.AsSpan(result.Offset), (uint)RecordHeader.MaxPayload + 1);
        Assert.False(SegmentWalk.TryRead(new HeapSegmentSource(huge), _ => false, out _, out var impossible));
        Assert.Contains("exceeds", impossible, StringComparison.Ordinal);
    }

    [Fact]
    public void An_asked_for_payload_is_checked_and_a_skipped_one_is_not()
    {
        var (number, data) = Write([(RecordKind.Statement, 10), (RecordKind.Result, 3 * SegmentWalk.Window)]);
        var records = SegmentScan.Read(number, data, RecordingTestKit.Key).Records;
        var result = records.Single(r => r.Header.Kind == RecordKind.Result);
        data[result.PayloadOffset + 5000] ^= 1;

        Assert.True(SegmentWalk.TryRead(new HeapSegmentSource(data), kind => kind == RecordKind.Statement, out _, out var skipped), skipped);
        Assert.False(SegmentWalk.TryRead(new HeapSegmentSource(data), kind => kind == RecordKind.Result, out _, out var asked));
        Assert.Contains("CRC-32C mismatch", asked, StringComparison.Ordinal);
    }

    /// <summary>A new segment with one session's records of the given kinds and payload sizes, sealed: its number and bytes.</summary>
    private (long Number, byte[] Data) Write(IEnumerable<(RecordKind Kind, int Size)> records)
    {
        long number;
        using (var writer = new SegmentWriter(_kit.Store, RecordingTestKit.Key, new SegmentLimits(), TimeProvider.System))
        {
            writer.Open();
            number = writer.Segment;
            var session = Guid.NewGuid();
            foreach (var (kind, size) in records)
            {
                writer.Append(kind, RecordDirection.ClientToUpstream, session, Enumerable.Range(0, size).Select(i => (byte)(i * 7)).ToArray());
            }

            writer.Close();
        }

        return (number, _kit.Store.ReadAll(number));
    }
}
