using Gatehouse.Host.Commands;
using Gatehouse.Host.Recording;
using Gatehouse.Proxy.Core.Recording;
using static Gatehouse.Host.Commands.ReplayCommand;

namespace Gatehouse.Tests.Recording;

/// <summary>
/// <c>gatehouse sessions</c> answers from the indexes exactly as from the segments, never misses a match the
/// indexes cannot show, and reads a segment itself, saying so, when its index is missing or does not verify;
/// <c>gatehouse verify</c> fails on an altered index. <c>sessions</c> checks seals and links, not every record.
/// </summary>
public sealed class SessionsIndexTests : IDisposable
{
    private static readonly SessionFilter All = new(null, null, null, null, null);

    private readonly RecordingTestKit _kit = new();
    private readonly FileInfo _keyFile;

    public SessionsIndexTests() => _keyFile = RecordedTraffic.KeyFile(_kit);

    public void Dispose() => _kit.Dispose();

    public static TheoryData<string> Filters => ["all", "user alice", "upstream demo-mariadb", "text needle", "text accounts_17", "text nothing-like-this", "since", "until"];

    private static SessionFilter Filter(string name)
    {
        var half = RecordedTraffic.Begin.AddMinutes(30);
        return name switch
        {
            "user alice" => All with { User = "alice" },
            "upstream demo-mariadb" => All with { Upstream = "demo-mariadb" },
            "text needle" => All with { Text = RecordedTraffic.Needle.ToUpperInvariant() },
            "text accounts_17" => All with { Text = "accounts_17 " },
            "text nothing-like-this" => All with { Text = "nothing-like-this" },
            "since" => All with { Since = half },
            "until" => All with { Until = half },
            _ => All,
        };
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public void Sessions_lists_the_same_from_the_indexes_as_from_the_segments(string filter)
    {
        var traffic = new RecordedTraffic().Write(_kit.Store);
        var (scanned, scannedNotes) = Sessions(Filter(filter));
        Assert.Contains(scannedNotes, n => n.StartsWith($"note: no index for {_kit.Store.List().Count} sealed segments", StringComparison.Ordinal));

        var written = new StringWriter();
        Assert.Equal(0, IndexCommand.Run(new DirectoryInfo(_kit.Directory), _keyFile, rebuild: false, written, TextWriter.Null));
        Assert.Contains($"{_kit.Store.List().Count} index files written", written.ToString(), StringComparison.Ordinal);
        var (indexed, indexedNotes) = Sessions(Filter(filter));
        Assert.Empty(indexedNotes);
        Assert.Equal(scanned, indexed);

        var expected = filter switch
        {
            "all" => [traffic.Alice, traffic.Bob, traffic.Carol, traffic.Dave],
            "user alice" or "text accounts_17" => [traffic.Alice],
            "upstream demo-mariadb" => [traffic.Bob],
            "text needle" => [traffic.Carol],
            "since" => [traffic.Dave],
            "until" => [traffic.Alice, traffic.Bob, traffic.Carol],
            _ => new List<Guid>(),
        };
        Assert.Equal(expected.Select(id => id.ToString("N")), indexed.Skip(1).Select(l => l[..32]));
        foreach (var row in indexed.Skip(1))
        {
            var id = Guid.Parse(row[..32]);
            Assert.EndsWith($"  {traffic.Sent[id].Count,10}  {(id == traffic.Bob ? "open" : "client_closed")}", row, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_text_search_finds_a_session_whose_texts_overflowed_the_index()
    {
        var traffic = await SegmentIndexTests.WriteIndexedAsync(_kit, new IndexLimits(MaxTexts: 1, MaxTextBytes: 150, MaxPending: 1024));
        Assert.DoesNotContain(SegmentIndexTests.Indexes(_kit).SelectMany(i => i.Sessions).SelectMany(e => e.Texts), t => t.Contains(RecordedTraffic.Needle, StringComparison.Ordinal));
        var (rows, notes) = Sessions(All with { Text = RecordedTraffic.Needle });
        Assert.Empty(notes);
        var row = Assert.Single(rows.Skip(1));
        Assert.StartsWith(traffic.Carol.ToString("N"), row, StringComparison.Ordinal);
        Assert.EndsWith($"  {traffic.Sent[traffic.Carol].Count,10}  client_closed", row, StringComparison.Ordinal);
        Assert.Single(Sessions(All with { Text = "nothing-like-this" }).Rows); // just the header: capped texts are read, not assumed to match
    }

    [Fact]
    public void Sessions_reads_the_records_of_sessions_an_index_could_not_follow()
    {
        var traffic = new RecordedTraffic().Write(_kit.Store);
        var (expected, _) = Sessions(All with { Text = "accounts_" });
        foreach (var number in _kit.Store.List().Skip(2))
        {
            Assert.True(new SegmentIndexWriter(_kit.Store, RecordingTestKit.Key).Write(number)); // each without the one before: sessions going on are partial
        }

        var (rows, notes) = Sessions(All with { Text = RecordedTraffic.AliceSql(RecordedTraffic.Rounds - 1) });
        Assert.Equal($"note: no index for 2 sealed segments ({SegmentFormat.FileName(1)} to {SegmentFormat.FileName(2)}): read them instead (the gateway writes indexes as it seals segments; gatehouse index writes missing ones)", Assert.Single(notes));
        Assert.Equal(expected, rows);
        Assert.StartsWith(traffic.Alice.ToString("N"), rows[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bit flip")]
    [InlineData("from another segment")]
    [InlineData("from another recording")]
    public async Task A_tampered_index_is_rejected_reported_by_verify_and_sessions_reads_the_segment_instead(string tampering)
    {
        await SegmentIndexTests.WriteIndexedAsync(_kit);
        var (before, _) = Sessions(All);
        var path = Path.Combine(_kit.Directory, SegmentIndex.FileName(2));
        var index = tampering switch
        {
            "bit flip" => Flip(File.ReadAllBytes(path), 40),
            "from another segment" => File.ReadAllBytes(Path.Combine(_kit.Directory, SegmentIndex.FileName(3))),
            _ => await FromAnotherRecordingAsync(),
        };
        File.WriteAllBytes(path, index);

        var (after, notes) = Sessions(All);
        Assert.Equal(before, after);
        Assert.Equal($"note: {SegmentIndex.FileName(2)} does not verify: edited, made for another segment or recording, or with another key: read the segment instead", Assert.Single(notes));

        var verified = new StringWriter();
        Assert.Equal(1, VerifyCommand.Run(new DirectoryInfo(_kit.Directory), _keyFile, allowOpen: false, verified, TextWriter.Null));
        var count = _kit.Store.List().Count;
        Assert.Contains($"{SegmentIndex.FileName(2)}  FAILED  does not verify", verified.ToString(), StringComparison.Ordinal);
        Assert.Contains($"all {count} segments intact; 1 of {count} index files FAILED verification", verified.ToString(), StringComparison.Ordinal);

        File.Delete(path); // a missing index is no failure: it is derived, and read around
        verified = new StringWriter();
        Assert.Equal(0, VerifyCommand.Run(new DirectoryInfo(_kit.Directory), _keyFile, allowOpen: false, verified, TextWriter.Null));
        Assert.Contains($"all {count} segments intact, {count - 1} index files verified", verified.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sessions_checks_each_seal_and_link_and_leaves_re_hashing_the_records_to_verify()
    {
        await SegmentIndexTests.WriteIndexedAsync(_kit);
        var (before, _) = Sessions(All);
        var path = _kit.PathOf(2);
        var original = File.ReadAllBytes(path);

        // A bit flipped inside segment 2's records: its seal and its index still verify, so the listing (from the
        // index) stands without reading the records; verify re-hashes them and fails the segment.
        var body = (byte[])original.Clone();
        body[SegmentScan.Read(2, original, RecordingTestKit.Key).Records[1].PayloadOffset] ^= 0x01;
        File.WriteAllBytes(path, body);
        Assert.Equal(before, Sessions(All).Rows);
        var verified = new StringWriter();
        Assert.Equal(1, VerifyCommand.Run(new DirectoryInfo(_kit.Directory), _keyFile, allowOpen: false, verified, TextWriter.Null));
        Assert.Contains($"{SegmentFormat.FileName(2)}  FAILED", verified.ToString(), StringComparison.Ordinal);

        // A bit flipped in the seal itself, and a segment deleted from the middle: sessions warns.
        var seal = (byte[])original.Clone();
        seal[^1] ^= 0x01;
        File.WriteAllBytes(path, seal);
        Assert.Contains($"WARNING: {SegmentFormat.FileName(2)} does not verify (", SessionsText(All), StringComparison.Ordinal);
        File.WriteAllBytes(path, original);
        File.Delete(_kit.PathOf(3));
        Assert.Contains($"WARNING: {SegmentFormat.FileName(4)} does not verify (segment 3 missing before it)", SessionsText(All), StringComparison.Ordinal);
    }

    private string SessionsText(SessionFilter filter)
    {
        var output = new StringWriter();
        Assert.Equal(0, ReplayCommand.Sessions(new DirectoryInfo(_kit.Directory), _keyFile, filter, output, TextWriter.Null));
        return output.ToString();
    }

    private (List<string> Rows, List<string> Notes) Sessions(SessionFilter filter)
    {
        var lines = SessionsText(filter).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.DoesNotContain(lines, l => l.StartsWith("WARNING", StringComparison.Ordinal));
        return ([.. lines.Where(l => !l.StartsWith("note: ", StringComparison.Ordinal))], [.. lines.Where(l => l.StartsWith("note: ", StringComparison.Ordinal))]);
    }

    private static byte[] Flip(byte[] data, int at)
    {
        data[at] ^= 0x01;
        return data;
    }

    private static async Task<byte[]> FromAnotherRecordingAsync()
    {
        using var other = new RecordingTestKit();
        await SegmentIndexTests.WriteIndexedAsync(other);
        return other.Store.ReadIndex(2)!;
    }
}
