using System.Buffers.Binary;
using System.Text;
using Gatehouse.Host.Recording;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Tests.Recording;

/// <summary>
/// The tamper suite: every kind of edit to a recording that issue 6 names is found by the verifier — a flipped
/// bit anywhere, a record deleted, inserted or moved, the last segment cut at every byte, a segment deleted or
/// swapped, segments deleted from the end, and segments re-sealed with another key.
/// </summary>
public sealed class SegmentTamperTests : IDisposable
{
    private readonly RecordingTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public void An_untouched_recording_verifies_and_keeps_every_record_in_order()
    {
        var written = _kit.Fill(120);
        var verdicts = _kit.Verify();
        Assert.True(verdicts.Count >= 4, $"{verdicts.Count} segments");
        Assert.All(verdicts, v => Assert.True(v.Ok, v.Message));
        Assert.Equal(written, _kit.Statements());
    }

    [Fact]
    public void Crc32c_matches_the_standard_check_value() => Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));

    [Fact]
    public void A_flipped_bit_at_any_byte_of_a_segment_is_found()
    {
        _kit.Fill(60);
        var number = _kit.Store.List()[1];
        var original = File.ReadAllBytes(_kit.PathOf(number));
        for (var at = 0; at < original.Length; at++)
        {
            var damaged = (byte[])original.Clone();
            damaged[at] ^= (byte)(1 << (at % 8));
            File.WriteAllBytes(_kit.PathOf(number), damaged);
            Assert.False(_kit.Verify().Single(v => v.Number == number).Ok, $"a flipped bit at byte {at} went unnoticed");
        }
    }

    [Fact]
    public void Cutting_the_last_segment_at_any_byte_is_found()
    {
        _kit.Fill(60);
        var last = _kit.Store.List()[^1];
        var original = File.ReadAllBytes(_kit.PathOf(last));
        for (var length = 0; length < original.Length; length++)
        {
            File.WriteAllBytes(_kit.PathOf(last), original[..length]);
            Assert.False(_kit.Verify().Single(v => v.Number == last).Ok, $"the last segment cut to {length} of {original.Length} bytes went unnoticed");
        }
    }

    [Theory]
    [InlineData("delete")]
    [InlineData("insert")]
    [InlineData("reorder")]
    public void Deleting_inserting_or_reordering_whole_records_breaks_the_chain(string edit)
    {
        _kit.Fill(60);
        var number = _kit.Store.List()[1];
        var data = File.ReadAllBytes(_kit.PathOf(number));
        var records = SegmentScan.Read(number, data, RecordingTestKit.Key).Records;
        var a = records[2];
        var b = records[3];
        byte[] Bytes(SegmentRecord r) => data[r.Offset..r.End];
        byte[] edited = edit switch
        {
            "delete" => [.. data[..a.Offset], .. data[a.End..]],
            "insert" => [.. data[..a.End], .. Bytes(a), .. data[a.End..]],
            _ => [.. data[..a.Offset], .. Bytes(b), .. Bytes(a), .. data[b.End..]],
        };
        File.WriteAllBytes(_kit.PathOf(number), edited);
        var verdict = _kit.Verify().Single(v => v.Number == number);
        Assert.False(verdict.Ok);
        Assert.Contains("hash chain", verdict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_indexer_refuses_a_deleted_record_or_another_key_and_leaves_a_rewritten_record_to_verify()
    {
        _kit.Fill(60);
        var number = _kit.Store.List()[1];
        var data = File.ReadAllBytes(_kit.PathOf(number));
        var a = SegmentScan.Read(number, data, RecordingTestKit.Key).Records[2];
        bool Indexes(byte[] bytes, byte[]? key = null)
        {
            File.WriteAllBytes(_kit.PathOf(number), bytes);
            return new SegmentIndexWriter(_kit.Store, key ?? RecordingTestKit.Key).Write(number);
        }

        // The indexer checks the seal by the segment's two ends and walks its records without hashing them
        // again: a record deleted (the count the seal states) and a seal made with another key are refused ...
        Assert.False(Indexes([.. data[..a.Offset], .. data[a.End..]]));
        Assert.False(Indexes(data, new byte[32]));
        Assert.True(Indexes(data));

        // ... while a record rewritten with a fresh CRC passes and is left to verify, which recomputes the chain.
        var rewritten = (byte[])data.Clone();
        var header = a.Header;
        var payload = rewritten.AsSpan(a.PayloadOffset, (int)header.Length).ToArray();
        payload[0] ^= 0x01;
        RecordHeader.Write(rewritten.AsSpan(a.Offset), header.Kind, header.Direction, header.Session, header.TimestampMicros, payload);
        Assert.True(Indexes(rewritten));
        var verdict = _kit.Verify().Single(v => v.Number == number);
        Assert.False(verdict.Ok);
        Assert.Contains("hash chain", verdict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_deleted_middle_segment_is_found()
    {
        _kit.Fill(60);
        var numbers = _kit.Store.List();
        File.Delete(_kit.PathOf(numbers[1]));
        var verdict = _kit.Verify().Single(v => v.Number == numbers[2]);
        Assert.False(verdict.Ok);
        Assert.Contains($"segment {numbers[1]} missing", verdict.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_deleted_first_segment_is_found()
    {
        _kit.Fill(60);
        File.Delete(_kit.PathOf(1));
        Assert.Contains("segments 1 to 1 are missing", _kit.Verify()[0].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Segments_deleted_from_the_end_are_found_through_the_head()
    {
        _kit.Fill(60);
        var numbers = _kit.Store.List();
        File.Delete(_kit.PathOf(numbers[^1]));
        var verdicts = _kit.Verify();
        Assert.False(verdicts[^1].Ok);
        Assert.Contains("HEAD names segment", verdicts[^1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Swapped_segments_are_found()
    {
        _kit.Fill(60);
        var numbers = _kit.Store.List();
        File.Move(_kit.PathOf(numbers[1]), _kit.PathOf(numbers[1]) + ".tmp");
        File.Move(_kit.PathOf(numbers[2]), _kit.PathOf(numbers[1]));
        File.Move(_kit.PathOf(numbers[1]) + ".tmp", _kit.PathOf(numbers[2]));
        var verdicts = _kit.Verify();
        Assert.False(verdicts.Single(v => v.Number == numbers[1]).Ok);
        Assert.False(verdicts.Single(v => v.Number == numbers[2]).Ok);
    }

    [Fact]
    public void A_segment_replaced_by_one_with_the_same_number_from_another_recording_is_found()
    {
        _kit.Fill(60);
        using var other = new RecordingTestKit();
        other.Fill(60);
        File.Copy(other.PathOf(2), _kit.PathOf(2), overwrite: true);
        var verdicts = _kit.Verify();
        Assert.False(verdicts.Single(v => v.Number == 3).Ok); // its link to segment 2's seal no longer matches
    }

    [Fact]
    public void Segments_resealed_with_another_key_do_not_verify()
    {
        var forger = Encoding.ASCII.GetBytes("somebody else's key, also long enough");
        _kit.Fill(60, key: forger);
        var verdicts = _kit.Verify();
        Assert.All(verdicts, v => Assert.False(v.Ok));
        Assert.Contains("does not verify with this key", verdicts[0].Message, StringComparison.Ordinal);
        Assert.All(_kit.Verify(key: forger), v => Assert.True(v.Ok, v.Message));
    }

    [Fact]
    public void An_old_head_file_put_back_is_found()
    {
        using (var writer = new SegmentWriter(_kit.Store, RecordingTestKit.Key, RecordingTestKit.Small, TimeProvider.System))
        {
            writer.Open();
            writer.Append(RecordKind.Statement, RecordDirection.ClientToUpstream, Guid.NewGuid(), "first"u8);
            writer.Close();
        }

        var oldHead = File.ReadAllBytes(Path.Combine(_kit.Directory, SegmentHead.FileName));
        _kit.Fill(30);
        File.WriteAllBytes(Path.Combine(_kit.Directory, SegmentHead.FileName), oldHead);
        Assert.False(_kit.Verify()[^1].Ok);
    }

    [Fact]
    public void Record_headers_round_trip_and_reject_a_length_past_the_cap()
    {
        var buffer = new byte[RecordHeader.Size + 5];
        var session = Guid.NewGuid();
        RecordHeader.Write(buffer, RecordKind.Result, RecordDirection.UpstreamToClient, session, 1234567, "hello"u8);
        Assert.True(RecordHeader.TryRead(buffer, out var header, out _));
        Assert.Equal(new RecordHeader(5, RecordKind.Result, RecordDirection.UpstreamToClient, session, 1234567), header);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer, RecordHeader.MaxPayload + 1u);
        Assert.False(RecordHeader.TryRead(buffer, out _, out var problem));
        Assert.Contains("exceeds", problem, StringComparison.Ordinal);
    }
}
