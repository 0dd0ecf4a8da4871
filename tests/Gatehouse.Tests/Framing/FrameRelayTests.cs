using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Relay;
using static Gatehouse.Fuzz.Support.PgMessages;

namespace Gatehouse.Tests.Framing;

/// <summary>FrameRelay end to end over in-memory pipes: violations, rewrites, holds and streaming.</summary>
public sealed class FrameRelayTests
{
    private static readonly RelayLimits Limits = new();
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static Task<RelayRun> RelayAsync(Direction direction, IFrameRewriter rewriter, byte[] input, int chunk = int.MaxValue, int blockSize = 0)
    {
        var decoder = direction == Direction.ClientToUpstream ? PgFrameDecoder.ForFrontend(4096) : PgFrameDecoder.Backend;
        var chunks = new List<int>();
        for (var at = 0; at < input.Length; at += chunk)
        {
            chunks.Add(Math.Min(chunk, input.Length - at));
        }

        return InMemoryRelay.RunAsync(direction, decoder, rewriter, Limits, input, chunks, blockSize);
    }

    public static TheoryData<string, string> InvalidFrames => new()
    {
        { Convert.ToHexString(WithLength('Q', 3)), "invalid length 3 for message type 'Q'" },
        { Convert.ToHexString(WithLength('Q', -1)), "invalid length -1 for message type 'Q'" },
        { Convert.ToHexString(WithLength('Q', int.MaxValue)), $"invalid length {int.MaxValue} for message type 'Q'" },
        { Convert.ToHexString(WithLength('Q', 4097)), "invalid length 4097 for message type 'Q'" },
        { Convert.ToHexString(WithLength('S', 5, [0])), "invalid length 5 for message type 'S'" },
        { Convert.ToHexString(Typed('p', "password\0"u8)), "unexpected message type 0x70" },
        { Convert.ToHexString(Typed('\0', [])), "unexpected message type 0x00" },
    };

    [Theory]
    [MemberData(nameof(InvalidFrames))]
    public async Task Invalid_frame_ends_with_ProtocolViolation_after_forwarding_the_frames_before_it(string invalidHex, string detail)
    {
        var before = Concat(Query("select 1"), Sync(), Parse("", "select 2"), Bind("", ""), Execute("", 0), Sync());
        var input = Concat(before, Convert.FromHexString(invalidHex), Query("never forwarded"), Sync());
        foreach (var chunk in new[] { 1, 3, 7, input.Length })
        {
            var run = await RelayAsync(Direction.ClientToUpstream, PassThroughRewriter.Instance, input, chunk, blockSize: 5);
            Assert.Equal(new RelayOutcome(SessionEndReason.ProtocolViolation, Direction.ClientToUpstream, detail), run.Outcome);
            Assert.Equal(before, run.Output);
            Assert.Equal(6, run.Frames);
            Assert.Equal(before.Length, run.Bytes);
        }
    }

    [Fact]
    public async Task Stream_ending_inside_a_frame_is_a_violation_after_streaming_what_arrived()
    {
        var input = Concat(Query("select 1"), Sync(), Query("select 2")[..7]);
        var run = await RelayAsync(Direction.ClientToUpstream, PassThroughRewriter.Instance, input, 2);
        Assert.Equal(new RelayOutcome(SessionEndReason.ProtocolViolation, Direction.ClientToUpstream, "connection closed in the middle of a message"), run.Outcome);
        Assert.Equal(input, run.Output); // passed-through frames stream: the partial one went out as it came
    }

    [Fact]
    public async Task Stream_ending_inside_a_header_is_a_violation()
    {
        var input = Concat(Query("select 1"), Sync()[..3]);
        var run = await RelayAsync(Direction.ClientToUpstream, PassThroughRewriter.Instance, input, 4);
        Assert.Equal(SessionEndReason.ProtocolViolation, run.Outcome.Reason);
        Assert.Equal(Query("select 1"), run.Output);
        Assert.Equal(1, run.Frames);
    }

    [Theory]
    [InlineData(Direction.ClientToUpstream, SessionEndReason.ClientClosed)]
    [InlineData(Direction.UpstreamToClient, SessionEndReason.UpstreamClosed)]
    public async Task Empty_stream_ends_as_closed_by_its_side(Direction direction, SessionEndReason reason)
    {
        var run = await RelayAsync(direction, PassThroughRewriter.Instance, []);
        Assert.Equal(new RelayOutcome(reason, direction), run.Outcome);
        Assert.Empty(run.Output);
        Assert.Equal(0, run.Frames);
    }

