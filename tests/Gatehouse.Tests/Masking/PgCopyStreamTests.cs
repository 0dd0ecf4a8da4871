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
/// A COPY row too large to inspect whole is masked as its parts arrive (<see cref="PgCopyLineStream"/> for
/// text and CSV, <see cref="PgRowStream"/> for binary tuples): within the hold limit it gives exactly the bytes
/// <see cref="PgCopyMasker"/> gives for the whole row and refuses exactly the rows it refuses, however the
/// row is cut; past the limit a field is masked whole, and a masked field behind more than the limit of
/// other fields ends the session rather than pass.
/// </summary>
public sealed class PgCopyStreamTests
{
    private static readonly FsCheck.Config Config = FsCheck.Config.QuickThrowOnFailure.WithMaxTest(400);

    private static readonly string[] Statements = Gatehouse.Fuzz.Targets.PgCopyMaskerTarget.Statements;

    private static readonly Gen<string> Fragment = Gen.Elements(
        "4111 1111 1111 1111", "jane@example.com", "078-05-1120", "order", " ", "zoë", "1234", "", "\t", "|", ";", ",",
        "\"", "'", "\\", "\n", "\r", "nil", "NULL", "\\N");

    private static readonly Gen<string?> Value = Gen.Choose(0, 5).SelectMany(n => Gen.ArrayOf(Fragment, n)).Select(f => (string?)string.Concat(f))
        .Or(Gen.Constant<string?>(null));

    private static readonly Gen<PgColumnPlan> Plan = Gen.Choose(0, 6).Select(k => k switch
    {
        < 4 => new PgColumnPlan(MaskingProperties.Actions[k], false, 25, 0),
        4 => new PgColumnPlan(null, true, 25, 0),
        5 => new PgColumnPlan(MaskingProperties.Actions[0], false, 23, 0), // an int4 with a rule: replaced whole
        _ => new PgColumnPlan(null, false, 25, 0),
    });

