using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.Postgres.Masking;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Tests.Framing;

namespace Gatehouse.Tests.Masking;

/// <summary>
/// Masking's invariants as FsCheck properties: whatever the row and the plan, masking keeps the column count
/// and leaves columns nobody asked to mask byte-identical; a detector's answer does not depend on how the
/// value arrived in pieces.
/// </summary>
public sealed class MaskingProperties
{
    private static readonly FsCheck.Config Config = FsCheck.Config.QuickThrowOnFailure.WithMaxTest(300);

    private static readonly Gen<string> Fragment = Gen.Elements(
        "4111 1111 1111 1111", "4111111111111111", "4111-1111-1111-1112", "jane@example.com", "078-05-1120", "DE89 3704 0044 0532 0130 00",
        "+44 20 7946 0958", "AKIAIOSFODNN7EXAMPLE", "order", " ", "-", "2026-12-03", "550e8400-e29b-41d4-a716-446655440000", "zoë", "1234", "@", ".");

    private static readonly Gen<string?> Value = Gen.Choose(0, 6).SelectMany(n => Gen.ArrayOf(Fragment, n)).Select(f => (string?)string.Concat(f))
        .Or(Gen.Constant<string?>(null));

    /// <summary>Every detector on, each redacting; shared with <see cref="MySqlMaskingProperties"/>.</summary>
    internal static readonly MaskingSession Session = new MaskingPolicy([], ContentKinds.All,
        DetectorActions.RedactEach(),
        DetectorScope.Derived, strict: true, tokenKey: "a property test key, long enough"u8.ToArray()).ForSession([], "db")!;

    internal static readonly MaskAction[] Actions = [.. Enum.GetValues<MaskStrategy>().Select(s => new MaskAction("rule", s))];

    private static readonly Gen<PgColumnPlan> Plan = Gen.Choose(0, 5).Select(k => k switch
    {
        < 4 => new PgColumnPlan(Actions[k], false, 25, 0),
        4 => new PgColumnPlan(null, true, 25, 0),
        _ => new PgColumnPlan(null, false, 25, 0),
    });

    [Fact]
    public void Masking_keeps_the_column_count_and_every_column_without_a_rule()
    {
        var gen = Gen.Choose(0, 8).SelectMany(n => Gen.Zip(Gen.ArrayOf(Value, n), Gen.ArrayOf(Plan, n)));
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var (values, plans) = t;
            var body = RowBody(values);
            var output = new ArrayBufferWriter<byte>();
            var masker = new PgRowMasker(Session, new MaskingCounter(null));
            var rewritten = masker.TryMask(body, new PgResultShape(plans), output, out var malformed);
            Assert.False(malformed);
            var after = rewritten ? Values(output.WrittenSpan[5..]) : values.Select(v => v is null ? null : Encoding.UTF8.GetBytes(v)).ToList();
            Assert.Equal(values.Length, after.Count);
            for (var i = 0; i < values.Length; i++)
            {
                if (values[i] is null)
                {
                    Assert.Null(after[i]);
                }
                else if (plans[i].Action is null && !(plans[i].Scan && ContentDetector.Detect(Encoding.UTF8.GetBytes(values[i]!), ContentKinds.All) != ContentKinds.None))
                {
                    Assert.Equal(Encoding.UTF8.GetBytes(values[i]!), after[i]);
                }
                else if (plans[i].Action?.Strategy == MaskStrategy.Partial)
                {
                    Assert.Equal(values[i]!.Length, Encoding.UTF8.GetString(after[i]!).Length); // shape kept: each letter or digit one star
                }
                else
                {
                    Assert.NotEqual(Encoding.UTF8.GetBytes(values[i]!), after[i]);
                }
            }
        }).Check(Config);
    }

    [Fact]
    public void A_detectors_answer_does_not_depend_on_how_the_value_is_split()
    {
        var gen = Gen.Choose(1, 8).SelectMany(n => Gen.ArrayOf(Fragment, n)).Select(string.Concat)
            .SelectMany(text => Gen.ArrayOf(Gen.Choose(0, 6), 12).Select(sizes => (text, sizes)));
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var bytes = Encoding.UTF8.GetBytes(t.text);
            var sizes = new List<int>();
            var left = bytes.Length;
            foreach (var s in t.sizes)
            {
                var take = Math.Min(s, left);
                sizes.Add(take);
                left -= take;
            }

            sizes.Add(left);
            Assert.Equal(ContentDetector.Detect(bytes, ContentKinds.All), ContentDetector.Detect(SequenceFactory.FromSegments(bytes, sizes), ContentKinds.All));
        }).Check(Config);
    }

    private static byte[] RowBody(string?[] values)
    {
        var body = new ArrayBufferWriter<byte>();
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

    private static List<byte[]?> Values(ReadOnlySpan<byte> body)
    {
        var count = BinaryPrimitives.ReadInt16BigEndian(body);
        var values = new List<byte[]?>();
        var at = 2;
        for (var i = 0; i < count; i++)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(body[at..]);
            at += 4;
            values.Add(length < 0 ? null : body.Slice(at, length).ToArray());
            at += Math.Max(length, 0);
        }

        return values;
    }
}