    [Fact]
    public async Task Inspected_frame_larger_than_the_limit_is_a_violation_from_its_header()
    {
        var small = new RelayLimits { MaxInspectedFrame = 64 };
        var input = Concat(Query("ok"), Query(new string('x', 100)));
        var run = await InMemoryRelay.RunAsync(Direction.ClientToUpstream, PgFrameDecoder.ForFrontend(4096), new RecordingRewriter(), small,
            input[..(Query("ok").Length + 5)], [Query("ok").Length + 5], 0); // only the big frame's header ever arrives
        Assert.Equal(new RelayOutcome(SessionEndReason.ProtocolViolation, Direction.ClientToUpstream, "message of 106 bytes exceeds the gateway's limit of 64"), run.Outcome);
        Assert.Equal(Query("ok"), run.Output);
    }

    [Fact]
    public async Task Dropped_queries_are_answered_on_the_reply_side_and_never_forwarded()
    {
        var rewriter = new BlockQueries();
        var input = Concat(Query("select 1"), Parse("", "select 2"), Sync(), Query("drop table t"), Sync());
        var run = await RelayAsync(Direction.ClientToUpstream, rewriter, input, 3, blockSize: 7);

        Assert.Equal(new RelayOutcome(SessionEndReason.ClientClosed, Direction.ClientToUpstream), run.Outcome);
        Assert.Equal(Concat(Parse("", "select 2"), Sync(), Sync()), run.Output);
        var oneReply = new ArrayBufferWriter<byte>();
        PgWriter.ErrorResponse(oneReply, "ERROR", "42501", "queries are blocked");
        PgWriter.ReadyForQuery(oneReply, (byte)'I');
        Assert.Equal(Concat(oneReply.WrittenSpan.ToArray(), oneReply.WrittenSpan.ToArray()), run.Reply);
        Assert.Equal(["select 1", "drop table t"], rewriter.Blocked);
        Assert.Equal(5, run.Frames);
    }

    [Fact]
    public async Task Replaced_frame_goes_out_as_the_rewriter_wrote_it_and_injected_frames_go_before_theirs()
    {
        var input = Concat(Query("select secret"), Sync(), Query("select 1"), Sync());
        var run = await RelayAsync(Direction.ClientToUpstream, new RewriteQueries(), input, 5, blockSize: 3);
        Assert.Equal(Concat(Query("select '[redacted]'"), Flush(), Sync(), Flush(), Query("select 1"), Sync()), run.Output);
        Assert.Empty(run.Reply);
        Assert.Equal(SessionEndReason.ClientClosed, run.Outcome.Reason);
    }

    [Fact]
    public async Task Rewriter_End_stops_the_relay_with_its_reason_and_drops_the_frame()
    {
        var input = Concat(ParameterStatus("TimeZone", "UTC"), DataRow("1"), ParameterStatus("client_encoding", "LATIN1"), DataRow("2"), ReadyForQuery());
        var run = await RelayAsync(Direction.UpstreamToClient, new PgSessionRewriter(), input, 4, blockSize: 4);
        Assert.Equal(SessionEndReason.Enforced, run.Outcome.Reason);
        Assert.Equal("client_encoding changed to LATIN1; the gateway only relays UTF8 sessions", run.Outcome.Detail);
        Assert.Equal(Concat(ParameterStatus("TimeZone", "UTC"), DataRow("1")), run.Output);
        Assert.Equal(3, run.Frames);
    }

    [Fact]
    public async Task Malformed_ParameterStatus_from_upstream_is_a_violation()
    {
        var input = Concat(DataRow("1"), Typed('S', "client_encoding"u8));
        var run = await RelayAsync(Direction.UpstreamToClient, new PgSessionRewriter(), input);
        Assert.Equal(new RelayOutcome(SessionEndReason.ProtocolViolation, Direction.UpstreamToClient, "malformed ParameterStatus from the upstream"), run.Outcome);
        Assert.Equal(DataRow("1"), run.Output);
    }

    [Fact]
    public async Task A_rewriter_that_writes_for_a_frame_it_holds_ends_the_session_and_what_it_wrote_never_goes_out()
    {
        var input = Concat(Query("select 1"), Query("held"), Sync());
        var run = await RelayAsync(Direction.ClientToUpstream, new WritesThenHolds(), input);
        Assert.Equal(new RelayOutcome(SessionEndReason.ProtocolViolation, Direction.ClientToUpstream, "the gateway's rewriter wrote for a message it held"), run.Outcome);
        Assert.Equal(Query("select 1"), run.Output);
    }

