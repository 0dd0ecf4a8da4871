using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Proxy.Core.Masking;

/// <summary>
/// Writes the masked text of one value. Allocation-free: the protocol rewriters size the destination with
/// <see cref="MaxLength"/> and write straight into their output buffer.
/// </summary>
public static class ValueMasker
{
    private const int TokenHexChars = 24; // 96 bits of the HMAC: collisions are not a practical concern for joins
    private static ReadOnlySpan<byte> TokenPrefix => "tok_"u8;

    /// <summary>The length of every <see cref="MaskStrategy.Token"/> value.</summary>
    public const int TokenLength = 4 + TokenHexChars;

    /// <summary>Bytes <see cref="Write"/> needs at most for a value of <paramref name="valueLength"/> bytes.</summary>
    public static int MaxLength(MaskAction action, int valueLength) => action.Strategy switch
    {
        MaskStrategy.Redact => action.Replacement.Length,
        MaskStrategy.Partial => valueLength, // every rune becomes one '*' or itself
        MaskStrategy.Token => TokenLength,
        _ => 0,
    };

    /// <summary>Writes the masked value; returns its length, or -1 for SQL NULL.</summary>
    public static int Write(MaskAction action, ReadOnlySpan<byte> value, ReadOnlySpan<byte> tokenKey, Span<byte> destination)
    {
        switch (action.Strategy)
        {
            case MaskStrategy.Redact:
                action.Replacement.CopyTo(destination);
                return action.Replacement.Length;
            case MaskStrategy.Partial:
                return WritePartial(value, action.Keep, destination);
            case MaskStrategy.Token:
                return WriteToken(value, tokenKey, destination);
            default:
                return -1;
        }
    }

    private static int WritePartial(ReadOnlySpan<byte> value, int keep, Span<byte> destination)
    {
        if (value.Length <= Vector256<byte>.Count && TryWritePartialShort(value, keep, destination))
        {
            return value.Length;
        }

        return System.Text.Ascii.IsValid(value) ? WritePartialAscii(value, keep, destination) : WritePartialRunes(value, keep, destination);
    }

    /// <summary>
    /// <see cref="WritePartialAscii"/> for a value of up to 32 bytes (a card number, a phone number, most e-mail
    /// addresses), all its bytes classified at once (<see cref="MaskVector"/>). False, with nothing written, when
    /// the value is not ASCII (the rune path then decides) or the CPU lacks AVX2.
    /// </summary>
    internal static bool TryWritePartialShort(ReadOnlySpan<byte> value, int keep, Span<byte> destination)
    {
        if (!Avx2.IsSupported)
        {
            return false;
        }

        if (value.Length < Vector128<byte>.Count)
        {
            return TryWritePartialTiny(value, keep, destination);
        }

        // No call on this path returns or takes a vector: one that did made the vector's local live in memory, so
        // every use of it stored and reloaded (perf on MaskedStreamBenchmarks, the card number's path).
        var x = Load(value);
        if (x.ExtractMostSignificantBits() != 0)
        {
            return false; // a byte of 0x80 or more: not ASCII
        }

        Store(MaskVector(x, value.Length, keep), value.Length, destination);
        return true;
    }

    /// <summary>
    /// <see cref="TryWritePartialShort"/> for values under 16 bytes, through a buffer on the stack: in a method of its
    /// own, so the buffer's address being taken does not keep the longer values' vectors in memory too.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static bool TryWritePartialTiny(ReadOnlySpan<byte> value, int keep, Span<byte> destination)
    {
        Span<byte> buffer = stackalloc byte[Vector256<byte>.Count];
        buffer.Clear(); // the padding must be zeros: they are neither shown nor letters and digits
        value.CopyTo(buffer);
        var x = Vector256.Create<byte>(buffer);
        if (x.ExtractMostSignificantBits() != 0)
        {
            return false;
        }

        MaskVector(x, value.Length, keep).CopyTo(buffer);
        buffer[..value.Length].CopyTo(destination);
        return true;
    }