    [Fact]
    public void Streaming_gives_the_bytes_whole_row_masking_gives_however_the_row_is_cut()
    {
        var gen = Gen.Choose(1, 6).SelectMany(n => Gen.Zip(Gen.ArrayOf(Value, n), Gen.ArrayOf(Plan, n)))
            .SelectMany(t => Gen.Zip(Gen.ArrayOf(Gen.Choose(0, 9), 20), Gen.Choose(0, Statements.Length - 1))
                .Select(c => (Values: t.Item1, Plans: t.Item2, Cuts: c.Item1, Statement: c.Item2)));
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var copy = Statement(Statements[t.Statement]);
            var plans = copy.Format == PgCopyFormat.Binary ? [.. t.Plans.Select(p => p with { Format = 1 })] : t.Plans;
            var shape = new PgResultShape(plans);
            var data = copy.Format == PgCopyFormat.Binary ? BinaryTuple(t.Values, fileHeader: true) : Line(copy, t.Values);
            AssertSameAsWhole(copy, shape, data, t.Cuts);
        }).Check(Config);
    }

    [Fact]
    public void Streaming_refuses_exactly_the_rows_whole_row_masking_refuses()
    {
        // Rows a server would not send: stray quotes, data after a closing quote, too few or many fields, no newline.
        var piece = Gen.Elements("a", "4111 1111 1111 1111", "\"", "'", "\\", ",", ";", "\t", "|", "\n", "\"\"");
        var junk = Gen.Choose(0, 12).SelectMany(n => Gen.ArrayOf(piece, n)).Select(p => string.Concat(p));
        var gen = from text in junk
                  from plans in Gen.Choose(1, 4).SelectMany(n => Gen.ArrayOf(Plan, n))
                  from statement in Gen.Choose(0, Statements.Length - 2)
                  from cuts in Gen.ArrayOf(Gen.Choose(0, 5), 10)
                  select (text, plans, statement, cuts);
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var (text, plans, statement, cuts) = t;
            var copy = Statement(Statements[statement]);
            AssertSameAsWhole(copy, new PgResultShape(plans), Encoding.UTF8.GetBytes(text), cuts);
        }).Check(Config);
    }

    [Fact]
    public void Fields_after_the_last_masked_one_go_out_as_they_arrive()
    {
        var copy = Statement("COPY t TO STDOUT");
        var big = new string('x', 100_000);
        var frame = CopyData(Line(copy, ["4111 1111 1111 1111", big]));
        var shape = new PgResultShape([Text(new MaskAction("cards", MaskStrategy.Partial)), Text(null)]);
        var stream = new PgCopyMasker(copy, shape, MaskingProperties.Session, Rows(), new MaskingCounter(null)).BeginStream(holdLimit: 1024);
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(RewriteAction.Replace, stream.Write(new ReadOnlySequence<byte>(frame, 0, 1000), final: false, output).Action);
        Assert.True(output.WrittenCount > 900, "the row's head and the first part of the big field were held back");
        Assert.Equal(RewriteAction.Replace, stream.Write(new ReadOnlySequence<byte>(frame, 1000, frame.Length - 1000), final: true, output).Action);
        Assert.Equal($"**** **** **** 1111\t{big}\n", Body(output.WrittenSpan));
    }

    [Theory]
    [InlineData("COPY t TO STDOUT", MaskStrategy.Redact, "[redacted]\ttail\n")]
    [InlineData("COPY t TO STDOUT", MaskStrategy.Partial, "\\N\ttail\n")] // too large to read whole: replaced whole
    [InlineData("COPY t TO STDOUT (FORMAT csv)", MaskStrategy.Redact, "\"[redacted]\",tail\n")]
    [InlineData("COPY t TO STDOUT (FORMAT csv)", MaskStrategy.Null, ",tail\n")]
    public void A_masked_field_larger_than_the_hold_limit_is_never_held(string statement, MaskStrategy strategy, string expected)
    {
        var copy = Statement(statement);
        var shape = new PgResultShape([Text(new MaskAction("big", strategy)), Text(null)]);
        var (decision, output) = Stream(copy, shape, CopyData(Line(copy, [new string('7', 50_000) + ",\"x", "tail"])), [1000], holdLimit: 1024);
        Assert.Equal(RewriteAction.Replace, decision.Action);
        Assert.Equal(expected, Body(output));
    }

    [Fact]
    public void A_large_field_tokenised_in_parts_gets_the_token_of_the_whole_value()
    {
        var copy = Statement("COPY t TO STDOUT (FORMAT csv)");
        var value = string.Concat(Enumerable.Repeat("4111 1111 1111 1111, \"quoted\";", 5_000));
        var token = new MaskAction("tok", MaskStrategy.Token);
        var frame = CopyData(Line(copy, [value]));
        var (_, output) = Stream(copy, new PgResultShape([Text(token)]), frame, PgRowStreamTests.Cuts(frame.Length, [7, 3, 9, 1, 8]), holdLimit: 64);
        var expected = new byte[ValueMasker.TokenLength];
        ValueMasker.Write(token, Encoding.UTF8.GetBytes(value.Replace("\"", "\"\"", StringComparison.Ordinal)), MaskingProperties.Session.TokenKey, expected);
        Assert.Equal($"\"{Encoding.UTF8.GetString(expected)}\"\n", Body(output));
    }

    [Fact]
    public void A_derived_field_too_large_to_scan_is_masked_whole()
    {
        var copy = Statement("COPY t TO STDOUT");
        var (decision, output) = Stream(copy, new PgResultShape([new PgColumnPlan(null, true, 25, 0)]),
            CopyData(Line(copy, [new string('a', 5_000) + " 4111 1111 1111 1111"])), [100], holdLimit: 1024);
        Assert.Equal(RewriteAction.Replace, decision.Action);
        Assert.Equal("\\N\n", Body(output));
    }

    [Theory]
    [InlineData("COPY t TO STDOUT")]
    [InlineData("COPY t TO STDOUT (FORMAT binary)")]
    public void A_masked_field_behind_more_than_the_hold_limit_ends_the_session(string statement)
    {
        var copy = Statement(statement);
        var binary = copy.Format == PgCopyFormat.Binary;
        var card = new MaskAction("cards", MaskStrategy.Partial);
        var shape = new PgResultShape([Text(null) with { Format = (short)(binary ? 1 : 0) }, Text(card) with { Format = (short)(binary ? 1 : 0) }]);
        string?[] values = [new string('x', 5_000), "4111 1111 1111 1111"];
        var (decision, output) = Stream(copy, shape, CopyData(binary ? BinaryTuple(values, fileHeader: true) : Line(copy, values)), [100], holdLimit: 1024);
        Assert.Equal(RewriteAction.End, decision.Action);
        Assert.Equal(SessionEndReason.Enforced, decision.EndReason);
        Assert.Contains("masked column", decision.Message);
        Assert.DoesNotContain("4111"u8.ToArray(), output);
    }

    [Fact]
    public void A_binary_copy_streams_its_file_header_and_first_tuple_together_and_later_tuples_alone()
    {
        var copy = Statement("COPY t TO STDOUT (FORMAT binary)");
        var shape = new PgResultShape([Text(new MaskAction("cards", MaskStrategy.Partial)) with { Format = 1 }, Text(null) with { Format = 1 }]);
        var masker = new PgCopyMasker(copy, shape, MaskingProperties.Session, Rows(), new MaskingCounter(null));
        var big = new string('d', 20_000);
        foreach (var first in new[] { true, false })
        {
            var frame = CopyData(BinaryTuple(["4111 1111 1111 1111", big], fileHeader: first));
            var output = new ArrayBufferWriter<byte>();
            var stream = masker.BeginStream(holdLimit: 1024);
            Assert.Equal(RewriteAction.Replace, stream.Write(SequenceFactory.FromSegments(frame, [.. PgRowStreamTests.Cuts(frame.Length, [3, 11, 700])]), final: true, output).Action);
            var expected = CopyData(BinaryTuple(["**** **** **** 1111", big], fileHeader: first));
            Assert.Equal(expected, output.WrittenSpan.ToArray());
        }
    }

    [Theory]
    [InlineData("COPY t TO STDOUT (FORMAT csv, HEADER)")]
    [InlineData("COPY t TO STDOUT (HEADER)")]
    public void A_huge_header_line_goes_out_as_it_came_and_the_rows_after_it_are_masked(string statement)
    {
        var copy = Statement(statement);
        var shape = new PgResultShape([Text(new MaskAction("cards", MaskStrategy.Redact))]);
        var masker = new PgCopyMasker(copy, shape, MaskingProperties.Session, Rows(), new MaskingCounter(null));
        var header = CopyData(Encoding.UTF8.GetBytes(new string('c', 3_000) + "\n"));
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(RewriteAction.Replace, masker.BeginStream(holdLimit: 1024).Write(new ReadOnlySequence<byte>(header), final: true, output).Action);
        Assert.Equal(header, output.WrittenSpan.ToArray());
        output.ResetWrittenCount();
        Assert.True(masker.TryMask(Line(copy, ["4111 1111 1111 1111"]), output));
        Assert.DoesNotContain("4111"u8.ToArray(), output.WrittenSpan.ToArray());
    }

    private static void AssertSameAsWhole(PgCopyStatement copy, PgResultShape shape, byte[] data, int[] cuts)
    {
        var whole = new ArrayBufferWriter<byte>();
        var wholeMasker = new PgCopyMasker(copy, shape, MaskingProperties.Session, Rows(), new MaskingCounter(null));
        var accepted = wholeMasker.TryMask(data, whole);

        var frame = CopyData(data);
        var (decision, streamed) = Stream(copy, shape, frame, PgRowStreamTests.Cuts(frame.Length, cuts), holdLimit: 1 << 20);
        if (accepted)
        {
            Assert.Equal(RewriteAction.Replace, decision.Action);
            Assert.Equal(whole.WrittenSpan.ToArray(), streamed);
        }
        else
        {
            Assert.Equal(RewriteAction.End, decision.Action);
            Assert.Equal(SessionEndReason.ProtocolViolation, decision.EndReason);
        }
    }

    [Fact]
    public void The_statements_the_properties_use_are_read()
    {
        Assert.All(Statements, s => Assert.NotNull(PgCopyStatement.TryRead(Encoding.UTF8.GetBytes(s))));
        Assert.Equal((byte)'\\', Statement(Statements[4]).Escape);
    }

    private static PgCopyStatement Statement(string sql) => PgCopyStatement.TryRead(Encoding.UTF8.GetBytes(sql))!;

    private static PgRowMasker Rows() => new(MaskingProperties.Session, new MaskingCounter(null));

    private static PgColumnPlan Text(MaskAction? action) => new(action, false, 25, 0);

    private static (RewriteDecision Decision, byte[] Output) Stream(PgCopyStatement copy, PgResultShape shape, byte[] frame, IReadOnlyList<int> parts, long holdLimit)
    {
        var stream = new PgCopyMasker(copy, shape, MaskingProperties.Session, Rows(), new MaskingCounter(null)).BeginStream(holdLimit);
        var output = new ArrayBufferWriter<byte>();
        RewriteDecision decision = default;
        var at = 0;
        var sizes = parts.Count == 1 ? PgRowStreamTests.Cuts(frame.Length, [parts[0]]) : parts;
        for (var i = 0; i < sizes.Count; i++)
        {
            var part = SequenceFactory.FromSegments(frame[at..(at + sizes[i])], [.. PgRowStreamTests.Cuts(sizes[i], [1, 2, 5])]);
            at += sizes[i];
            decision = stream.Write(part, final: i == sizes.Count - 1, output);
            if (decision.Action != RewriteAction.Replace)
            {
                break;
            }
        }

        return (decision, output.WrittenSpan.ToArray());
    }

    /// <summary>A row as PostgreSQL's COPY writes it (copyto.c): text escapes, or CSV quoting where needed.</summary>
    private static byte[] Line(PgCopyStatement copy, string?[] values)
    {
        var delimiter = (char)copy.Delimiter;
        var nullString = Encoding.UTF8.GetString(copy.Null);
        var line = new StringBuilder();
        for (var i = 0; i < values.Length; i++)
        {
            if (i > 0)
            {
                line.Append(delimiter);
            }

            var v = values[i];
            if (v is null)
            {
                line.Append(nullString);
            }
            else if (copy.Format == PgCopyFormat.Csv)
            {
                var (quote, escape) = ((char)copy.Quote, (char)copy.Escape);
                var needs = v == nullString || v.Length == 0 || v.IndexOfAny([delimiter, quote, escape, '\n', '\r']) >= 0;
                line.Append(needs ? quote + string.Concat(v.Select(c => c == quote || c == escape ? $"{escape}{c}" : c.ToString())) + quote : v);
            }
            else
            {
                foreach (var c in v)
                {
                    line.Append(c switch
                    {
                        '\\' => "\\\\",
                        '\n' => "\\n",
                        '\r' => "\\r",
                        _ when c == delimiter => $"\\{c}",
                        _ => c.ToString(),
                    });
                }
            }
        }

        return Encoding.UTF8.GetBytes(line.Append('\n').ToString());
    }

    private static byte[] BinaryTuple(string?[] values, bool fileHeader)
    {
        var body = new ArrayBufferWriter<byte>();
        if (fileHeader)
        {
            body.Write(PgCopyMasker.BinarySignature);
            body.Write(new byte[8]); // flags, no header extension
        }

        BinaryPrimitives.WriteInt16BigEndian(body.GetSpan(2), (short)values.Length);
        body.Advance(2);
        foreach (var v in values)
        {
            var bytes = v is null ? null : Encoding.UTF8.GetBytes(v);
            BinaryPrimitives.WriteInt32BigEndian(body.GetSpan(4), bytes?.Length ?? -1);
            body.Advance(4);
            body.Write(bytes ?? []);
        }

        return body.WrittenSpan.ToArray();
    }

    private static byte[] CopyData(byte[] data)
    {
        var frame = new byte[5 + data.Length];
        frame[0] = (byte)'d';
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), 4 + data.Length);
        data.CopyTo(frame, 5);
        return frame;
    }

    private static string Body(ReadOnlySpan<byte> frame)
    {
        Assert.Equal((byte)'d', frame[0]);
        Assert.Equal(frame.Length - 1, BinaryPrimitives.ReadInt32BigEndian(frame[1..]));
        return Encoding.UTF8.GetString(frame[5..]);
    }
}
