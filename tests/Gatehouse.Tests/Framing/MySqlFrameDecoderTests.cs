using System.Buffers;
using Gatehouse.Protocols.MySql;
using Gatehouse.Proxy.Core.Framing;
using static Gatehouse.Fuzz.Support.MySqlMessages;

namespace Gatehouse.Tests.Framing;

/// <summary>
/// <see cref="MySqlFrameDecoder"/> on every prefix and every layout (STYLE 21). The decoder is stateful
/// (sequence ids, the 0xFFFFFF continuation), so each test says which decoder instance sees which headers,
/// and an Incomplete or Invalid answer must leave its state as it was.
/// </summary>
public sealed class MySqlFrameDecoderTests
{
    public static TheoryData<string, string> ClientPackets => new()
    {
        { "COM_QUERY", Convert.ToHexString(Query("select 1")) },
        { "COM_QUERY utf8", Convert.ToHexString(Query("select 'zoë', '数据'")) },
        { "COM_PING", Convert.ToHexString(Ping()) },
        { "COM_QUIT", Convert.ToHexString(Quit()) },
        { "COM_INIT_DB", Convert.ToHexString(InitDb("app")) },
        { "COM_STMT_PREPARE", Convert.ToHexString(StmtPrepare("select ?")) },
        { "COM_STMT_CLOSE", Convert.ToHexString(StmtClose(7)) },
        { "COM_PROCESS_KILL", Convert.ToHexString(ProcessKill(42)) },
        { "COM_QUERY 300 bytes", Convert.ToHexString(Query(new string('x', 300))) },
    };

    public static TheoryData<string, string> ServerPackets => new()
    {
        { "OK", Convert.ToHexString(Packet(1, OkPayload())) },
        { "ERR", Convert.ToHexString(Packet(1, ErrPayload(1146, "42S02", "Table 'app.t' doesn't exist"))) },
        { "column count", Convert.ToHexString(Packet(1, LengthEncoded(3))) },
        { "LOCAL INFILE", Convert.ToHexString(Packet(1, LocalInfilePayload("/etc/passwd"))) },
        { "column definition", Convert.ToHexString(Packet(1, ColumnDefinitionPayload("id"))) },
        { "row starting NULL", Convert.ToHexString(Packet(1, TextRowPayload(null, "x"))) },
    };

    [Theory]
    [MemberData(nameof(ClientPackets))]
    public void Client_header_is_Incomplete_on_every_prefix_shorter_than_5_then_Complete_on_every_longer_one(string name, string hex)
        => EveryPrefix(MySqlFrameDecoder.ForClient, Convert.FromHexString(hex), name);

    [Theory]
    [MemberData(nameof(ServerPackets))]
    public void Server_header_is_Incomplete_on_every_prefix_shorter_than_5_then_Complete_on_every_longer_one(string name, string hex)
        => EveryPrefix(MySqlFrameDecoder.ForServer, Convert.FromHexString(hex), name);

    private static void EveryPrefix(Func<long, MySqlFrameDecoder> create, byte[] packet, string name)
    {
        var expected = new FrameHeader(packet[4], 4, packet.Length, packet[3], false);
        foreach (var factory in SequenceFactory.All)
        {
            // One decoder sees every short prefix and then the whole packet: Incomplete must not move its state.
            var decoder = create(MySqlFrameDecoder.MaxLogicalPacket);
            for (var n = 0; n < 5; n++)
            {
                var status = decoder.TryReadHeader(factory.Create(packet[..n]), out var header, out var error);
                Assert.Equal(FrameStatus.Incomplete, status);
                Assert.Equal(default, header);
                Assert.Null(error);
            }

            for (var n = 5; n <= packet.Length; n++)
            {
                // The header alone decides: the decoder never waits for, or looks at, the rest of the body.
                var status = create(MySqlFrameDecoder.MaxLogicalPacket).TryReadHeader(factory.Create(packet[..n]), out var header, out var error);
                Assert.True(status == FrameStatus.Complete, $"{name} on {factory}, {n} of {packet.Length} bytes: {status} {error}");
                Assert.Equal(expected, header);
                Assert.Equal(packet.Length - 4, header.PayloadLength);
                Assert.Null(error);
            }

            Assert.Equal(FrameStatus.Complete, decoder.TryReadHeader(factory.Create(packet), out var last, out _));
            Assert.Equal(expected, last);
        }
    }

