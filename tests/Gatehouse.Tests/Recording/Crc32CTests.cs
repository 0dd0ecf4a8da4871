using System.Numerics;
using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Tests.Recording;

/// <summary>
/// The three-lane CRC-32C against the instruction applied one byte at a time: every record of every segment
/// carries it, so a wrong join would make a gateway's own recordings unreadable.
/// </summary>
public sealed class Crc32CTests
{
    private static readonly FsCheck.Config Config = FsCheck.Config.QuickThrowOnFailure.WithMaxTest(200);

    // Lengths around and across both lane sizes (3 × 256 and 3 × 4096 bytes), and the short ones in between.
    private static readonly Gen<int> Length = Gen.OneOf(
        Gen.Choose(0, 64), Gen.Choose(760, 780), Gen.Choose(0, 4000), Gen.Choose(12_280, 12_300), Gen.Choose(0, 40_000));

    private static readonly Gen<byte[]> Data = Length.SelectMany(n => Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), n));

    [Theory]
    [InlineData("", 0x00000000u)]
    [InlineData("123456789", 0xE3069283u)] // the check value of CRC-32C (RFC 3720, and every CRC catalogue)
    [InlineData("The quick brown fox jumps over the lazy dog", 0x22620404u)]
    public void Known_values(string text, uint expected)
        => Assert.Equal(expected, Crc32C.Compute(Encoding.ASCII.GetBytes(text)));

    [Fact]
    public void Thirty_two_bytes_of_zeros_and_of_ones_match_RFC_3720()
    {
        // RFC 3720, B.4: the iSCSI CRC's test patterns (bytes of the CRC given here as its value).
        Assert.Equal(0x8A9136AAu, Crc32C.Compute(new byte[32]));
        Assert.Equal(0x62A8AB43u, Crc32C.Compute(Enumerable.Repeat((byte)0xFF, 32).ToArray()));
        Assert.Equal(0x46DD794Eu, Crc32C.Compute([.. Enumerable.Range(0, 32).Select(i => (byte)i)]));
    }

    [Fact]
    public void Any_input_gives_what_the_instruction_gives_byte_by_byte()
        => Check.One(Config, Prop.ForAll(Gen.Zip(Data, ArbMap.Default.GeneratorFor<uint>()).ToArbitrary(), t =>
        {
            var (data, start) = t;
            Assert.Equal(ByteByByte(start, data), Crc32C.Append(start, data));
        }));

    [Fact]
    public void A_CRC_continued_over_any_split_equals_the_CRC_of_the_whole()
        => Check.One(Config, Prop.ForAll(Gen.Zip(Data, Gen.Choose(0, 40_000)).ToArbitrary(), t =>
        {
            var (data, at) = t;
            var cut = Math.Min(at, data.Length);
            Assert.Equal(Crc32C.Append(~0u, data), Crc32C.Append(Crc32C.Append(~0u, data.AsSpan(0, cut)), data.AsSpan(cut)));
        }));

    [Fact]
    public void A_single_flipped_bit_anywhere_in_a_long_input_changes_the_CRC()
    {
        var data = new byte[3 * 4096 + 3 * 256 + 13];
        new Random(7).NextBytes(data);
        var crc = Crc32C.Compute(data);
        foreach (var at in new[] { 0, 4095, 4096, 8191, 8192, 12_287, 12_288, 12_288 + 767, data.Length - 1 })
        {
            data[at] ^= 0x10;
            Assert.NotEqual(crc, Crc32C.Compute(data));
            data[at] ^= 0x10;
        }
    }

    private static uint ByteByByte(uint crc, byte[] data)
    {
        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc;
    }
}
