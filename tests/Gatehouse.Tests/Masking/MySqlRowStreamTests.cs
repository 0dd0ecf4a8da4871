using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Gatehouse.Protocols.MySql;
using Gatehouse.Protocols.MySql.Masking;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Tests.Masking;

/// <summary>
/// A MySQL row masked as its bytes stream (<see cref="MySqlRowStream"/>, for rows of 16 MiB or more): it gives
/// exactly the bytes <see cref="MySqlRowMasker"/> gives for the whole row, however the row is cut; its output
/// is split into packets as a server splits them; and in a binary row, a NULL that a value's content decides
/// after the first packet went out ends the session rather than pass the value.
/// </summary>
public sealed class MySqlRowStreamTests
{
    private const int MaxPayload = 0xFFFFFF;
    private static readonly FsCheck.Config Config = FsCheck.Config.QuickThrowOnFailure.WithMaxTest(300);
    private static readonly MaskingSession Session = MaskingProperties.Session;

    private static readonly MySqlColumn Number = new("app", "t", "n", "n", 63, MySqlType.LongLong);

    // A binary LongLong too: fixed size, no length prefix, NULL when masked.
    private static readonly Gen<MySqlColumnPlan> Plan = MySqlMaskingProperties.Plan.Or(Gen.Elements(
        new MySqlColumnPlan(MaskingProperties.Actions[0], false, Number), new MySqlColumnPlan(null, true, Number), new MySqlColumnPlan(null, false, Number)));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Streaming_gives_the_bytes_whole_row_masking_gives_however_the_row_is_cut(bool binary)
    {
        var gen = Gen.Choose(1, 10).SelectMany(n => Gen.Zip(Gen.ArrayOf(MySqlMaskingProperties.Value, n), Gen.ArrayOf(Plan, n)))
            .SelectMany(t => Gen.ArrayOf(Gen.Choose(1, 40), 16).Select(cuts => (t.Item1, t.Item2, cuts)));
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var (values, plans, cuts) = t;
            if (!binary)
            {
                plans = [.. plans.Select(p => p.Column == Number ? p with { Column = MySqlMaskingProperties.Text } : p)]; // text rows are all text
            }

            var row = binary ? BinaryRow(values, plans) : MySqlMaskingProperties.TextRow(values);
            var shape = new MySqlResultShape(plans);
            var whole = new ArrayBufferWriter<byte>();
            Assert.Null(new MySqlRowMasker(Session, new MaskingCounter(null)).TryMask(row, 7, shape, binary, whole, out var rewritten));
            byte[] expected = rewritten ? whole.WrittenSpan.ToArray() : [(byte)row.Length, (byte)(row.Length >> 8), (byte)(row.Length >> 16), 7, .. row];

            var stream = new MySqlRowStream(new MySqlRowMasker(Session, new MaskingCounter(null)), valueLimit: 1 << 20);
            stream.Begin(shape, binary, 7);
            var output = new ArrayBufferWriter<byte>();
            for (int at = 0, k = 0; at < row.Length; k++)
            {
                var n = Math.Min(cuts[k % cuts.Length], row.Length - at);
                Assert.Null(stream.Write(row.AsSpan(at, n), output));
                at += n;
            }

            Assert.Null(stream.Finish(output));
            Assert.Equal(1, stream.PacketsOut);
            Assert.Equal(expected, output.WrittenSpan.ToArray());
        }).Check(Config);
    }

    [Fact]
    public void A_row_over_16_MiB_goes_out_in_full_packets_and_a_shorter_last_one_numbered_on()
    {
        var card = new MaskAction("cards", MaskStrategy.Partial, keep: 4);
        var email = new MaskAction("emails", MaskStrategy.Redact);
        var shape = new MySqlResultShape(
        [
            new MySqlColumnPlan(card, false, MySqlMaskingProperties.Text),
            new MySqlColumnPlan(null, false, MySqlMaskingProperties.Text),
            new MySqlColumnPlan(email, false, MySqlMaskingProperties.Text),
            new MySqlColumnPlan(null, true, MySqlMaskingProperties.Text),
        ]);
        var doc = new string('x', MaxPayload + 1000);
        var row = TextRow("4111 1111 1111 1111", doc, "ada@example.com", "call 4111 1111 1111 1111");
        var stream = new MySqlRowStream(new MySqlRowMasker(Session, new MaskingCounter(null)), valueLimit: 1 << 20);
        stream.Begin(shape, binary: false, sequence: 3);
        var output = new ArrayBufferWriter<byte>();
        for (var at = 0; at < row.Length; at += 65536)
        {
            Assert.Null(stream.Write(row.AsSpan(at, Math.Min(65536, row.Length - at)), output));
        }

        Assert.Null(stream.Finish(output));
        var packets = Packets(output.WrittenSpan.ToArray());
        Assert.Equal(2, stream.PacketsOut);
        Assert.Equal([(byte)3, (byte)4], packets.Select(p => p.Sequence));
        Assert.Equal(MaxPayload, packets[0].Payload.Length);
        var expected = TextRow("**** **** **** 1111", doc, "[redacted]", "[redacted]"); // the detectors redact what they find
        var joined = packets.SelectMany(p => p.Payload).ToArray();
        Assert.Equal(expected.Length, joined.Length);
        Assert.True(expected.AsSpan().SequenceEqual(joined), "the masked row differs");
    }

    [Fact]
    public void A_binary_NULL_decided_by_content_after_the_first_packet_ends_the_session()
    {
        var shape = new MySqlResultShape(
        [
            new MySqlColumnPlan(null, false, MySqlMaskingProperties.Text),
            new MySqlColumnPlan(null, true, Number), // a card number as an integer: the detectors mask it to NULL
        ]);
        byte[] row = [0x00, 0x00, .. TextRow(new string('x', MaxPayload + 10)), .. BitConverter.GetBytes(4111111111111111L)];
        var stream = new MySqlRowStream(new MySqlRowMasker(Session, new MaskingCounter(null)), valueLimit: 1 << 20);
        stream.Begin(shape, binary: true, sequence: 1);
        var output = new ArrayBufferWriter<byte>();
        var end = stream.Write(row, output);
        Assert.NotNull(end);
        Assert.Equal(RewriteAction.End, end.Value.Action);
        Assert.Contains("NULL after its first packet", end.Value.Message, StringComparison.Ordinal);

        // The same number with a rule on its column is NULL whatever it holds: its bit is set before anything goes out.
        var ruled = new MySqlResultShape([shape.Columns[0], new MySqlColumnPlan(MaskingProperties.Actions[0], false, Number)]);
        stream.Begin(ruled, binary: true, sequence: 1);
        output = new ArrayBufferWriter<byte>();
        Assert.Null(stream.Write(row, output));
        Assert.Null(stream.Finish(output));
        var joined = Packets(output.WrittenSpan.ToArray()).SelectMany(p => p.Payload).ToArray();
        Assert.Equal(0b1000, joined[1]); // column 1's NULL bit (bits start at 2)
        Assert.Equal(row.Length - 8, joined.Length);
    }

    [Fact]
    public void A_row_that_ends_early_or_runs_past_its_columns_is_malformed()
    {
        var shape = new MySqlResultShape([new MySqlColumnPlan(MaskingProperties.Actions[1], false, MySqlMaskingProperties.Text)]);
        var stream = new MySqlRowStream(new MySqlRowMasker(Session, new MaskingCounter(null)), valueLimit: 1 << 20);
        stream.Begin(shape, binary: false, sequence: 1);
        Assert.Null(stream.Write([0x05, 0x41], new ArrayBufferWriter<byte>()));
        Assert.Equal(RewriteAction.End, stream.Finish(new ArrayBufferWriter<byte>())!.Value.Action);

        stream.Begin(shape, binary: false, sequence: 1);
        Assert.Equal(RewriteAction.End, stream.Write([0x01, 0x41, 0x42], new ArrayBufferWriter<byte>())!.Value.Action);
    }

    private static byte[] BinaryRow(string?[] values, MySqlColumnPlan[] plans)
    {
        var bitmap = new byte[(values.Length + 9) / 8];
        var row = new List<byte>();
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is null)
            {
                bitmap[(i + 2) >> 3] |= (byte)(1 << ((i + 2) & 7));
            }
            else if (plans[i].Column == Number)
            {
                row.AddRange(BitConverter.GetBytes((long)Encoding.UTF8.GetByteCount(values[i]!) * 1_000_003));
            }
            else
            {
                row.AddRange(MySqlMaskingProperties.TextRow([values[i]]));
            }
        }

        return [0x00, .. bitmap, .. row];
    }

    /// <summary>A text row of values of any length (every length prefix a server writes).</summary>
    private static byte[] TextRow(params string[] values)
    {
        var row = new List<byte>();
        foreach (var value in values)
        {
            var bytes = Encoding.UTF8.GetBytes(value);
            Span<byte> prefix = stackalloc byte[9];
            row.AddRange(prefix[..MySqlRowMasker.WriteLengthEncoded(prefix, (ulong)bytes.Length)].ToArray());
            row.AddRange(bytes);
        }

        return [.. row];
    }

    private static List<(byte Sequence, byte[] Payload)> Packets(byte[] bytes)
    {
        var packets = new List<(byte, byte[])>();
        for (var at = 0; at < bytes.Length;)
        {
            var length = bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16);
            packets.Add((bytes[at + 3], bytes.AsSpan(at + 4, length).ToArray()));
            at += 4 + length;
        }

        return packets;
    }
}
