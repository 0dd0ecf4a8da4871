using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Tests.Recording;

/// <summary>Segments roll by size and by age, and an empty segment never rolls (no chain of empty files on an idle gateway).</summary>
public sealed class SegmentRollTests : IDisposable
{
    private readonly RecordingTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public void A_segment_rolls_when_it_outlives_its_maximum_age_but_not_while_empty()
    {
        var time = new SteppedTime();
        using var writer = new SegmentWriter(_kit.Store, RecordingTestKit.Key, new SegmentLimits { MaxAge = TimeSpan.FromMinutes(10) }, time);
        writer.Open();
        time.Advance(TimeSpan.FromMinutes(11));
        Assert.False(writer.RollIfDue()); // nothing recorded in it yet
        writer.Append(RecordKind.Statement, RecordDirection.ClientToUpstream, Guid.NewGuid(), "SELECT 1"u8);
        Assert.True(writer.RollIfDue());
        Assert.Equal(2, writer.Segment);
        Assert.False(writer.RollIfDue());
        writer.Close();
        Assert.All(_kit.Verify(), v => Assert.True(v.Ok, v.Message));
    }

    [Fact]
    public void A_segment_rolls_before_it_would_pass_its_maximum_size()
    {
        _kit.Fill(200, limits: new SegmentLimits { MaxBytes = 4096 });
        foreach (var number in _kit.Store.List())
        {
            Assert.True(_kit.Store.ReadAll(number).Length <= 4096 + RecordHeader.Size + SegmentFormat.SealPayloadSize, $"segment {number}");
        }
    }

    private sealed class SteppedTime : TimeProvider
    {
        private long _ticks = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
