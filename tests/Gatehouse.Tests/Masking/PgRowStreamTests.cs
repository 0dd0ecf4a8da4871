using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Gatehouse.Protocols.Postgres.Masking;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Relay;
using Gatehouse.Tests.Framing;

namespace Gatehouse.Tests.Masking;

/// <summary>
/// A DataRow too large to inspect whole is masked as its parts arrive (<see cref="PgRowStream"/>): within its
/// hold limit it gives exactly the bytes <see cref="PgRowMasker"/> gives for the whole row, however the row is
/// cut; past the limit a value is masked whole, and a masked column behind more than the limit of other
/// columns ends the session rather than pass.
/// </summary>
public sealed class PgRowStreamTests
{
    private static readonly FsCheck.Config Config = FsCheck.Config.QuickThrowOnFailure.WithMaxTest(300);

    private static readonly Gen<string> Fragment = Gen.Elements(
        "4111 1111 1111 1111", "jane@example.com", "078-05-1120", "order", " ", "zoë", "1234", "-", "");

    private static readonly Gen<string?> Value = Gen.Choose(0, 5).SelectMany(n => Gen.ArrayOf(Fragment, n)).Select(f => (string?)string.Concat(f))
        .Or(Gen.Constant<string?>(null));

    private static readonly Gen<PgColumnPlan> Plan = Gen.Choose(0, 7).Select(k => k switch
    {
        < 4 => new PgColumnPlan(MaskingProperties.Actions[k], false, 25, 0),
        4 => new PgColumnPlan(null, true, 25, 0),
        5 => new PgColumnPlan(MaskingProperties.Actions[0], false, 23, 1), // a binary int4 with a rule: replaced whole
        6 => new PgColumnPlan(null, true, 17, 1), // binary bytea: not text to scan
        _ => new PgColumnPlan(null, false, 25, 0),
    });