    /// <summary>
    /// The masked form of an ASCII value of <paramref name="length"/> bytes in <paramref name="x"/> (zeros after
    /// it): one bit per byte says letter or digit, one says never shown, the first (letters and digits − keep) of
    /// the former join the latter, and those bytes become '*'.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> MaskVector(Vector256<byte> x, int length, int keep)
    {
        var inValue = length == 32 ? uint.MaxValue : (1u << length) - 1;
        var digit = Vector256.LessThanOrEqual(x - Vector256.Create((byte)'0'), Vector256.Create((byte)9));
        var letter = Vector256.LessThanOrEqual((x | Vector256.Create((byte)0x20)) - Vector256.Create((byte)'a'), Vector256.Create((byte)25));
        var shown = Vector256.LessThan(x - Vector256.Create((byte)0x20), Vector256.Create((byte)0x5F)) // printable
            | Vector256.LessThanOrEqual(x - Vector256.Create((byte)0x09), Vector256.Create((byte)4)); // tab to carriage return
        var alphanumeric = (digit | letter).ExtractMostSignificantBits() & inValue;
        var star = ~shown.ExtractMostSignificantBits() & inValue;
        var hide = BitOperations.PopCount(alphanumeric) - keep;
        if (hide > 0)
        {
            star |= hide >= 32 ? alphanumeric : Bmi2.IsSupported ? Bmi2.ParallelBitDeposit((1u << hide) - 1, alphanumeric) : LowestSetBits(alphanumeric, hide);
        }

        // Each byte takes its bit of `star`: the 4 bytes of the mask broadcast, byte i picking mask byte i / 8
        // (within each 128-bit lane, where AVX2's byte shuffle works), then tested against bit i % 8.
        var spread = Avx2.Shuffle(Vector256.Create(star).AsByte(), SpreadIndices);
        var masked = Vector256.Equals(spread & BitOfByte, BitOfByte);
        return Vector256.ConditionalSelect(masked, Vector256.Create((byte)'*'), x);
    }