    [Theory]
    [MemberData(nameof(SequenceFactory.Names), MemberType = typeof(SequenceFactory))]
    public void Decodes_a_stream_one_header_at_a_time_on_one_byte_segments_too(string layout)
    {
        byte[][] packets = [Query("select 1"), Ping(), StmtPrepare("select ?"), StmtClose(1), Query("select 2"), Quit()];
        var decoder = MySqlFrameDecoder.ForClient();
        var stream = SequenceFactory.Named(layout).Create(Concat(packets));
        foreach (var packet in packets)
        {
            Assert.Equal(FrameStatus.Complete, decoder.TryReadHeader(stream, out var header, out var error));
            Assert.Null(error);
            Assert.Equal(new FrameHeader(packet[4], 4, packet.Length, 0, false), header);
            stream = stream.Slice(header.TotalLength);
        }

        Assert.True(stream.IsEmpty);
        Assert.Equal(FrameStatus.Incomplete, decoder.TryReadHeader(stream, out _, out _));
    }

    [Fact]
    public void Empty_packet_is_Invalid_from_its_4_header_bytes_alone()
    {
        foreach (var (decoder, sequence) in new[] { (MySqlFrameDecoder.ForClient(), (byte)0), (MySqlFrameDecoder.ForServer(), (byte)1) })
        {
            foreach (var factory in SequenceFactory.All)
            {
                var status = decoder.TryReadHeader(factory.Create(Header(0, sequence)), out var header, out var error);
                Assert.Equal(FrameStatus.Invalid, status);
                Assert.Equal(default, header);
                Assert.Equal("empty packet", error);
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(255)]
    public void Client_command_must_open_with_sequence_0(byte sequence)
    {
        var decoder = MySqlFrameDecoder.ForClient();
        Assert.Equal($"packet out of order: sequence {sequence}", Refused(decoder, Packet(sequence, CommandPayload(0x03, "select 1"))));

        // Refusing left no trace: the next well-numbered command is fine, and so are more of them.
        Assert.Equal(new FrameHeader(0x0E, 4, 5, 0, false), Decoded(decoder, Ping()));
        Assert.Equal(new FrameHeader(0x03, 4, 13, 0, false), Decoded(decoder, Query("select 1")));
        Assert.Equal($"packet out of order: sequence {sequence}", Refused(decoder, Packet(sequence, [0x0E])));
    }

    [Fact]
    public void Server_packets_start_at_1_and_then_count_up_or_start_a_new_response_at_1()
    {
        var decoder = MySqlFrameDecoder.ForServer();
        Assert.Equal("packet out of order: sequence 0", Refused(decoder, Packet(0, OkPayload())));
        Assert.Equal("packet out of order: sequence 2", Refused(decoder, Packet(2, OkPayload())));
        for (var sequence = 1; sequence <= 5; sequence++)
        {
            Assert.Equal((byte)sequence, Decoded(decoder, Packet((byte)sequence, [0x01])).Sequence);
        }

        Assert.Equal("packet out of order: sequence 7", Refused(decoder, Packet(7, [0x01])));
        Assert.Equal("packet out of order: sequence 5", Refused(decoder, Packet(5, [0x01])));
        Assert.Equal("packet out of order: sequence 0", Refused(decoder, Packet(0, [0x01])));
        Assert.Equal(6, Decoded(decoder, Packet(6, [0x01])).Sequence);
        Assert.Equal(1, Decoded(decoder, Packet(1, OkPayload())).Sequence); // the next command's response
        Assert.Equal(2, Decoded(decoder, Packet(2, [0x01])).Sequence);
    }

    [Fact]
    public void Server_sequence_wraps_from_255_to_0()
    {
        var decoder = MySqlFrameDecoder.ForServer();
        for (var i = 1; i <= 300; i++)
        {
            var sequence = (byte)i;
            Assert.Equal(sequence, Decoded(decoder, Packet(sequence, TextRowPayload("r"))).Sequence);
        }

        Assert.Equal("packet out of order: sequence 46", Refused(decoder, Packet(46, [0x01])));
    }

    [Fact]
    public void A_full_packet_is_continued_until_a_shorter_one_including_an_empty_final_continuation()
    {
        foreach (var factory in SequenceFactory.All)
        {
            var decoder = MySqlFrameDecoder.ForClient();

            // The first packet's header and type byte; its 16 MiB body is not needed to decode the header.
            Assert.Equal(new FrameHeader(0x03, 4, 4L + MaxPayload, 0, false), Decoded(decoder, factory, Concat(Header(MaxPayload, 0), [0x03])));

            // A continuation needs only its 4 header bytes (no type byte of its own): it keeps the first packet's type.
            Assert.Equal(FrameStatus.Incomplete, decoder.TryReadHeader(factory.Create(Header(MaxPayload, 1)[..3]), out _, out _));
            Assert.Equal(new FrameHeader(0x03, 4, 4L + MaxPayload, 1, true), Decoded(decoder, factory, Header(MaxPayload, 1)));
            Assert.Equal(new FrameHeader(0x03, 4, 4L, 2, true), Decoded(decoder, factory, Header(0, 2)));

            // The logical packet is over: a new command at 0, and an empty packet is refused again.
            Assert.Equal(new FrameHeader(0x0E, 4, 5, 0, false), Decoded(decoder, factory, Ping()));
            Assert.Equal("empty packet", Refused(decoder, Header(0, 0)));
        }
    }

    [Fact]
    public void A_non_empty_final_continuation_keeps_the_type_even_when_its_first_byte_differs()
    {
        var decoder = MySqlFrameDecoder.ForServer();
        Assert.Equal(new FrameHeader(0x05, 4, 4L + MaxPayload, 1, false), Decoded(decoder, Concat(Header(MaxPayload, 1), [0x05])));
        Assert.Equal(new FrameHeader(0x05, 4, 4L + 7, 2, true), Decoded(decoder, Packet(2, [0xFE, 0, 0, 2, 0, 0, 0])));
        Assert.Equal(new FrameHeader(0xFE, 4, 4L + 7, 3, false), Decoded(decoder, Packet(3, EofOkPayload())));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(255)]
    public void A_continuation_must_be_the_previous_sequence_plus_1(byte sequence)
    {
        var decoder = MySqlFrameDecoder.ForClient();
        Decoded(decoder, Concat(Header(MaxPayload, 0), [0x03]));
        Assert.Equal($"packet out of order: sequence {sequence} after 0", Refused(decoder, Header(5, sequence)));
        Assert.Equal($"packet out of order: sequence {sequence} after 0", Refused(decoder, Header(0, sequence)));

        // The refusal left the continuation expected.
        Assert.True(Decoded(decoder, Header(0, 1)).Continuation);
    }

    [Fact]
    public void Continuation_sequence_wraps_like_any_other()
    {
        var decoder = MySqlFrameDecoder.ForServer(maxLogical: long.MaxValue);
        for (var i = 1; i < 255; i++)
        {
            Decoded(decoder, Packet((byte)i, [0x01]));
        }

        Decoded(decoder, Concat(Header(MaxPayload, 255), [0x01]));
        Assert.Equal(new FrameHeader(0x01, 4, 4L + MaxPayload, 0, true), Decoded(decoder, Header(MaxPayload, 0)));
        Assert.Equal(new FrameHeader(0x01, 4, 4L + 3, 1, true), Decoded(decoder, Header(3, 1)));
    }

    [Fact]
    public void A_packet_longer_than_a_small_cap_is_Invalid_and_one_at_the_cap_is_Complete()
    {
        Assert.Equal("packet of more than 100 bytes", Refused(MySqlFrameDecoder.ForClient(maxLogical: 100), Packet(0, CommandPayload(0x03, new string('x', 100)))));
        Assert.Equal(104, Decoded(MySqlFrameDecoder.ForClient(maxLogical: 100), Packet(0, CommandPayload(0x03, new string('x', 99)))).TotalLength);
        Assert.Equal("packet of more than 5 bytes", Refused(MySqlFrameDecoder.ForServer(maxLogical: 5), Concat(Header(MaxPayload, 1), [0x00])));
    }

    [Fact]
    public void The_reassembled_total_is_capped_across_continuations()
    {
        const long cap = 2L * MaxPayload + 10;
        var decoder = MySqlFrameDecoder.ForClient(maxLogical: cap);
        Decoded(decoder, Concat(Header(MaxPayload, 0), [0x03]));
        Decoded(decoder, Header(MaxPayload, 1));
        Assert.Equal($"packet of more than {cap} bytes", Refused(decoder, Header(11, 2)));
        Assert.Equal(4 + 10, Decoded(decoder, Header(10, 2)).TotalLength); // exactly at the cap

        // The cap is per logical packet: the next command starts from zero.
        var next = Decoded(decoder, Concat(Header(MaxPayload, 0), [0x03]));
        Assert.False(next.Continuation);
    }

    [Fact]
    public void The_default_cap_is_1_GiB_reached_by_the_65th_full_packet()
    {
        var decoder = MySqlFrameDecoder.ForServer();
        Decoded(decoder, Concat(Header(MaxPayload, 1), [0x01]));
        for (var i = 2; i <= 64; i++)
        {
            Assert.True(Decoded(decoder, Header(MaxPayload, (byte)i)).Continuation);
        }

        // 64 × 0xFFFFFF is 64 bytes under 1 GiB: a 64-byte final packet fits, one more does not.
        Assert.Equal($"packet of more than {1L << 30} bytes", Refused(decoder, Header(MaxPayload, 65)));
        Assert.Equal($"packet of more than {1L << 30} bytes", Refused(decoder, Header(65, 65)));
        Assert.Equal(4 + 64, Decoded(decoder, Header(64, 65)).TotalLength);
    }

    [Fact]
    public void Four_header_bytes_of_a_new_packet_are_Incomplete_until_the_type_byte_arrives()
    {
        var decoder = MySqlFrameDecoder.ForClient();
        Assert.Equal(FrameStatus.Incomplete, decoder.TryReadHeader(new ReadOnlySequence<byte>(Header(1, 0)), out _, out _));
        Assert.Equal(new FrameHeader(0x0E, 4, 5, 0, false), Decoded(decoder, Ping()));
    }

    internal static FrameHeader Decoded(MySqlFrameDecoder decoder, byte[] bytes) => Decoded(decoder, SequenceFactory.Array, bytes);

    internal static FrameHeader Decoded(MySqlFrameDecoder decoder, SequenceFactory factory, byte[] bytes)
    {
        var status = decoder.TryReadHeader(factory.Create(bytes), out var header, out var error);
        Assert.True(status == FrameStatus.Complete, $"{Convert.ToHexString(bytes[..Math.Min(bytes.Length, 16)])} on {factory}: {status} {error}");
        Assert.Null(error);
        return header;
    }

    internal static string? Refused(MySqlFrameDecoder decoder, byte[] bytes)
    {
        var status = decoder.TryReadHeader(new ReadOnlySequence<byte>(bytes), out var header, out var error);
        Assert.Equal(FrameStatus.Invalid, status);
        Assert.Equal(default, header);
        Assert.NotNull(error);
        return error;
    }
}