    /// <summary>Breaks the contract: writes an injected Sync for the Query it holds.</summary>
    private sealed class WritesThenHolds : IFrameRewriter
    {
        public FrameInterest OnHeader(Direction direction, in FrameHeader header) => header.Type == (byte)'Q' ? FrameInterest.Inspect : FrameInterest.Pass;

        public RewriteDecision OnFrame(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context)
        {
            if (frame.Length == Query("select 1").Length)
            {
                return RewriteDecision.Pass;
            }

            context.Forward.Write(Sync());
            return RewriteDecision.Hold(Task.Delay(System.Threading.Timeout.Infinite));
        }
    }

    [Fact]
    public async Task Hold_forwards_nothing_after_the_held_frame_until_released_then_everything_in_order()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var rewriter = new HoldQuery("select 2", release.Task);
        var source = new Pipe(InMemoryRelay.Options(null, 0, PipeScheduler.Inline));
        var output = new Pipe(InMemoryRelay.Options(null, 0, PipeScheduler.Inline));
        var reply = new Pipe(InMemoryRelay.Options(null, 0, PipeScheduler.Inline));
        using var target = new SessionOutput(output.Writer);
        using var replyTarget = new SessionOutput(reply.Writer);
        var relay = new FrameRelay(Direction.ClientToUpstream, source.Reader, target, replyTarget, PgFrameDecoder.ForFrontend(4096), rewriter, Limits, new RelayMeter(null));
        var running = relay.RunAsync(CancellationToken.None);

        await source.Writer.WriteAsync(Concat(Query("select 1"), Query("select 2"), Query("select 3")));
        Assert.Equal(Query("select 1"), ReadAvailable(output.Reader));
        await Task.Delay(50);
        Assert.Empty(ReadAvailable(output.Reader));
        Assert.False(running.IsCompleted);
        Assert.Equal(1, rewriter.Asked);

        release.SetResult();
        // The held frame is decided again with no new bytes arriving (a hold must not leave the relay waiting
        // for input it already has), and the frames after it follow in order.
        var after = await ReadExactlyAsync(output.Reader, Concat(Query("select 2"), Query("select 3")).Length);
        Assert.Equal(Concat(Query("select 2"), Query("select 3")), after);
        Assert.Equal(2, rewriter.Asked);

