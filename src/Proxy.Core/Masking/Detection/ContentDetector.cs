using System.Buffers;

namespace Gatehouse.Proxy.Core.Masking;

/// <summary>
/// Finds sensitive content in a value whatever its column is called (DESIGN §6): the safety net for
/// expressions, casts and concatenations. Each detector checks structure and, where the format has one, its
/// checksum, so order numbers, UUIDs and timestamps do not trip it. Allocation-free; a value split across
/// buffers is joined first, so the answer never depends on where reads happened to break it.
/// </summary>
public static class ContentDetector
{
    private const int StackLimit = 1024;

    /// <summary>The lowest kind among <paramref name="enabled"/> found in the UTF-8 text, or None.</summary>
    public static ContentKinds Detect(ReadOnlySpan<byte> utf8, ContentKinds enabled)
    {
        if ((enabled & ContentKinds.Card) != 0 && CardDetector.Contains(utf8)) return ContentKinds.Card;
        if ((enabled & ContentKinds.Email) != 0 && EmailDetector.Contains(utf8)) return ContentKinds.Email;
        if ((enabled & ContentKinds.UsSsn) != 0 && SsnDetector.Contains(utf8)) return ContentKinds.UsSsn;
        if ((enabled & ContentKinds.Iban) != 0 && IbanDetector.Contains(utf8)) return ContentKinds.Iban;
        if ((enabled & ContentKinds.Phone) != 0 && PhoneDetector.Contains(utf8)) return ContentKinds.Phone;
        if ((enabled & ContentKinds.AwsKey) != 0 && TokenDetectors.ContainsAwsKey(utf8)) return ContentKinds.AwsKey;
        if ((enabled & ContentKinds.Jwt) != 0 && TokenDetectors.ContainsJwt(utf8)) return ContentKinds.Jwt;
        if ((enabled & ContentKinds.PrivateKey) != 0 && TokenDetectors.ContainsPrivateKey(utf8)) return ContentKinds.PrivateKey;
        return ContentKinds.None;
    }

    /// <summary>Same answer as the span overload for any segmentation of the same bytes.</summary>
    public static ContentKinds Detect(in ReadOnlySequence<byte> utf8, ContentKinds enabled)
    {
        if (utf8.IsSingleSegment)
        {
            return Detect(utf8.FirstSpan, enabled);
        }

        var length = checked((int)utf8.Length);
        byte[]? rented = null;
        var buffer = length <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(length));
        try
        {
            utf8.CopyTo(buffer);
            return Detect(buffer[..length], enabled);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The next index of <paramref name="b"/> after <paramref name="at"/>, or -1.</summary>
    internal static int NextIndex(ReadOnlySpan<byte> text, int at, byte b)
    {
        var next = text[(at + 1)..].IndexOf(b);
        return next < 0 ? -1 : at + 1 + next;
    }

    internal static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    internal static bool IsAlnum(byte b) => IsDigit(b) || (uint)((b | 0x20) - 'a') <= 25;
}
