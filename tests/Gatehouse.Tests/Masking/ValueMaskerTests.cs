using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Gatehouse.Proxy.Core.Masking;
using Xunit;

namespace Gatehouse.Tests.Masking;

public class ValueMaskerTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes("a-test-key-of-32-bytes-length!!!");

    private static string? Mask(MaskAction action, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var destination = new byte[ValueMasker.MaxLength(action, bytes.Length)];
        var length = ValueMasker.Write(action, bytes, Key, destination);
        return length < 0 ? null : Encoding.UTF8.GetString(destination, 0, length);
    }

    [Fact]
    public void Partial_keeps_the_last_digits_and_the_shape()
    {
        Assert.Equal("****-****-****-1111", Mask(new MaskAction("cards", MaskStrategy.Partial, keep: 4), "4111-1111-1111-1111"));
        Assert.Equal("*****@*******.com", Mask(new MaskAction("mail", MaskStrategy.Partial, keep: 3), "alice@example.com"));
    }

    [Fact]
    public void Partial_never_shows_more_than_asked_of_a_short_value()
    {
        Assert.Equal("12", Mask(new MaskAction("short", MaskStrategy.Partial, keep: 4), "12"));
        Assert.Equal("**", Mask(new MaskAction("none", MaskStrategy.Partial, keep: 0), "ab"));
    }

    [Fact]
    public void Redact_hides_the_length_too()
    {
        var action = new MaskAction("r", MaskStrategy.Redact);
        Assert.Equal(MaskAction.DefaultReplacement, Mask(action, "x"));
        Assert.Equal(MaskAction.DefaultReplacement, Mask(action, "a much longer secret value"));
    }

    [Fact]
    public void Tokens_are_deterministic_per_key_and_distinct_per_value()
    {
        var action = new MaskAction("t", MaskStrategy.Token);
        var a = Mask(action, "4111111111111111");
        Assert.Equal(a, Mask(action, "4111111111111111"));
        Assert.NotEqual(a, Mask(action, "4111111111111112"));
        Assert.StartsWith("tok_", a);
        Assert.DoesNotContain("4111", a);
    }

    [Fact]
    public void Null_strategy_yields_sql_null()
    {
        Assert.Null(Mask(new MaskAction("n", MaskStrategy.Null), "secret"));
    }

    [Fact]
    public void Partial_masking_of_ASCII_text_takes_a_byte_path_that_writes_what_the_rune_path_writes()
    {
        // Every ASCII byte, controls and DEL included, in values of any mix; keep from 0 past the value's length.
        var gen = Gen.Zip(Gen.ArrayOf(Gen.Choose(0, 127).Select(b => (byte)b)), Gen.Choose(0, 30));
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var (value, keep) = t;
            var bytes = new byte[value.Length];
            var runes = new byte[value.Length];
            Assert.Equal(ValueMasker.WritePartialRunes(value, keep, runes), ValueMasker.WritePartialAscii(value, keep, bytes));
            Assert.Equal(runes, bytes);
        }).Check(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(1000));
    }

    [Fact]
    public void Partial_masking_of_short_ASCII_values_a_vector_at_a_time_writes_what_the_byte_path_writes()
    {
        // Every ASCII byte in values up to 32 bytes (the vector path's reach), keep from 0 past the length. Without
        // AVX2 the path declines every value (CI and this project's machines have it).
        var gen = Gen.Zip(Gen.Choose(0, 32).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 127).Select(b => (byte)b), n)), Gen.Choose(0, 40));
        Prop.ForAll(gen.ToArbitrary(), t =>
        {
            var (value, keep) = t;
            var vector = new byte[value.Length];
            var bytes = new byte[value.Length];
            Assert.Equal(System.Runtime.Intrinsics.X86.Avx2.IsSupported, ValueMasker.TryWritePartialShort(value, keep, vector));
            if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
            {
                ValueMasker.WritePartialAscii(value, keep, bytes);
                Assert.Equal(bytes, vector);
            }
        }).Check(FsCheck.Config.QuickThrowOnFailure.WithMaxTest(5000));
    }

    [Fact]
    public void The_vector_path_leaves_non_ASCII_values_to_the_rune_path_and_writes_nothing()
    {
        // Both of the vector path's loads: a value under 16 bytes (copied in) and one of 16 or more (two overlapping loads).
        foreach (var value in new[] { "zoë-4111"u8.ToArray(), "4111-1111-1111-zoë-1111"u8.ToArray() })
        {
            var destination = new byte[value.Length];
            Assert.False(ValueMasker.TryWritePartialShort(value, 4, destination));
            Assert.All(destination, b => Assert.Equal(0, b));
        }

        var partial = new MaskAction("p", MaskStrategy.Partial, keep: 4);
        Assert.Equal("***-1111", Mask(partial, "zoë-1111")); // the rune path: ë is a letter
        Assert.Equal("************1111", Mask(partial, "4111111111111111"));
        Assert.Equal(new string('*', 29) + "-1111", Mask(partial, new string('4', 29) + "-1111")); // 34 bytes: past the vector, the byte path
    }

    [Theory]
    [InlineData(0b1011_0110u, 0, 0u)]
    [InlineData(0b1011_0110u, 2, 0b0000_0110u)]
    [InlineData(0b1011_0110u, 5, 0b1011_0110u)]
    [InlineData(0b1011_0110u, 9, 0b1011_0110u)]
    [InlineData(0xFFFF_FFFFu, 31, 0x7FFF_FFFFu)]
    public void Lowest_set_bits_match_what_PDEP_gives(uint bits, int count, uint expected)
        => Assert.Equal(expected, ValueMasker.LowestSetBits(bits, count));
}