    [Fact]
    public void Streaming_gives_the_bytes_whole_row_masking_gives_however_the_row_is_cut()
    {
        var gen = Gen.Choose(0, 7).SelectMany(n => Gen.Zip(Gen.ArrayOf(Value, n), Gen.ArrayOf(Plan, n)))
            .SelectMany(t => Gen.ArrayOf(Gen.Choose(0, 9), 20).SelectMany(cuts => Gen.Elements(0, 1, 2).Select(kind => (t.Item1, t.Item2, cuts, kind))));
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var (values, plans, cuts, shapeKind) = t;
            // 0: the planned shape; 1: a shape the masker does not know; 2: a shape with another column count
            var shape = shapeKind switch
            {
                0 => new PgResultShape(plans),
                1 => PgResultShape.Unknown,
                _ => new PgResultShape([.. plans, new PgColumnPlan(null, false, 25, 0)]),
            };
            var frame = Frame(values);
            var whole = new ArrayBufferWriter<byte>();
            var masker = new PgRowMasker(MaskingProperties.Session, new MaskingCounter(null));
            var expected = masker.TryMask(frame.AsSpan(5), shape, whole, out var malformed) ? whole.WrittenSpan.ToArray() : frame;
            Assert.False(malformed);

            var (decision, streamed) = Stream(frame, Cuts(frame.Length, cuts), shape, holdLimit: 1 << 20);
            Assert.Equal(RewriteAction.Replace, decision.Action);
            Assert.Equal(expected, streamed);
        }).Check(Config);
    }

    [Fact]
    public void Columns_after_the_last_masked_one_go_out_as_they_arrive()
    {
        var big = new string('x', 100_000);
        var shape = new PgResultShape([Text(new MaskAction("cards", MaskStrategy.Partial)), Text(null)]);
        var frame = Frame(["4111 1111 1111 1111", big]);
        var stream = new PgRowStream(new PgRowMasker(MaskingProperties.Session, new MaskingCounter(null)), holdLimit: 1024);
        stream.Begin(shape);
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(RewriteAction.Replace, stream.Write(new ReadOnlySequence<byte>(frame, 0, 1000), final: false, output).Action);
        Assert.True(output.WrittenCount > 900, "the row's head and the first part of the big column were held back");
        Assert.Equal(RewriteAction.Replace, stream.Write(new ReadOnlySequence<byte>(frame, 1000, frame.Length - 1000), final: true, output).Action);
        Assert.Equal(["**** **** **** 1111", big], Strings(output.WrittenSpan));
    }

    [Theory]
    [InlineData(MaskStrategy.Redact, "[redacted]")]
    [InlineData(MaskStrategy.Null, null)]
    [InlineData(MaskStrategy.Partial, null)] // too large to read whole: replaced whole
    public void A_masked_value_larger_than_the_hold_limit_is_never_held(MaskStrategy strategy, string? expected)
    {
        var frame = Frame([new string('7', 50_000), "tail"]);
        var (decision, output) = Stream(frame, [frame.Length], new PgResultShape([Text(new MaskAction("big", strategy)), Text(null)]), holdLimit: 1024);
        Assert.Equal(RewriteAction.Replace, decision.Action);
        Assert.Equal([expected, "tail"], Strings(output));
    }

    [Fact]
    public void A_large_value_tokenised_in_parts_gets_the_token_of_the_whole_value()
    {
        var value = string.Concat(Enumerable.Repeat("4111 1111 1111 1111;", 5_000));
        var frame = Frame([value]);
        var token = new MaskAction("tok", MaskStrategy.Token);
        var (_, output) = Stream(frame, Cuts(frame.Length, [7, 3, 9, 1, 8]), new PgResultShape([Text(token)]), holdLimit: 64);
        var expected = new byte[ValueMasker.TokenLength];
        ValueMasker.Write(token, Encoding.UTF8.GetBytes(value), MaskingProperties.Session.TokenKey, expected);
        Assert.Equal([Encoding.UTF8.GetString(expected)], Strings(output));
    }

    [Fact]
    public void A_derived_value_too_large_to_scan_is_masked_whole()
    {
        var frame = Frame([new string('a', 5_000) + " 4111 1111 1111 1111"]);
        var (decision, output) = Stream(frame, [frame.Length], new PgResultShape([new PgColumnPlan(null, true, 25, 0)]), holdLimit: 1024);
        Assert.Equal(RewriteAction.Replace, decision.Action);
        Assert.Equal([(string?)null], Strings(output));
    }

    [Fact]
    public void A_masked_column_behind_more_than_the_hold_limit_ends_the_session()
    {
        var frame = Frame([new string('x', 5_000), "4111 1111 1111 1111"]);
        var (decision, output) = Stream(frame, [frame.Length], new PgResultShape([Text(null), Text(new MaskAction("cards", MaskStrategy.Partial))]), holdLimit: 1024);
        Assert.Equal(RewriteAction.End, decision.Action);
        Assert.Equal(SessionEndReason.Enforced, decision.EndReason);
        Assert.Contains("masked column", decision.Message);
        Assert.DoesNotContain("4111"u8.ToArray(), output.ToArray());
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("value longer than the row")]
    [InlineData("bytes after the last column")]
    [InlineData("negative column count")]
    public void A_malformed_row_ends_the_session(string fault)
    {
        var frame = Frame(["abc", "4111 1111 1111 1111"]);
        switch (fault)
        {
            case "truncated":
                frame = frame[..^3];
                break;
            case "value longer than the row":
                BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(7), 1000);
                break;
            case "bytes after the last column":
                frame = [.. frame, 1, 2];
                BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), frame.Length - 1);
                break;
            default:
                BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(5), -1);
                break;
        }

        var shape = new PgResultShape([Text(null), Text(new MaskAction("cards", MaskStrategy.Redact))]);
        var (decision, _) = Stream(frame, [frame.Length], shape, holdLimit: 1 << 20);
        Assert.Equal(RewriteAction.End, decision.Action);
        Assert.Equal(SessionEndReason.ProtocolViolation, decision.EndReason);
    }

    private static PgColumnPlan Text(MaskAction? action) => new(action, false, 25, 0);

    private static (RewriteDecision Decision, byte[] Output) Stream(byte[] frame, IReadOnlyList<int> parts, PgResultShape shape, long holdLimit)
    {
        var stream = new PgRowStream(new PgRowMasker(MaskingProperties.Session, new MaskingCounter(null)), holdLimit);
        stream.Begin(shape);
        var output = new ArrayBufferWriter<byte>();
        var at = 0;
        RewriteDecision decision = default;
        for (var i = 0; i < parts.Count; i++)
        {
            var part = SequenceFactory.FromSegments(frame[at..(at + parts[i])], [.. Cuts(parts[i], [1, 2, 5])]);
            at += parts[i];
            decision = stream.Write(part, final: i == parts.Count - 1, output);
            if (decision.Action != RewriteAction.Replace)
            {
                break;
            }
        }

        return (decision, output.WrittenSpan.ToArray());
    }

    /// <summary>Part sizes cycling through <paramref name="sizes"/> (0 = an empty part) that cover <paramref name="length"/> bytes.</summary>
    internal static List<int> Cuts(int length, int[] sizes)
    {
        if (sizes.All(s => s == 0))
        {
            return [0, length]; // an empty part, then the rest
        }

        var cuts = new List<int>();
        var left = length;
        for (var i = 0; left > 0; i++)
        {
            var take = Math.Min(sizes[i % sizes.Length], left);
            cuts.Add(take);
            left -= take;
        }

        return cuts.Count == 0 ? [0] : cuts;
    }

    private static byte[] Frame(string?[] values)
    {
        var body = new ArrayBufferWriter<byte>();
        body.Write(new byte[7]);
        foreach (var v in values)
        {
            var bytes = v is null ? null : Encoding.UTF8.GetBytes(v);
            BinaryPrimitives.WriteInt32BigEndian(body.GetSpan(4), bytes?.Length ?? -1);
            body.Advance(4);
            body.Write(bytes ?? []);
        }

        var frame = body.WrittenSpan.ToArray();
        frame[0] = (byte)'D';
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), frame.Length - 1);
        BinaryPrimitives.WriteInt16BigEndian(frame.AsSpan(5), (short)values.Length);
        return frame;
    }

    private static List<string?> Strings(ReadOnlySpan<byte> frame)
    {
        Assert.Equal((byte)'D', frame[0]);
        Assert.Equal(frame.Length - 1, BinaryPrimitives.ReadInt32BigEndian(frame[1..]));
        var count = BinaryPrimitives.ReadInt16BigEndian(frame[5..]);
        var values = new List<string?>();
        var at = 7;
        for (var i = 0; i < count; i++)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(frame[at..]);
            at += 4;
            values.Add(length < 0 ? null : Encoding.UTF8.GetString(frame.Slice(at, length)));
            at += Math.Max(length, 0);
        }

        Assert.Equal(frame.Length, at);
        return values;
    }
}