    /// <summary>
    /// A value of 16 to 32 bytes in a vector, zeros after it: two overlapping 16-byte loads and a shuffle that
    /// moves the second down into place (copying the value into a vector's memory and loading that was a stalled
    /// store-to-load forward and two calls to copy a few bytes).
    /// </summary>
    private static Vector256<byte> Load(ReadOnlySpan<byte> value)
    {
        ref var source = ref MemoryMarshal.GetReference(value);
        var beyond = Vector256<byte>.Count - value.Length; // 0 to 16: how far the last 16 bytes start before byte 16
        var tail = Vector128.LoadUnsafe(ref source, (nuint)(value.Length - Vector128<byte>.Count));
        var upper = Ssse3.Shuffle(tail, Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(IndicesThenNone), (nuint)beyond));
        return Vector256.Create(Vector128.LoadUnsafe(ref source), upper);
    }

    /// <summary>Writes the first <paramref name="length"/> (16 to 32) bytes of <paramref name="result"/>: two overlapping 16-byte stores.</summary>
    private static void Store(Vector256<byte> result, int length, Span<byte> destination)
    {
        ref var target = ref MemoryMarshal.GetReference(destination[..length]);
        var lower = result.GetLower();
        var start = length - Vector128<byte>.Count; // the last 16 bytes: lower-lane bytes from here, then upper-lane bytes
        var last = Ssse3.Shuffle(lower, Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(IndicesThenNone), (nuint)start))
            | Ssse3.Shuffle(result.GetUpper(), Vector128.LoadUnsafe(ref MemoryMarshal.GetReference(NoneThenIndices), (nuint)start));
        lower.StoreUnsafe(ref target);
        last.StoreUnsafe(ref target, (nuint)start);
    }

    /// <summary>Shuffle indices: byte positions 0-15, then none (0x80 makes a shuffle write zero); loaded from an offset, they shift bytes down.</summary>
    private static ReadOnlySpan<byte> IndicesThenNone =>
    [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
    ];

    /// <summary>Shuffle indices: none, then byte positions 0-15; loaded from an offset, they shift bytes up.</summary>
    private static ReadOnlySpan<byte> NoneThenIndices =>
    [
        0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
    ];

    private static readonly Vector256<byte> SpreadIndices = Vector256.Create(
        (byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);

    private static readonly Vector256<byte> BitOfByte = Vector256.Create(
        (byte)1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128);

    /// <summary>The lowest <paramref name="count"/> set bits of <paramref name="bits"/> (what BMI2's PDEP gives at once).</summary>
    internal static uint LowestSetBits(uint bits, int count)
    {
        var lowest = 0u;
        for (; count > 0 && bits != 0; count--)
        {
            lowest |= bits & (0u - bits);
            bits &= bits - 1;
        }

        return lowest;
    }

    /// <summary>
    /// <see cref="WritePartialRunes"/> for ASCII text (card numbers, most personal data), byte by byte: the same
    /// classes (letters and digits; punctuation, symbols and whitespace; control characters) without decoding
    /// runes or looking up Unicode categories. A masked value is written on every masked row, so this is hot:
    /// each byte's class comes from a table and its output is chosen without a branch (43.5 → 29.5 ns over a
    /// mix of cards, e-mail addresses and phone numbers, in a loop against the branching version).
    /// </summary>
    internal static int WritePartialAscii(ReadOnlySpan<byte> value, int keep, Span<byte> destination)
    {
        var classes = AsciiClasses;
        var hide = -keep; // letters and digits still to hide: all but the last `keep`
        foreach (var b in value)
        {
            hide += classes[b] & Alphanumeric;
        }

        destination = destination[..value.Length];
        for (var i = 0; i < value.Length; i++)
        {
            var b = value[i];
            var c = classes[b];
            var alphanumeric = c & Alphanumeric;
            var star = (c >> 1) | (alphanumeric & (int)((uint)-hide >> 31)); // a control character, or one to hide (hide > 0)
            hide -= alphanumeric;
            destination[i] = (byte)(b ^ ((b ^ '*') & -star));
        }

        return value.Length;
    }

    private const int Alphanumeric = 1;

    /// <summary>Per byte: 1 for an ASCII letter or digit, 2 for a byte never shown (control characters, non-ASCII), 0 for one shown as it is.</summary>
    private static readonly byte[] AsciiClasses = BuildAsciiClasses();

    private static byte[] BuildAsciiClasses()
    {
        var classes = new byte[256];
        for (var b = 0; b < classes.Length; b++)
        {
            classes[b] = (byte)(char.IsAsciiLetterOrDigit((char)b) ? Alphanumeric : b is (>= 0x20 and < 0x7F) or (>= 0x09 and <= 0x0D) ? 0 : 2);
        }

        return classes;
    }

    internal static int WritePartialRunes(ReadOnlySpan<byte> value, int keep, Span<byte> destination)
    {
        var visibleFrom = CountAlphanumeric(value) - keep;
        int written = 0, seen = 0;
        for (var at = 0; at < value.Length;)
        {
            if (Rune.DecodeFromUtf8(value[at..], out var rune, out var consumed) != System.Buffers.OperationStatus.Done)
            {
                destination[written++] = (byte)'*'; // bytes that are not text are never shown
                at++;
                continue;
            }

            if (Rune.IsLetterOrDigit(rune) && seen++ < visibleFrom)
            {
                destination[written++] = (byte)'*';
            }
            else if (Rune.IsLetterOrDigit(rune) || Rune.IsPunctuation(rune) || Rune.IsWhiteSpace(rune) || Rune.IsSymbol(rune))
            {
                value.Slice(at, consumed).CopyTo(destination[written..]);
                written += consumed;
            }
            else
            {
                destination[written++] = (byte)'*'; // control and format characters could smuggle anything
            }

            at += consumed;
        }

        return written;
    }

    private static int CountAlphanumeric(ReadOnlySpan<byte> value)
    {
        var count = 0;
        for (var at = 0; at < value.Length;)
        {
            if (Rune.DecodeFromUtf8(value[at..], out var rune, out var consumed) == System.Buffers.OperationStatus.Done && Rune.IsLetterOrDigit(rune))
            {
                count++;
            }

            at += Math.Max(consumed, 1);
        }

        return count;
    }

    private static int WriteToken(ReadOnlySpan<byte> value, ReadOnlySpan<byte> key, Span<byte> destination)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, value, mac);
        return WriteTokenFromMac(mac, destination);
    }

    /// <summary>
    /// Writes the token of a value whose HMAC-SHA-256 under the session's token key was computed elsewhere (over a
    /// value too large to hold, in pieces); the same value gives the same token as <see cref="Write"/>.
    /// </summary>
    public static int WriteTokenFromMac(ReadOnlySpan<byte> mac, Span<byte> destination)
    {
        TokenPrefix.CopyTo(destination);
        var hex = destination[TokenPrefix.Length..];
        for (var i = 0; i < TokenHexChars / 2; i++)
        {
            hex[2 * i] = (byte)"0123456789abcdef"[mac[i] >> 4];
            hex[(2 * i) + 1] = (byte)"0123456789abcdef"[mac[i] & 0xF];
        }

        return TokenLength;
    }
}
