using Gatehouse.Host.Recording;
using Gatehouse.Proxy.Core.Recording;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Tests.Recording;

/// <summary>Each sealed segment gets an index beside it, authenticated and bound to that segment, that says what its records say.</summary>
public sealed class SegmentIndexTests : IDisposable
{
    private readonly RecordingTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    /// <summary>Writes <see cref="RecordedTraffic"/> into <paramref name="kit"/> with the gateway's indexer hooked to the writer.</summary>
    internal static async Task<RecordedTraffic> WriteIndexedAsync(RecordingTestKit kit, IndexLimits? limits = null)
    {
        SegmentIndexer? indexer = null;
        var traffic = new RecordedTraffic().Write(kit.Store, onWriter: writer =>
        {
            indexer = new SegmentIndexer(kit.Store, RecordingTestKit.Key, NullLogger.Instance, limits);
            writer.SegmentSealed += indexer.OnSealed;
        });
        await indexer!.DisposeAsync();
        return traffic;
    }

    /// <summary>Every segment's index content, each verified against its segment's seal.</summary>
    internal static List<SegmentIndexContent> Indexes(RecordingTestKit kit) =>
        [.. kit.Verify().Select(v => SegmentIndex.TryRead(RecordingTestKit.Key, v.Number, v.Seal!, kit.Store.ReadIndex(v.Number)!, out var content, out var why)
            ? content
            : throw new InvalidOperationException($"{v.Number}: {why}"))];

    [Fact]
    public async Task Every_sealed_segment_gets_an_index_that_says_what_its_records_say()
    {
        var traffic = await WriteIndexedAsync(_kit);
        var indexes = Indexes(_kit);
        Assert.True(indexes.Count >= 5, $"{indexes.Count} segments: the traffic should span several");
        Assert.Equal(_kit.Store.List(), indexes.Select(i => i.Segment));

        var transcribed = RecordedSession.Load(_kit.Store, RecordingTestKit.Key).ToDictionary(s => s.Id);
        foreach (var (id, sent) in traffic.Sent)
        {
            var entries = indexes.SelectMany(i => i.Sessions).Where(e => e.Session == id).ToList();
            Assert.Equal(sent.Count, entries.Sum(e => e.Statements));
            Assert.Equal(sent.Distinct().Order(), entries.SelectMany(e => e.Texts).Distinct().Order());
            Assert.All(entries, e => Assert.False(e.Partial || e.TextsCapped));
            var start = Assert.Single(entries, e => e.Start is not null);
            Assert.Equal(transcribed[id].Start!.User, start.Start!.User);
            Assert.Equal(transcribed[id].Started, start.Started);
            Assert.Equal(transcribed[id].End?.Reason, entries.SingleOrDefault(e => e.End is not null)?.End?.Reason);
            transcribed[id].Transcribe(out var transcript);
            Assert.Equal(sent, transcript.Statements); // the traffic reads the same whole, as the indexes read it in pieces
        }

        Assert.Equal(RecordedTraffic.Begin, indexes[0].Sessions.Single(e => e.Session == traffic.Alice).Started);
        Assert.Null(indexes.SelectMany(i => i.Sessions).Single(e => e.Session == traffic.Bob && e.Start is not null).End);
        Assert.Contains(indexes.Take(indexes.Count - 1), i => i.Open.Any(o => o.Pending is { Length: > 0 })); // a message straddled a roll and was carried over
        Assert.Equal([traffic.Bob], indexes[^1].Open.Select(o => o.Session)); // bob never ended
    }

    [Fact]
    public async Task A_statement_text_past_the_cap_is_left_out_and_the_entry_says_so()
    {
        var traffic = await WriteIndexedAsync(_kit, new IndexLimits(MaxTexts: 1, MaxTextBytes: 150, MaxPending: 1024));
        var carol = Indexes(_kit).SelectMany(i => i.Sessions).Where(e => e.Session == traffic.Carol).ToList();
        Assert.Contains(carol, e => e.TextsCapped);
        Assert.All(carol, e => Assert.True(e.Texts.Count <= 1 && e.Texts.Sum(t => t.Length) <= 150));
        Assert.DoesNotContain(carol.SelectMany(e => e.Texts), t => t.Contains(RecordedTraffic.Needle, StringComparison.Ordinal));
        Assert.Equal(traffic.Sent[traffic.Carol].Count, carol.Sum(e => e.Statements)); // counted all the same
    }

    [Fact]
    public async Task An_index_verifies_only_against_its_own_segments_seal_and_key()
    {
        await WriteIndexedAsync(_kit);
        var verdicts = _kit.Verify();
        var index = _kit.Store.ReadIndex(2)!;
        Assert.True(SegmentIndex.TryRead(RecordingTestKit.Key, 2, verdicts[1].Seal!, index, out _, out _));
        Assert.False(SegmentIndex.TryRead(RecordingTestKit.Key, 3, verdicts[2].Seal!, index, out _, out var swapped));
        Assert.Contains("made for another segment", swapped, StringComparison.Ordinal);
        Assert.False(SegmentIndex.TryRead(RecordingTestKit.Key, 2, verdicts[2].Seal!, index, out _, out _)); // a replaced segment 2
        Assert.False(SegmentIndex.TryRead("another key of at least thirty-two bytes..."u8, 2, verdicts[1].Seal!, index, out _, out _));
        for (var at = 0; at < index.Length; at += Math.Max(1, index.Length / 97))
        {
            var flipped = (byte[])index.Clone();
            flipped[at] ^= 0x10;
            Assert.False(SegmentIndex.TryRead(RecordingTestKit.Key, 2, verdicts[1].Seal!, flipped, out _, out _), $"bit flipped at {at}");
        }

        Assert.False(SegmentIndex.TryRead(RecordingTestKit.Key, 2, verdicts[1].Seal!, index.AsSpan(0, index.Length - 1), out _, out var cut));
        Assert.NotNull(cut);
    }

    [Fact]
    public void A_segment_indexed_without_the_index_before_it_marks_its_continuing_sessions_partial()
    {
        var traffic = new RecordedTraffic().Write(_kit.Store);
        Assert.True(new SegmentIndexWriter(_kit.Store, RecordingTestKit.Key).Write(3));
        Assert.True(new SegmentIndexWriter(_kit.Store, RecordingTestKit.Key).Write(4)); // goes on from index 3: what it lost stays lost
        var seals = _kit.Verify().ToDictionary(v => v.Number, v => v.Seal!);
        foreach (var number in new long[] { 3, 4 })
        {
            Assert.True(SegmentIndex.TryRead(RecordingTestKit.Key, number, seals[number], _kit.Store.ReadIndex(number)!, out var content, out _));
            var alice = content.Sessions.Single(e => e.Session == traffic.Alice);
            Assert.True(alice.Partial);
            Assert.Null(content.Open.Single(o => o.Session == traffic.Alice).Pending);
        }
    }
}
