using System.Text;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Tests.Recording;

/// <summary>
/// Recovery after a crash: only a torn tail of the active segment is cut (and the cut is itself recorded);
/// corruption elsewhere stops the recorder instead of being repaired away; and a crash loop — killed at random
/// points, with unsynced bytes lost and writes torn — always recovers to a recording that verifies and still
/// holds every record that was durable.
/// </summary>
public sealed class RecoveryTests : IDisposable
{
    private const int Page = 4096;

    private readonly RecordingTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Theory]
    [InlineData(true)] // torn over the zeros laid down ahead of the records
    [InlineData(false)] // torn at the end of a file without them (one written by an earlier version)
    public void A_torn_tail_is_cut_recorded_and_sealed(bool zeroFilled)
    {
        var writer = new SegmentWriter(_kit.Store, RecordingTestKit.Key, new SegmentLimits(), TimeProvider.System);
        writer.Open();
        writer.Append(RecordKind.Statement, RecordDirection.ClientToUpstream, Guid.NewGuid(), "SELECT 1"u8);
        writer.Commit(sync: true);
        writer.Dispose(); // the crash: no seal
        var path = _kit.PathOf(1);
        var whole = SegmentScan.Read(1, File.ReadAllBytes(path), RecordingTestKit.Key).ValidLength;
        Assert.True(new FileInfo(path).Length > whole); // zeros laid down ahead of the records
        using (var file = new FileStream(path, FileMode.Open))
        {
            if (!zeroFilled)
            {
                file.SetLength(whole);
            }

            file.Position = whole;
            file.Write("\x20\x00\x00\x00torn"u8); // half a record
        }

        using (var recovered = new SegmentWriter(_kit.Store, RecordingTestKit.Key, new SegmentLimits(), TimeProvider.System))
        {
            var report = recovered.Open();
            Assert.Equal(1, report.RecoveredSegment);
            Assert.Equal(8, report.BytesCut);
            recovered.Close();
        }

        Assert.All(_kit.Verify(), v => Assert.True(v.Ok, v.Message));
        Assert.Equal(["SELECT 1"], _kit.Statements());
        var data = _kit.Store.ReadAll(1);
        var scan = SegmentScan.Read(1, data, RecordingTestKit.Key);
        Assert.Contains(scan.Records, r => r.Header.Kind == RecordKind.Recovery);
        Assert.Equal(data.Length, scan.ValidLength); // sealed: nothing after the seal, zeros neither
    }

    [Fact]
    public void A_page_lost_mid_write_with_later_pages_on_disk_is_a_torn_tail()
    {
        var writer = new SegmentWriter(_kit.Store, RecordingTestKit.Key, new SegmentLimits(), TimeProvider.System);
        writer.Open();
        writer.Append(RecordKind.Statement, RecordDirection.ClientToUpstream, Guid.NewGuid(), "SELECT 1"u8);
        writer.Commit(sync: true);
        var synced = LogicalLength(1);
        for (var i = 0; i < 60; i++)
        {
            writer.Append(RecordKind.Result, RecordDirection.UpstreamToClient, Guid.NewGuid(), Encoding.UTF8.GetBytes(new string('r', 200)));
        }

        writer.Commit(sync: false); // about 14 KiB, never synced
        var written = LogicalLength(1);
        writer.Dispose(); // power lost: the write's second page never reached the disk, the pages after it did
        var lost = ((synced / Page) + 1) * Page;
        Assert.True(lost + Page < written, "the unsynced write should span several pages");
        using (var file = new FileStream(_kit.PathOf(1), FileMode.Open))
        {
            file.Position = lost;
            file.Write(new byte[Page]);
        }

        using (var recovered = new SegmentWriter(_kit.Store, RecordingTestKit.Key, new SegmentLimits(), TimeProvider.System))
        {
            var report = recovered.Open();
            Assert.True(report.BytesCut > 0);
            recovered.Close();
        }

        Assert.All(_kit.Verify(), v => Assert.True(v.Ok, v.Message));
        Assert.Equal(["SELECT 1"], _kit.Statements());
    }

    [Fact]
    public void Corruption_before_the_tail_of_the_active_segment_is_not_repaired()
    {
        var writer = new SegmentWriter(_kit.Store, RecordingTestKit.Key, new SegmentLimits(), TimeProvider.System);
        writer.Open();
        for (var i = 0; i < 5; i++)
        {
            writer.Append(RecordKind.Statement, RecordDirection.ClientToUpstream, Guid.NewGuid(), Encoding.UTF8.GetBytes($"SELECT {i}"));
        }

        writer.Commit(sync: true);
        writer.Dispose();
        var data = File.ReadAllBytes(_kit.PathOf(1));
        var second = SegmentScan.Read(1, data, RecordingTestKit.Key).Records[2];
        data[second.PayloadOffset] ^= 0x01;
        File.WriteAllBytes(_kit.PathOf(1), data);

        using var reopened = new SegmentWriter(_kit.Store, RecordingTestKit.Key, new SegmentLimits(), TimeProvider.System);
        var error = Assert.Throws<RecordingCorruptException>(() => reopened.Open());
        Assert.Contains("no torn tail", error.Message, StringComparison.Ordinal);
        Assert.Equal(data, File.ReadAllBytes(_kit.PathOf(1))); // untouched
    }

    [Fact]
    public void Bytes_after_a_seal_are_no_torn_tail_and_stop_the_recorder()
    {
        _kit.Fill(5, limits: new SegmentLimits());
        File.AppendAllText(_kit.PathOf(1), "appended");
        using var reopened = new SegmentWriter(_kit.Store, RecordingTestKit.Key, new SegmentLimits(), TimeProvider.System);
        Assert.Throws<RecordingCorruptException>(() => reopened.Open());
        Assert.False(_kit.Verify().Single().Ok);
    }

    [Fact]
    public void A_crash_loop_always_recovers_to_a_verifiable_recording_with_every_durable_record()
    {
        var random = new Random(20261206);
        var durable = new List<string>();
        var limits = new SegmentLimits { MaxBytes = 4096 };
        for (var crash = 0; crash < 40; crash++)
        {
            var writer = new SegmentWriter(_kit.Store, RecordingTestKit.Key, limits, TimeProvider.System);
            writer.Open();
            var pending = new List<string>();
            var records = random.Next(1, 40);
            for (var i = 0; i < records; i++)
            {
                var text = $"crash {crash} statement {i} {new string('y', random.Next(0, 300))}";
                writer.Append(RecordKind.Statement, RecordDirection.ClientToUpstream, Guid.NewGuid(), Encoding.UTF8.GetBytes(text));
                pending.Add(text);
                if (random.Next(3) == 0)
                {
                    writer.Commit(sync: true); // durable from here: the statement could have been forwarded
                    durable.AddRange(pending);
                    pending.Clear();
                }
            }

            var active = writer.Segment;
            var syncedLength = LogicalLength(active);
            writer.Commit(sync: false);
            writer.Dispose(); // killed: no seal
            // The crash loses or tears what was not synced: from anywhere after the synced records the file holds
            // zeros again (as they were laid down), or ends there (the zeros were not synced either), or one page
            // of the last write never reached the disk while the pages after it did (power lost mid-writeback).
            var written = LogicalLength(active);
            var cut = syncedLength + (long)(random.NextDouble() * (written - syncedLength));
            using (var file = new FileStream(_kit.PathOf(active), FileMode.Open))
            {
                switch (random.Next(3))
                {
                    case 0:
                        file.SetLength(cut);
                        break;
                    case 1:
                        file.Position = cut;
                        file.Write(new byte[written - cut]);
                        break;
                    default:
                        var page = (cut / Page * Page) + (Page * random.Next(1 + (int)((written - (cut / Page * Page)) / Page)));
                        var from = Math.Max(page, syncedLength);
                        var to = Math.Min(page + Page, written);
                        if (to > from)
                        {
                            file.Position = from;
                            file.Write(new byte[to - from]);
                        }

                        break;
                }
            }
        }

        using (var last = new SegmentWriter(_kit.Store, RecordingTestKit.Key, limits, TimeProvider.System))
        {
            last.Open();
            last.Close();
        }

        Assert.All(_kit.Verify(), v => Assert.True(v.Ok, v.Message));
        var kept = _kit.Statements();
        Assert.Empty(durable.Except(kept));
        Assert.Equal(kept.Distinct().Count(), kept.Count);
    }

    /// <summary>Where the records of a segment end (an open one may have zeros after them).</summary>
    private int LogicalLength(long number) => SegmentScan.Read(number, _kit.Store.ReadAll(number), RecordingTestKit.Key).ValidLength;
}
