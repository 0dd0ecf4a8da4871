using System.Buffers;
using System.IO.Pipelines;
using FsCheck;
using FsCheck.Fluent;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Relay;
using static Gatehouse.Fuzz.Support.PgMessages;

namespace Gatehouse.Tests.Framing;

/// <summary>
/// The relay's invariants as FsCheck properties: for any stream of valid messages and any way of splitting
/// it into writes and buffer segments, the relay sees the same frames and a pass-through relay's output is
/// byte-identical to its input; for any bytes at all, it agrees with the one-frame-at-a-time model.
/// </summary>
public sealed class FrameRelayProperties
{
    private static readonly Config Config = FsCheck.Config.QuickThrowOnFailure.WithMaxTest(150);

    private static readonly Gen<string> Text = Gen.Elements("", "select 1", "select * from t where a = $1", "zoë", "数据", "x\ty\n", new string('q', 300));

    private static readonly Gen<byte[]> Bytes = Gen.Choose(0, 600).SelectMany(n => Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), n));

    private static readonly Gen<byte[]> FrontendMessage = Gen.OneOf(
        Text.Select(Query),
        Gen.Zip(Text, Text).Select(t => Parse(t.Item1.Length > 20 ? "" : t.Item1, t.Item2, 23, 25)),
        Gen.Zip(Text, Text.Select(v => (string?)v).Or(Gen.Constant<string?>(null))).Select(t => Bind("", "s", t.Item1, t.Item2)),
        Gen.Elements('S', 'P').Select(k => Describe(k, "s1")),
        Gen.Choose(0, 1000).Select(n => Execute("", n)),
        Gen.Elements('S', 'P').Select(k => Close(k, "")),
        Bytes.Select(b => CopyData(b)),
        Gen.Elements(Sync(), Flush(), CopyDone()));

    private static readonly Gen<byte[]> BackendMessage = Gen.OneOf(
        Gen.Choose(1, 5).SelectMany(n => Gen.ArrayOf(Text, n)).Select(cols => RowDescription(25, cols)),
        Gen.Choose(0, 5).SelectMany(n => Gen.ArrayOf(Text.Select(v => (string?)v).Or(Gen.Constant<string?>(null)), n)).Select(DataRow),
        Gen.Choose(0, 40_000).Select(LargeDataRow),
        Text.Select(t => CommandComplete("SELECT " + t.Length)),
        Gen.Elements('I', 'T', 'E').Select(ReadyForQuery),
        Gen.Elements(("client_encoding", "UTF8"), ("standard_conforming_strings", "on"), ("TimeZone", "Europe/Paris"), ("application_name", "数据"))
            .Select(p => ParameterStatus(p.Item1, p.Item2)),
        Text.Select(t => ErrorResponse("42601", t)),
        Bytes.Select(b => CopyData(b)),
        Gen.Elements(ParseComplete(), BindComplete(), NoData(), CopyDone()));

    /// <summary>How the stream is delivered: write sizes (cycled) and a segment size (0: the pipe's default).</summary>
    private static readonly Gen<(int[] Writes, int Block, bool Inline)> Delivery = Zip(
        Gen.Choose(1, 8).SelectMany(n => Gen.ArrayOf(Gen.OneOf(Gen.Choose(1, 7), Gen.Choose(1, 200), Gen.Choose(1, 70_000)), n)),
        Gen.Elements(0, 1, 2, 3, 5, 16, 4096),
        Gen.Elements(true, true, true, false));

    internal static Gen<(T1, T2, T3)> Zip<T1, T2, T3>(Gen<T1> a, Gen<T2> b, Gen<T3> c)
        => Gen.Zip(a, Gen.Zip(b, c, (y, z) => (y, z)), (x, yz) => (x, yz.y, yz.z));

    private static Gen<byte[][]> Streams(Gen<byte[]> message) => Gen.Choose(0, 25).SelectMany(n => Gen.ArrayOf(message, n));

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

    private static RelayRun Relay(Direction direction, IFrameRewriter rewriter, byte[] input, (int[] Writes, int Block, bool Inline) delivery, RelayLimits? limits = null)
    {
        var decoder = direction == Direction.ClientToUpstream ? PgFrameDecoder.ForFrontend(1 << 20) : PgFrameDecoder.Backend;
        return InMemoryRelay.RunAsync(direction, decoder, rewriter, limits ?? new RelayLimits(), input, Chunks(input.Length, delivery.Writes), delivery.Block,
            delivery.Inline ? PipeScheduler.Inline : PipeScheduler.ThreadPool, TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
    }

    [Theory]
    [InlineData(Direction.ClientToUpstream)]
    [InlineData(Direction.UpstreamToClient)]
    public void Any_segmentation_yields_the_same_frames(Direction direction)
    {
        var messages = direction == Direction.ClientToUpstream ? FrontendMessage : BackendMessage;
        var closed = direction == Direction.ClientToUpstream ? SessionEndReason.ClientClosed : SessionEndReason.UpstreamClosed;
        Check.One(Config, Prop.ForAll(Gen.Zip(Streams(messages), Delivery).ToArbitrary(), t =>
        {
            var (stream, delivery) = t;
            var rewriter = new RecordingRewriter();
            var run = Relay(direction, rewriter, Concat(stream), delivery);

            Assert.Equal(new RelayOutcome(closed, direction), run.Outcome);
            Assert.Equal(stream.Length, run.Frames);
            var seen = rewriter.Frames.ToArray();
            Assert.Equal(stream.Length, seen.Length);
            for (var i = 0; i < stream.Length; i++)
            {
                Assert.Equal(stream[i][0], seen[i].Type);
                Assert.Equal(stream[i], seen[i].Bytes);
            }

            Assert.Equal(Concat(stream), run.Output);
            Assert.Equal(0, run.LeakedBlocks);
        }));
    }

    [Theory]
    [InlineData(Direction.ClientToUpstream)]
    [InlineData(Direction.UpstreamToClient)]
    public void Pass_through_output_is_byte_identical_for_any_segmentation(Direction direction)
    {
        var messages = direction == Direction.ClientToUpstream ? FrontendMessage : BackendMessage;
        Check.One(Config, Prop.ForAll(Gen.Zip(Streams(messages), Delivery).ToArbitrary(), t =>
        {
            var input = Concat(t.Item1);
            var run = Relay(direction, PassThroughRewriter.Instance, input, t.Item2);
            Assert.Equal(input, run.Output);
            Assert.Equal(input.Length, run.Bytes);
            Assert.Equal(t.Item1.Length, run.Frames);
            Assert.NotEqual(SessionEndReason.ProtocolViolation, run.Outcome.Reason);
        }));
    }

    /// <summary>
    /// A tap that leaves rows out (results: row_count) gets exactly the stream without its DataRow and CopyData
    /// messages, with the count of each run of rows where it was, however the stream is split into reads and
    /// whether the rows stream through, are inspected or are rewritten (masked); the client still gets every byte.
    /// </summary>
    [Fact]
    public void A_tap_that_omits_rows_sees_everything_else_in_order_with_exact_row_counts()
    {
        var treatment = Gen.Elements(RowTreatment.Stream, RowTreatment.Inspect, RowTreatment.Rewrite, RowTreatment.Parts);
        Check.One(Config, Prop.ForAll(Zip(Streams(BackendMessage), Delivery, treatment).ToArbitrary(), t =>
        {
            var (stream, delivery, rows) = t;
            var tap = new RowOmittingTap();
            var input = Concat(stream);
            var run = InMemoryRelay.RunAsync(Direction.UpstreamToClient, PgFrameDecoder.Backend, new RowRewriter(rows), Limits(rows), input,
                Chunks(input.Length, delivery.Writes), delivery.Block, delivery.Inline ? PipeScheduler.Inline : PipeScheduler.ThreadPool, TimeSpan.FromSeconds(30), tap)
                .GetAwaiter().GetResult();

            Assert.Equal(SessionEndReason.UpstreamClosed, run.Outcome.Reason);
            Assert.Equal(input, run.Output);
            var expected = new RowOmittingTap();
            foreach (var message in stream)
            {
                if (message[0] is (byte)'D' or (byte)'d')
                {
                    ((IRelayTap)expected).OnRowsOmitted(Direction.UpstreamToClient, 1);
                }
                else
                {
                    expected.OnForwarded(Direction.UpstreamToClient, message);
                }
            }

            Assert.Equal(expected.Events.Select(e => (e.Bytes is null ? null : Convert.ToHexString(e.Bytes), e.Rows)),
                tap.Events.Select(e => (e.Bytes is null ? null : Convert.ToHexString(e.Bytes), e.Rows)));
        }));
    }

    /// <summary>
    /// Rows over the inspection limit rewritten part by part (a huge masked row) reach the client and a tap that
    /// records everything as the rewriter wrote them, in order, whatever the reads; smaller ones are rewritten whole.
    /// </summary>
    [Fact]
    public void Frames_rewritten_in_parts_go_out_and_are_recorded_in_order_for_any_segmentation()
    {
        Check.One(Config, Prop.ForAll(Gen.Zip(Streams(BackendMessage), Delivery).ToArbitrary(), t =>
        {
            var (stream, delivery) = t;
            var tap = new FullTap();
            var rewriter = new RowRewriter(RowTreatment.Parts, upperCase: true);
            var input = Concat(stream);
            var run = InMemoryRelay.RunAsync(Direction.UpstreamToClient, PgFrameDecoder.Backend, rewriter, Limits(RowTreatment.Parts), input,
                Chunks(input.Length, delivery.Writes), delivery.Block, delivery.Inline ? PipeScheduler.Inline : PipeScheduler.ThreadPool, TimeSpan.FromSeconds(30), tap)
                .GetAwaiter().GetResult();

            var expected = Concat([.. stream.Select(m => m[0] is (byte)'D' or (byte)'d' ? RowRewriter.UpperCase(m) : m)]);
            Assert.Equal(SessionEndReason.UpstreamClosed, run.Outcome.Reason);
            Assert.Equal(stream.Length, run.Frames);
            Assert.Equal(expected, run.Output);
            Assert.Equal(expected, tap.Bytes.ToArray());
            Assert.Equal(stream.Count(m => m[0] is (byte)'D' or (byte)'d' && m.Length > PartsAbove), rewriter.FramesInParts);
        }));
    }

    /// <summary>
    /// Rewritten rows (masked) reach the tap gathered, one call for a read's worth rather than one per row (each
    /// call costs the recording a lock), in order and byte for byte, with a large piece between them kept in place.
    /// </summary>
    [Fact]
    public void Small_rewritten_rows_reach_the_tap_gathered_per_read_in_order()
    {
        var rows = Enumerable.Range(0, 2_000).Select(i => DataRow([$"row {i}", "4000000000000002"])).ToList();
        rows.Insert(1_000, CommandComplete("SELECT 1000"));
        rows.Insert(1_001, CopyData(new byte[20_000])); // streamed through untouched: one piece of its own
        var input = Concat([.. rows]);
        var tap = new FullTap();
        var run = InMemoryRelay.RunAsync(Direction.UpstreamToClient, PgFrameDecoder.Backend, new RowRewriter(RowTreatment.Rewrite, upperCase: true), new RelayLimits(),
            input, [input.Length], 0, PipeScheduler.Inline, TimeSpan.FromSeconds(30), tap).GetAwaiter().GetResult();

        var expected = Concat([.. rows.Select(m => m[0] is (byte)'D' or (byte)'d' ? RowRewriter.UpperCase(m) : m)]);
        Assert.Equal(SessionEndReason.UpstreamClosed, run.Outcome.Reason);
        Assert.Equal(expected, run.Output);
        Assert.Equal(expected, tap.Bytes.ToArray());
        Assert.InRange(tap.Calls, 1, input.Length / 4096 + 8); // about one per read and per 32 KiB gathered, not one per row
    }

    private const int PartsAbove = 64;

    private static RelayLimits Limits(RowTreatment rows) => rows == RowTreatment.Parts ? new RelayLimits { MaxInspectedFrame = PartsAbove } : new RelayLimits();

    private enum RowTreatment { Stream, Inspect, Rewrite, Parts }

    /// <summary>
    /// Calls DataRow and CopyData rows, as the PostgreSQL rewriter does; streams, inspects or rewrites (same bytes, or
    /// with letters upper-cased, in a new buffer) them, those over the inspection limit part by part when asked to.
    /// </summary>
    private sealed class RowRewriter(RowTreatment rows, bool upperCase = false) : IFrameRewriter
    {
        private long _partBytes;

        public int FramesInParts { get; private set; }

        public static byte[] UpperCase(byte[] bytes) => [.. bytes.Select(b => b is >= (byte)'a' and <= (byte)'z' ? (byte)(b - 32) : b)];

        public bool CanRewriteInParts(Direction direction, in FrameHeader header)
        {
            Assert.Equal(0, _partBytes);
            FramesInParts++;
            return rows == RowTreatment.Parts;
        }

        public RewriteDecision OnFramePart(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> part, bool final, RewriteContext context)
        {
            Assert.False(part.IsEmpty);
            _partBytes += part.Length;
            Assert.Equal(final, _partBytes == header.TotalLength);
            _partBytes = final ? 0 : _partBytes;
            context.Forward.Write(upperCase ? UpperCase(part.ToArray()) : part.ToArray());
            return RewriteDecision.Replace;
        }

        public FrameInterest OnHeader(Direction direction, in FrameHeader header)
            => IsResultRow(header) && rows != RowTreatment.Stream ? FrameInterest.Inspect : FrameInterest.Pass;

        public RewriteDecision OnFrame(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context)
        {
            if (rows == RowTreatment.Inspect)
            {
                return RewriteDecision.Pass;
            }

            context.Forward.Write(upperCase ? UpperCase(frame.ToArray()) : frame.ToArray());
            return RewriteDecision.Replace;
        }

        public bool IsResultRow(in FrameHeader header) => header.Type is (byte)'D' or (byte)'d';
    }

    private sealed class FullTap : IRelayTap
    {
        public List<byte> Bytes { get; } = [];

        public int Calls { get; private set; }

        public bool RecordsRows => true;

        public void OnForwarded(Direction direction, ReadOnlySpan<byte> bytes)
        {
            Calls++;
            Bytes.AddRange(bytes);
        }

        public void OnRowsOmitted(Direction direction, long rows) => Assert.Fail("a tap that records rows was told of omitted rows");

        public ValueTask CommitAsync(Direction direction, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    /// <summary>What a row-omitting tap was handed, adjacent bytes joined and adjacent counts summed (reads may split either anywhere).</summary>
    private sealed class RowOmittingTap : IRelayTap
    {
        public List<(byte[]? Bytes, long Rows)> Events { get; } = [];

        public bool RecordsRows => false;

        public void OnForwarded(Direction direction, ReadOnlySpan<byte> bytes)
        {
            if (bytes.IsEmpty)
            {
                return;
            }

            if (Events.Count > 0 && Events[^1].Bytes is { } last)
            {
                Events[^1] = ([.. last, .. bytes], 0);
            }
            else
            {
                Events.Add((bytes.ToArray(), 0));
            }
        }

        public void OnRowsOmitted(Direction direction, long rows)
        {
            Assert.True(rows > 0);
            if (Events.Count > 0 && Events[^1].Bytes is null)
            {
                Events[^1] = (null, Events[^1].Rows + rows);
            }
            else
            {
                Events.Add((null, rows));
            }
        }

        public ValueTask CommitAsync(Direction direction, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    [Fact]
    public void Session_rewriter_output_is_byte_identical_for_valid_backend_streams()
    {
        Check.One(Config, Prop.ForAll(Gen.Zip(Streams(BackendMessage), Delivery).ToArbitrary(), t =>
        {
            var input = Concat(t.Item1);
            var run = Relay(Direction.UpstreamToClient, new PgSessionRewriter(), input, t.Item2);
            Assert.Equal(input, run.Output);
            Assert.Equal(SessionEndReason.UpstreamClosed, run.Outcome.Reason);
        }));
    }

    [Theory]
    [InlineData(Direction.ClientToUpstream)]
    [InlineData(Direction.UpstreamToClient)]
    public void Any_bytes_give_what_the_one_frame_at_a_time_model_gives(Direction direction)
    {
        // Valid messages with some bytes corrupted, cut or inserted: the relay agrees with RelayModel on output,
        // outcome and counters, whatever the rewriter (pass, inspect and drop, replace and inject, hold).
        var messages = direction == Direction.ClientToUpstream ? FrontendMessage : BackendMessage;
        var damage = Zip(Gen.Choose(0, 3), ArbMap.Default.GeneratorFor<int>(), ArbMap.Default.GeneratorFor<byte>());
        var damaged = Gen.Zip(Streams(messages), damage, (stream, d) => (stream, d))
            .Select(t =>
            {
                var bytes = Concat(t.Item1);
                var (how, where, value) = t.Item2;
                if (bytes.Length == 0)
                {
                    return bytes;
                }

                var at = (int)((uint)where % (uint)bytes.Length);
                return how switch
                {
                    0 => bytes,
                    1 => bytes[..at],
                    2 => Concat(bytes[..at], [value], bytes[at..]),
                    _ => Concat(bytes[..at], [(byte)(bytes[at] ^ value)], bytes[(at + 1)..]),
                };
            });
        var rewriterKind = Gen.Choose(0, 3);
        Check.One(Config, Prop.ForAll(Zip(damaged, Delivery, rewriterKind).ToArbitrary(), t =>
        {
            var (input, delivery, kind) = t;
            (IFrameRewriter actual, IFrameRewriter model) = kind switch
            {
                0 => ((IFrameRewriter)PassThroughRewriter.Instance, (IFrameRewriter)PassThroughRewriter.Instance),
                1 => (new ModelRewriter((byte)'D'), new ModelRewriter((byte)'D')),
                2 => (new ScriptedRewriter((byte)'S', hold: true), new ScriptedRewriter((byte)'S', hold: false)),
                _ => (new PgSessionRewriter(), new PgSessionRewriter()),
            };
            var limits = new RelayLimits { MaxInspectedFrame = 8192 };
            var decoder = direction == Direction.ClientToUpstream ? PgFrameDecoder.ForFrontend(1 << 20) : PgFrameDecoder.Backend;
            var expected = RelayModel.Expect(direction, decoder, model, limits, input);
            RelayModel.AssertSame(expected, Relay(direction, actual, input, delivery, limits), $"rewriter {kind}");
        }));
    }
}
