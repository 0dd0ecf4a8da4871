namespace Gatehouse.Proxy.Core.Masking;

/// <summary>
/// US Social Security numbers written <c>AAA-GG-SSSS</c> (hyphens or single spaces) with the SSA's invalid
/// ranges excluded (area 000, 666, 900-999; group 00; serial 0000). Bare nine-digit numbers are left alone:
/// far more of them are ids and amounts than SSNs, and a column rule covers a known SSN column.
/// </summary>
internal static class SsnDetector
{
    public static bool Contains(ReadOnlySpan<byte> text)
    {
        for (var at = 0; at + 11 <= text.Length; at++)
        {
            var s = text.Slice(at, 11);
            if (s[3] is not ((byte)'-' or (byte)' ') || s[6] != s[3] || (at > 0 && (ContentDetector.IsAlnum(text[at - 1]) || text[at - 1] == '-'))
                || (at + 11 < text.Length && (ContentDetector.IsAlnum(text[at + 11]) || text[at + 11] == '-')))
            {
                continue;
            }

            if (!Digits(s[..3], out var area) || !Digits(s.Slice(4, 2), out var group) || !Digits(s[7..], out var serial))
            {
                continue;
            }

            if (area is not (0 or 666) && area < 900 && group != 0 && serial != 0)
            {
                return true;
            }
        }

        return false;
    }

    private static bool Digits(ReadOnlySpan<byte> s, out int value)
    {
        value = 0;
        foreach (var b in s)
        {
            if (!ContentDetector.IsDigit(b))
            {
                return false;
            }

            value = (value * 10) + (b - '0');
        }

        return true;
    }
}
