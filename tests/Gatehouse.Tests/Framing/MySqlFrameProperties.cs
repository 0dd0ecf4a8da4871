using System.Buffers;
using System.IO.Pipelines;
using FsCheck;
using FsCheck.Fluent;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.MySql;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Relay;
using static Gatehouse.Fuzz.Support.MySqlMessages;

namespace Gatehouse.Tests.Framing;

/// <summary>
/// <see cref="MySqlFrameDecoder"/>'s invariants as FsCheck properties (STYLE 21): for any stream of valid
/// packets, any layout and any arrival order give the same headers, and a pass-through
/// <see cref="FrameRelay"/> (or one with <see cref="MySqlSessionRewriter"/> on streams it has no reason to
/// touch) gives back exactly its input. 16 MiB packets are too big for a generator; the facts at the end
/// relay them under several deliveries.
/// </summary>
public sealed class MySqlFrameProperties
{
    private static readonly FsCheck.Config Config = FsCheck.Config.QuickThrowOnFailure.WithMaxTest(150);

    private static readonly Gen<string> Text = Gen.Elements("select 1", "select * from customers where id = 1", "zoë", "数据", "x\ty\n",
        "set names utf8mb4", "/* skill */ select 'skilled'", new string('q', 300), "");

    private static readonly Gen<byte[]> RandomBytes = Gen.Choose(0, 600).SelectMany(n => Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), n));

    /// <summary>Payloads of commands the session rewriter lets through untouched (no KILL, nothing refused).</summary>
    private static readonly Gen<byte[]> AllowedCommand = Gen.OneOf(
        Text.Select(t => CommandPayload(0x03, t)),
        Text.Select(t => CommandPayload(0x16, t)),
        Gen.Elements<byte[]>([0x0E], [0x09], [0x1F], [0x1A, 1, 0, 0, 0], [0x19, 2, 0, 0, 0], CommandPayload(0x02, "app")),
        RandomBytes.Select(b => (byte[])[0x17, .. b]));

    /// <summary>Any non-empty payload: the decoder does not care what a command is.</summary>
    private static readonly Gen<byte[]> AnyCommand = Gen.OneOf(AllowedCommand, Gen.Zip(ArbMap.Default.GeneratorFor<byte>(), RandomBytes).Select(t => (byte[])[t.Item1, .. t.Item2]));

    private static readonly Gen<byte[]> ServerPayload = Gen.OneOf(
        Gen.Constant(OkPayload()),
        Text.Select(t => ErrPayload(1064, "42000", t)),
        Gen.Choose(1, 4).Select(n => LengthEncoded((ulong)n)),
        Text.Select(ColumnDefinitionPayload),
        Gen.Zip(Text, Text).Select(t => TextRowPayload(t.Item1, t.Item2)),
        Text.Select(t => TextRowPayload(null, t)), // a row whose first byte is 0xFB (NULL)
        Gen.Constant(EofOkPayload()),
        RandomBytes.Where(b => b.Length > 0));

    /// <summary>One response: mostly short, sometimes long enough for the sequence id to wrap.</summary>
    private static readonly Gen<byte[][]> ServerResponse = Gen.Frequency(
        (8, Gen.Choose(1, 8).SelectMany(n => Gen.ArrayOf(ServerPayload, n))),
        (1, Gen.Choose(250, 300).Select(n => Enumerable.Range(0, n).Select(i => TextRowPayload(i.ToString(System.Globalization.CultureInfo.InvariantCulture))).ToArray())));

    // Protocol-valid answers (DEPRECATE_EOF): OK, ERR, or result sets whose rows often start with NULL (0xFB),
    // some with more results following, some long enough for the sequence id to wrap past 1.
    private static readonly byte[] OkPayload = [0x00, 0, 0, 0x02, 0, 0, 0];
    private static readonly byte[] MoreOkPayload = [0x00, 0, 0, 0x0A, 0, 0, 0];
    private static readonly byte[] ErrPayload = [0xFF, 0x28, 0x04, (byte)'#', (byte)'4', (byte)'2', (byte)'0', (byte)'0', (byte)'0', (byte)'x'];
    private static readonly byte[] Terminator = [0xFE, 0, 0, 0x02, 0, 0, 0];
    private static readonly byte[] MoreTerminator = [0xFE, 0, 0, 0x0A, 0, 0, 0];
    private static readonly byte[] ColumnDefinition = [3, (byte)'d', (byte)'e', (byte)'f', 0, 0, 0, 1, (byte)'c', 1, (byte)'c', 0x0C, 0x2D, 0, 0, 1, 0, 0, 0xFD, 0, 0, 0, 0, 0];

    private static readonly Gen<byte[]> Row = Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(
            Gen.OneOf(Gen.Constant(new byte[] { 0xFB }), Gen.Choose(0, 20).Select(len => new[] { (byte)len }.Concat(Enumerable.Repeat((byte)'q', len)).ToArray())), n))
        .Select(cells => cells.SelectMany(c => c).ToArray());

    private static Gen<byte[][]> ResultSet(bool more) => Gen.Choose(1, 3).SelectMany(columns => Gen.Choose(0, 300).SelectMany(rows => Gen.ArrayOf(Row, rows)
        .Select(r => new[] { new[] { (byte)columns } }.Concat(Enumerable.Repeat(ColumnDefinition, columns)).Concat(r).Append(more ? MoreTerminator : Terminator).ToArray())));

    private static readonly Gen<byte[][]> ValidServerResponse = Gen.Frequency(
        (2, Gen.Constant(new[] { OkPayload })),
        (1, Gen.Constant(new[] { ErrPayload })),
        (4, ResultSet(false)),
        (2, ResultSet(true).SelectMany(first => ResultSet(false).Select(second => first.Concat(second).ToArray()))),
        (1, Gen.Constant(new[] { MoreOkPayload, OkPayload })));

    /// <summary>How the stream is delivered: write sizes (cycled), a segment size (0: the pipe's default), inline or thread-pool scheduling.</summary>
    private static readonly Gen<(int[] Writes, int Block, bool Inline)> Delivery = FrameRelayProperties.Zip(
        Gen.Choose(1, 8).SelectMany(n => Gen.ArrayOf(Gen.OneOf(Gen.Choose(1, 7), Gen.Choose(1, 200), Gen.Choose(1, 70_000)), n)),
        Gen.Elements(0, 1, 2, 3, 4, 5, 16, 4096),
        Gen.Elements(true, true, true, false));

    private static Gen<byte[][]> ClientStream(Gen<byte[]> commands)
        => Gen.Choose(0, 25).SelectMany(n => Gen.ArrayOf(commands, n)).Select(p => p.Select(c => Packet(0, c)).ToArray());

    private static readonly Gen<byte[][]> ServerStream
        = Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(ServerResponse, n)).Select(r => r.SelectMany(Numbered).ToArray());

    private static IEnumerable<byte[]> Numbered(byte[][] response) => response.Select((p, i) => Packet((byte)(i + 1), p));

    private static MySqlFrameDecoder Decoder(Direction direction)
        => direction == Direction.ClientToUpstream ? MySqlFrameDecoder.ForClient() : MySqlFrameDecoder.ForServer();

    private static Gen<byte[][]> Stream(Direction direction) => direction == Direction.ClientToUpstream ? ClientStream(AnyCommand) : ServerStream;

    private static FrameHeader Expected(byte[] packet) => new(packet[4], 4, packet.Length, packet[3], false);

    [Theory]
    [InlineData(Direction.ClientToUpstream)]
    [InlineData(Direction.UpstreamToClient)]
    public void Any_layout_and_arrival_order_yield_the_same_headers(Direction direction)
    {
        // The stream is cut into segments at random places (empty segments too), and it arrives in random
        // pieces: the decoder is offered everything from the current packet's start to what has arrived,
        // exactly as the relay does, so it sees the same packet many times as Incomplete before it is whole.
        var layout = Gen.Choose(1, 30).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 9), n));
        Check.One(Config, Prop.ForAll(Gen.Zip(Stream(direction), Gen.Zip(layout, layout)).ToArbitrary(), t =>
        {
            var (packets, (segments, arrivals)) = t;
            var bytes = Concat(packets);
            var sizes = Cut(bytes.Length, segments);
            var whole = SequenceFactory.FromSegments(bytes, sizes);
            var decoder = Decoder(direction);
            var headers = new List<FrameHeader>();
            long start = 0;
            long arrived = 0;
            var piece = 0;
            while (start < bytes.Length)
            {
                arrived = Math.Min(bytes.Length, arrived + arrivals[piece++ % arrivals.Length] + 1);
                while (start < arrived)
                {
                    var status = decoder.TryReadHeader(whole.Slice(start, arrived - start), out var header, out var error);
                    Assert.NotEqual(FrameStatus.Invalid, status);
                    Assert.Null(error);
                    if (status == FrameStatus.Incomplete)
                    {
                        Assert.True(arrived - start < 5, $"Incomplete with {arrived - start} bytes");
                        break;
                    }

                    // The body streams: the next header is decoded once the bytes after this packet arrive.
                    headers.Add(header);
                    start += header.TotalLength;
                }
            }

            Assert.Equal(packets.Select(Expected), headers);
        }));
    }

    [Theory]
    [InlineData(Direction.ClientToUpstream)]
    [InlineData(Direction.UpstreamToClient)]
    public void Pass_through_relay_output_is_byte_identical_for_any_segmentation(Direction direction)
    {
        Check.One(Config, Prop.ForAll(Gen.Zip(Stream(direction), Delivery).ToArbitrary(), t =>
        {
            var (packets, delivery) = t;
            var input = Concat(packets);
            var run = Relay(direction, PassThroughRewriter.Instance, input, delivery);
            Assert.Equal(new RelayOutcome(Closed(direction), direction), run.Outcome);
            Assert.Equal(input, run.Output);
            Assert.Equal(input.Length, run.Bytes);
            Assert.Equal(packets.Length, run.Frames);
            Assert.Empty(run.Reply);
            Assert.Equal(0, run.LeakedBlocks);
        }));
    }

    [Theory]
    [InlineData(Direction.ClientToUpstream)]
    [InlineData(Direction.UpstreamToClient)]
    public void Any_segmentation_yields_the_same_frames_to_a_rewriter_that_inspects_everything(Direction direction)
    {
        Check.One(Config, Prop.ForAll(Gen.Zip(Stream(direction), Delivery).ToArbitrary(), t =>
        {
            var (packets, delivery) = t;
            var rewriter = new MySqlRecordingRewriter();
            var run = Relay(direction, rewriter, Concat(packets), delivery);
            Assert.Equal(new RelayOutcome(Closed(direction), direction), run.Outcome);
            Assert.Equal(packets.Select(Expected), rewriter.Headers);
            Assert.Equal(packets, rewriter.Frames.Select(f => f.Bytes));
            Assert.Equal(Concat(packets), run.Output);
        }));
    }

    [Fact]
    public void Session_rewriter_passes_allowed_commands_byte_identical()
    {
        Check.One(Config, Prop.ForAll(Gen.Zip(ClientStream(AllowedCommand), Delivery).ToArbitrary(), t =>
        {
            var input = Concat(t.Item1);
            var run = Relay(Direction.ClientToUpstream, new MySqlSessionRewriter(new MySqlConnectionRegistry(), "alice", "db"), input, t.Item2);
            Assert.Equal(new RelayOutcome(SessionEndReason.ClientClosed, Direction.ClientToUpstream), run.Outcome);
            Assert.Equal(input, run.Output);
            Assert.Empty(run.Reply);
        }));
    }

    [Fact]
    public void Session_rewriter_passes_server_responses_byte_identical_when_no_response_opens_with_0xFB()
    {
        // Rows starting with NULL (0xFB) are everywhere in these responses; only the first packet of a
        // response to a command may be read as a LOCAL INFILE request.
        var responses = Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(ValidServerResponse, n));
        Check.One(Config, Prop.ForAll(Gen.Zip(responses, Delivery).ToArbitrary(), t =>
        {
            var (stream, delivery) = t;
            var rewriter = new MySqlSessionRewriter(new MySqlConnectionRegistry(), "alice", "db");
            foreach (var _ in stream)
            {
                Assert.Equal(FrameInterest.Pass, rewriter.OnHeader(Direction.ClientToUpstream, new FrameHeader(0x0E, 4, 5)));
            }

            var input = Concat([.. stream.SelectMany(Numbered)]);
            var run = Relay(Direction.UpstreamToClient, rewriter, input, delivery);
            Assert.Equal(new RelayOutcome(SessionEndReason.UpstreamClosed, Direction.UpstreamToClient), run.Outcome);
            Assert.Equal(input, run.Output);
            Assert.True(rewriter.IsIdle || stream.Length == 0 || input.Length == 0);
        }));
    }

    public static TheoryData<int, int, int> LargeDeliveries => new()
    {
        { int.MaxValue, 0, 0 }, // one write
        { 65536, 0, 1 },
        { 4099, 4096, 2 },
        { 1 << 20, 13, 3 },
    };

    [Theory]
    [MemberData(nameof(LargeDeliveries))]
    public void Continued_packets_relay_byte_identical_and_the_decoder_reports_each_part(int write, int block, int shape)
    {
        // Exactly 0xFFFFFF (a full packet and an empty continuation), just over (a 1-byte continuation), two
        // full packets and a short one, and a server row split the same way.
        var (direction, logical) = shape switch
        {
            0 => (Direction.ClientToUpstream, new[] { Logical(0, Filled(0x03, MaxPayload)), Query("select 1") }),
            1 => (Direction.ClientToUpstream, new[] { Ping(), Logical(0, Filled(0x03, MaxPayload + 1)), Ping() }),
            2 => (Direction.ClientToUpstream, new[] { Logical(0, Filled(0x16, (2 * MaxPayload) + 5)) }),
            _ => (Direction.UpstreamToClient, new[] { Packet(1, LengthEncoded(1)), Packet(2, ColumnDefinitionPayload("big")), Logical(3, Filled(0xFC, MaxPayload + 3)), Packet(5, EofOkPayload()) }),
        };
        var input = Concat(logical);
        var rewriter = new MySqlRecordingRewriter(h => h.TotalLength < 100);
        var run = InMemoryRelay.RunAsync(direction, Decoder(direction), rewriter, new RelayLimits(), input, Chunks(input.Length, [write]), block)
            .GetAwaiter().GetResult();
        Assert.Equal(new RelayOutcome(Closed(direction), direction), run.Outcome);
        Assert.True(input.AsSpan().SequenceEqual(run.Output), "output differs from input");
        Assert.Equal(0, run.LeakedBlocks);

        var expected = new List<FrameHeader>();
        for (var at = 0; at < input.Length;)
        {
            var length = input[at] | (input[at + 1] << 8) | (input[at + 2] << 16);
            var continuation = expected.Count > 0 && expected[^1].PayloadLength == MaxPayload;
            expected.Add(new FrameHeader(continuation ? expected[^1].Type : input[at + 4], 4, 4L + length, input[at + 3], continuation));
            at += 4 + length;
        }

        Assert.Equal(expected, rewriter.Headers);
        Assert.Equal(expected.Count, run.Frames);
        Assert.Contains(expected, h => h.Continuation);
    }

    [Fact]
    public void Session_rewriter_passes_a_continued_query_byte_identical_with_the_listeners_inspection_limit()
    {
        var input = Concat(Logical(0, Filled(0x03, MaxPayload, "SELECT 1 /*", "*/")), Ping());
        var limits = new RelayLimits { MaxInspectedFrame = MySqlFrameDecoder.MaxPayload + 4L };
        var run = InMemoryRelay.RunAsync(Direction.ClientToUpstream, MySqlFrameDecoder.ForClient(), new MySqlSessionRewriter(new MySqlConnectionRegistry(), "alice", "db"),
            limits, input, Chunks(input.Length, [65536]), 0).GetAwaiter().GetResult();
        Assert.Equal(new RelayOutcome(SessionEndReason.ClientClosed, Direction.ClientToUpstream), run.Outcome);
        Assert.True(input.AsSpan().SequenceEqual(run.Output));
        Assert.Equal(3, run.Frames);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(int.MaxValue)]
    public void Relay_ends_at_a_packet_over_the_cap_after_forwarding_the_ones_before(int write)
    {
        var before = Concat(Query("select 1"), Ping());
        var input = Concat(before, Query(new string('x', 200)), Ping());
        var run = InMemoryRelay.RunAsync(Direction.ClientToUpstream, MySqlFrameDecoder.ForClient(maxLogical: 100), PassThroughRewriter.Instance, new RelayLimits(),
            input, Chunks(input.Length, [write]), 0).GetAwaiter().GetResult();
        Assert.Equal(new RelayOutcome(SessionEndReason.ProtocolViolation, Direction.ClientToUpstream, "packet of more than 100 bytes"), run.Outcome);
        Assert.Equal(before, run.Output);
        Assert.Equal(2, run.Frames);
    }

    [Theory]
    [InlineData(1 << 20)]
    [InlineData(int.MaxValue)]
    public void Relay_ends_at_a_continuation_out_of_order_after_streaming_the_full_packet(int write)
    {
        var first = Packet(0, Filled(0x03, MaxPayload));
        var input = Concat(first, Packet(7, "*/"u8));
        var run = InMemoryRelay.RunAsync(Direction.ClientToUpstream, MySqlFrameDecoder.ForClient(), PassThroughRewriter.Instance, new RelayLimits(),
            input, Chunks(input.Length, [write]), 0).GetAwaiter().GetResult();
        Assert.Equal(new RelayOutcome(SessionEndReason.ProtocolViolation, Direction.ClientToUpstream, "packet out of order: sequence 7 after 0"), run.Outcome);
        Assert.Equal(first.Length, run.Output.Length);
        Assert.Equal(1, run.Frames);
    }

    private static SessionEndReason Closed(Direction direction)
        => direction == Direction.ClientToUpstream ? SessionEndReason.ClientClosed : SessionEndReason.UpstreamClosed;

    private static RelayRun Relay(Direction direction, IFrameRewriter rewriter, byte[] input, (int[] Writes, int Block, bool Inline) delivery)
        => InMemoryRelay.RunAsync(direction, Decoder(direction), rewriter, new RelayLimits(), input, Chunks(input.Length, delivery.Writes), delivery.Block,
            delivery.Inline ? PipeScheduler.Inline : PipeScheduler.ThreadPool, TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();

    private static int[] Chunks(int length, int[] writes)
    {
        var chunks = new List<int>();
        for (int at = 0, i = 0; at < length; i++)
        {
            var size = Math.Min(writes[i % writes.Length], length - at);
            chunks.Add(size);
            at += size;
        }

        return [.. chunks];
    }

    /// <summary>Segment sizes (cycled from <paramref name="pattern"/>, zeros allowed) covering <paramref name="length"/> bytes.</summary>
    private static int[] Cut(int length, int[] pattern)
    {
        var sizes = new List<int>();
        for (int at = 0, i = 0; at < length; i++)
        {
            var size = Math.Min(pattern[i % pattern.Length], length - at);
            sizes.Add(size);
            at += size;
            if (sizes.Count > 4 * length + 8)
            {
                sizes.Add(length - at); // a pattern of zeros: finish in one piece
                break;
            }
        }

        return [.. sizes];
    }

    /// <summary>A payload of <paramref name="length"/> bytes: the type byte, <paramref name="head"/>, spaces, <paramref name="tail"/>.</summary>
    internal static byte[] Filled(byte type, int length, string head = "", string tail = "")
    {
        var payload = new byte[length];
        payload.AsSpan().Fill((byte)' ');
        payload[0] = type;
        System.Text.Encoding.ASCII.GetBytes(head).CopyTo(payload, 1);
        System.Text.Encoding.ASCII.GetBytes(tail).CopyTo(payload, length - tail.Length);
        return payload;
    }

    /// <summary>
    /// Records every header offered and every whole frame seen, passing all. Unlike <see cref="RecordingRewriter"/>
    /// it knows a MySQL frame starts with its length, so it checks the sequence byte and (except in a
    /// continuation, which has none of its own) the type byte at offset 4.
    /// </summary>
    private sealed class MySqlRecordingRewriter(Func<FrameHeader, bool>? inspect = null) : IFrameRewriter
    {
        public List<FrameHeader> Headers { get; } = [];

        public List<(byte Type, byte[] Bytes)> Frames { get; } = [];

        public FrameInterest OnHeader(Direction direction, in FrameHeader header)
        {
            Headers.Add(header);
            return inspect is null || inspect(header) ? FrameInterest.Inspect : FrameInterest.Pass;
        }

        public RewriteDecision OnFrame(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context)
        {
            var bytes = frame.ToArray();
            Assert.Equal(header.TotalLength, bytes.Length);
            Assert.Equal(header.PayloadLength, bytes[0] | (bytes[1] << 8) | (bytes[2] << 16));
            Assert.Equal(header.Sequence, bytes[3]);
            if (!header.Continuation)
            {
                Assert.Equal(header.Type, bytes[4]);
            }

            Frames.Add((header.Type, bytes));
            return RewriteDecision.Pass;
        }
    }
}
