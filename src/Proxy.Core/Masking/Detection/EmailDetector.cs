namespace Gatehouse.Proxy.Core.Masking;

/// <summary>
/// <c>local@domain.tld</c>: a local part of RFC 5322 atext and dots, at least one dot in the domain, labels
/// of letters, digits and hyphens, and an alphabetic top-level label of two or more letters. A bare
/// <c>user@localhost</c> or <c>@handle</c> is not an address anyone needs hidden.
/// </summary>
internal static class EmailDetector
{
    public static bool Contains(ReadOnlySpan<byte> text)
    {
        for (var at = text.IndexOf((byte)'@'); at >= 0; at = ContentDetector.NextIndex(text, at, (byte)'@'))
        {
            var local = 0;
            while (at - local - 1 >= 0 && IsAtext(text[at - local - 1]))
            {
                local++;
            }

            if (local > 0 && text[at - 1] != '.' && DomainLength(text[(at + 1)..]))
            {
                return true;
            }
        }

        return false;
    }

    private static bool DomainLength(ReadOnlySpan<byte> rest)
    {
        int labels = 0, label = 0, alphaLabel = 0;
        var allAlpha = true;
        var at = 0;
        for (; at < rest.Length; at++)
        {
            var b = rest[at];
            if (ContentDetector.IsAlnum(b) || (b == '-' && label > 0))
            {
                label++;
                allAlpha &= !ContentDetector.IsDigit(b) && b != '-';
            }
            else if (b == '.' && label > 0 && at + 1 < rest.Length && ContentDetector.IsAlnum(rest[at + 1]))
            {
                labels++;
                label = 0;
                allAlpha = true;
            }
            else
            {
                break;
            }

            alphaLabel = allAlpha ? label : 0;
        }

        return labels >= 1 && label >= 2 && alphaLabel >= 2;
    }

    private static bool IsAtext(byte b) => ContentDetector.IsAlnum(b) || b is (byte)'.' or (byte)'_' or (byte)'%' or (byte)'+' or (byte)'-' or (byte)'\'';
}
