using System.Buffers;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Gatehouse.Protocols.MySql;
using Gatehouse.Protocols.MySql.Masking;
using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Tests.Masking;

/// <summary>
/// The MySQL row masker's invariants as FsCheck properties, for text rows and binary rows alike: masking
/// keeps the column count, NULLs stay NULL, every column without a rule or a detector hit stays
/// byte-identical, and a masked value is never the original; lengths above 250 bytes exercise the longer
/// length prefixes.
/// </summary>
public sealed class MySqlMaskingProperties
{
    private static readonly FsCheck.Config Config = FsCheck.Config.QuickThrowOnFailure.WithMaxTest(300);

    private static readonly Gen<string> Fragment = Gen.Elements(
        "4111 1111 1111 1111", "jane@example.com", "078-05-1120", "order", " ", "2026-12-03", "zoë", "1234", new string('x', 300));

    internal static readonly Gen<string?> Value = Gen.Choose(0, 4).SelectMany(n => Gen.ArrayOf(Fragment, n)).Select(f => (string?)string.Concat(f))
        .Or(Gen.Constant<string?>(null));

    private static readonly MaskingSession Session = MaskingProperties.Session;

    private static readonly MaskAction[] Actions = MaskingProperties.Actions;

    internal static readonly MySqlColumn Text = new("app", "t", "c", "c", 45, MySqlType.VarString);

    internal static readonly Gen<MySqlColumnPlan> Plan = Gen.Choose(0, 5).Select(k => k switch
    {
        < 4 => new MySqlColumnPlan(Actions[k], false, Text),
        4 => new MySqlColumnPlan(null, true, Text),
        _ => new MySqlColumnPlan(null, false, Text),
    });

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Masking_keeps_the_column_count_nulls_and_every_column_without_a_rule(bool binary)
    {
        var gen = Gen.Choose(1, 10).SelectMany(n => Gen.Zip(Gen.ArrayOf(Value, n), Gen.ArrayOf(Plan, n)));
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var (values, plans) = t;
            var row = binary ? BinaryRow(values) : TextRow(values);
            var output = new ArrayBufferWriter<byte>();
            var masker = new MySqlRowMasker(Session, new MaskingCounter(null));
            var error = masker.TryMask(row, 7, new MySqlResultShape(plans), binary, output, out var rewritten);
            Assert.Null(error);
            List<byte[]?> after;
            if (rewritten)
            {
                var written = output.WrittenSpan;
                Assert.Equal(written.Length - 4, written[0] | (written[1] << 8) | (written[2] << 16));
                Assert.Equal(7, written[3]); // the row keeps its sequence id
                after = Read(written[4..].ToArray(), values.Length, binary);
            }
            else
            {
                after = values.Select(v => v is null ? null : Encoding.UTF8.GetBytes(v)).ToList();
            }

            Assert.Equal(values.Length, after.Count);
            for (var i = 0; i < values.Length; i++)
            {
                var original = values[i] is null ? null : Encoding.UTF8.GetBytes(values[i]!);
                if (original is null)
                {
                    Assert.Null(after[i]);
                }
                else if (plans[i].Action is null && !(plans[i].Scan && ContentDetector.Detect(original, ContentKinds.All) != ContentKinds.None))
                {
                    Assert.Equal(original, after[i]);
                }
                else if (plans[i].Action?.Strategy == MaskStrategy.Partial)
                {
                    Assert.Equal(values[i]!.Length, Encoding.UTF8.GetString(after[i]!).Length); // shape kept: each letter or digit one star
                }
                else
                {
                    Assert.NotEqual(original, after[i]);
                }
            }
        }).Check(Config);
    }

    [Fact]
    public void A_binary_row_with_an_unknown_type_or_a_truncated_value_is_refused_not_passed()
    {
        var masker = new MySqlRowMasker(Session, new MaskingCounter(null));
        var unknown = new MySqlResultShape([new MySqlColumnPlan(null, false, Text with { Type = (MySqlType)100 })]);
        Assert.NotNull(masker.TryMask([0x00, 0x00, 0x01, 0x41], 1, unknown, binary: true, new ArrayBufferWriter<byte>(), out _));
        var text = new MySqlResultShape([new MySqlColumnPlan(Actions[0], false, Text)]);
        Assert.NotNull(masker.TryMask([0x05, 0x41], 1, text, binary: false, new ArrayBufferWriter<byte>(), out _));
        Assert.NotNull(masker.TryMask([0x01, 0x41, 0x42], 1, text, binary: false, new ArrayBufferWriter<byte>(), out _));
    }

    internal static byte[] TextRow(string?[] values)
    {
        var row = new List<byte>();
        foreach (var v in values)
        {
            if (v is null)
            {
                row.Add(0xFB);
            }
            else
            {
                AddLengthEncoded(row, Encoding.UTF8.GetBytes(v));
            }
        }

        return [.. row];
    }

    internal static byte[] BinaryRow(string?[] values)
    {
        var bitmap = new byte[(values.Length + 9) / 8];
        var row = new List<byte>();
        for (var i = 0; i < values.Length; i++)
        {
            if (values[i] is null)
            {
                bitmap[(i + 2) >> 3] |= (byte)(1 << ((i + 2) & 7));
            }
            else
            {
                AddLengthEncoded(row, Encoding.UTF8.GetBytes(values[i]!));
            }
        }

        return [0x00, .. bitmap, .. row];
    }

    private static void AddLengthEncoded(List<byte> row, byte[] value)
    {
        if (value.Length < 0xFB)
        {
            row.Add((byte)value.Length);
        }
        else
        {
            row.AddRange([0xFC, (byte)value.Length, (byte)(value.Length >> 8)]);
        }

        row.AddRange(value);
    }

    private static List<byte[]?> Read(byte[] row, int count, bool binary)
    {
        var values = new List<byte[]?>();
        var at = binary ? 1 + ((count + 9) / 8) : 0;
        for (var i = 0; i < count; i++)
        {
            if (binary ? (row[1 + ((i + 2) >> 3)] & (1 << ((i + 2) & 7))) != 0 : row[at] == 0xFB)
            {
                at += binary ? 0 : 1;
                values.Add(null);
                continue;
            }

            var reader = new MySqlPayloadReader(row.AsSpan(at));
            Assert.True(reader.TryLengthEncodedBytes(out var value));
            values.Add(value.ToArray());
            at = row.Length - reader.Remaining;
        }

        Assert.Equal(row.Length, at);
        return values;
    }
}