        await source.Writer.WriteAsync(Sync());
        Assert.Equal(Sync(), await ReadExactlyAsync(output.Reader, Sync().Length));
        await source.Writer.CompleteAsync();
        Assert.Equal(new RelayOutcome(SessionEndReason.ClientClosed, Direction.ClientToUpstream), await running.WaitAsync(Timeout));
        Assert.Equal(4, relay.Frames);
    }

    [Fact]
    public async Task Large_DataRow_streams_through_without_the_rewriter_ever_holding_it_whole()
    {
        const int size = 5 * 1024 * 1024;
        var row = LargeDataRow(size);
        var input = Concat(RowDescription(17, "blob"), row, CommandComplete("SELECT 1"), ReadyForQuery());
        var rewriter = new RecordingRewriter(h => h.Type != (byte)'D'); // inspects everything else
        var source = new Pipe(InMemoryRelay.Options(null, 0, PipeScheduler.Inline));
        var output = new Pipe(InMemoryRelay.Options(null, 0, PipeScheduler.Inline));
        var reply = new Pipe();
        using var target = new SessionOutput(output.Writer);
        using var replyTarget = new SessionOutput(reply.Writer);
        var relay = new FrameRelay(Direction.UpstreamToClient, source.Reader, target, replyTarget, PgFrameDecoder.Backend, rewriter,
            new RelayLimits { MaxInspectedFrame = 64 * 1024 }, new RelayMeter(null));
        var running = relay.RunAsync(CancellationToken.None);

        var received = new MemoryStream();
        const int chunk = 64 * 1024;
        var rowEnd = RowDescription(17, "blob").Length + row.Length;
        for (var at = 0; at < input.Length; at += chunk)
        {
            var end = Math.Min(at + chunk, input.Length);
            await source.Writer.WriteAsync(input.AsMemory(at, end - at));
            received.Write(ReadAvailable(output.Reader));
            if (end < rowEnd)
            {
                // Streaming: every byte of the row written so far has already gone out.
                Assert.Equal(end, received.Length);
            }
        }

        await source.Writer.CompleteAsync();
        Assert.Equal(SessionEndReason.UpstreamClosed, (await running.WaitAsync(Timeout)).Reason);
        received.Write(ReadAvailable(output.Reader));
        Assert.Equal(input, received.ToArray());
        Assert.Equal(['T', 'C', 'Z'], rewriter.Frames.Select(f => (char)f.Type));
        Assert.Contains(rewriter.Headers, h => h.Type == (byte)'D' && h.TotalLength == row.Length);
        Assert.Equal(4, relay.Frames);
        Assert.Equal(input.Length, relay.Bytes);
    }

    [Fact]
    public async Task Large_DataRow_through_the_session_rewriter_is_byte_identical_in_any_small_chunking()
    {
        var input = Concat(RowDescription(17, "blob"), LargeDataRow(5 * 1024 * 1024), CommandComplete("SELECT 1"), ReadyForQuery());
        var run = await RelayAsync(Direction.UpstreamToClient, new PgSessionRewriter(), input, chunk: 3001, blockSize: 4096);
        Assert.Equal(SessionEndReason.UpstreamClosed, run.Outcome.Reason);
        Assert.True(input.AsSpan().SequenceEqual(run.Output));
        Assert.Equal(0, run.LeakedBlocks);
    }

    private static byte[] ReadAvailable(PipeReader reader)
    {
        if (!reader.TryRead(out var result))
        {
            return [];
        }

        var bytes = result.Buffer.ToArray();
        reader.AdvanceTo(result.Buffer.End);
        return bytes;
    }

    private static async Task<byte[]> ReadExactlyAsync(PipeReader reader, int length)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        while (true)
        {
            ReadResult result;
            try
            {
                result = await reader.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new Xunit.Sdk.XunitException($"expected {length} bytes of output within 2 s; the relay is stuck");
            }

            if (result.Buffer.Length >= length || result.IsCompleted)
            {
                var bytes = result.Buffer.ToArray();
                reader.AdvanceTo(result.Buffer.End);
                return bytes;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static string QueryText(in ReadOnlySequence<byte> frame)
    {
        var body = frame.Slice(5).ToArray();
        return Encoding.UTF8.GetString(body, 0, body.Length - 1);
    }

    /// <summary>Drops every Query and answers it with an error and ReadyForQuery, as a policy would.</summary>
    private sealed class BlockQueries : IFrameRewriter
    {
        public List<string> Blocked { get; } = [];

        public FrameInterest OnHeader(Direction direction, in FrameHeader header)
            => header.Type == (byte)'Q' ? FrameInterest.Inspect : FrameInterest.Pass;

        public RewriteDecision OnFrame(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context)
        {
            Blocked.Add(QueryText(frame));
            PgWriter.ErrorResponse(context.Reply, "ERROR", "42501", "queries are blocked");
            PgWriter.ReadyForQuery(context.Reply, (byte)'I');
            return RewriteDecision.Drop;
        }
    }

    /// <summary>Replaces the text of queries mentioning "secret" and injects a Flush before every other query.</summary>
    private sealed class RewriteQueries : IFrameRewriter
    {
        public FrameInterest OnHeader(Direction direction, in FrameHeader header)
            => header.Type == (byte)'Q' ? FrameInterest.Inspect : FrameInterest.Pass;

        public RewriteDecision OnFrame(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context)
        {
            if (QueryText(frame).Contains("secret", StringComparison.Ordinal))
            {
                context.Forward.Write(Concat(Query("select '[redacted]'"), Flush()));
                return RewriteDecision.Replace;
            }

            context.Forward.Write(Flush());
            return RewriteDecision.Pass;
        }
    }

    /// <summary>Holds one query until <c>release</c> completes; the second time it is asked, it passes.</summary>
    private sealed class HoldQuery(string text, Task release) : IFrameRewriter
    {
        public int Asked { get; private set; }

        public FrameInterest OnHeader(Direction direction, in FrameHeader header)
            => header.Type == (byte)'Q' ? FrameInterest.Inspect : FrameInterest.Pass;

        public RewriteDecision OnFrame(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context)
        {
            if (QueryText(frame) != text)
            {
                return RewriteDecision.Pass;
            }

            Asked++;
            return release.IsCompleted ? RewriteDecision.Pass : RewriteDecision.Hold(release);
        }
    }
}
