namespace Gatehouse.Proxy.Core.Masking;

/// <summary>
/// Phone numbers in the two forms that are unambiguous: E.164 (<c>+</c> then 8-15 digits, groups separated by
/// single spaces, hyphens, dots or parentheses) and North American <c>(555) 555-0123</c>, <c>555-555-0123</c>,
/// <c>555.555.0123</c>. Plain digit runs, dates and version numbers are not phone numbers here.
/// </summary>
internal static class PhoneDetector
{
    public static bool Contains(ReadOnlySpan<byte> text) => ContainsE164(text) || ContainsNanp(text);

    private static bool ContainsE164(ReadOnlySpan<byte> text)
    {
        for (var at = text.IndexOf((byte)'+'); at >= 0 && at + 1 < text.Length; at = ContentDetector.NextIndex(text, at, (byte)'+'))
        {
            if (at > 0 && ContentDetector.IsAlnum(text[at - 1]))
            {
                continue;
            }

            int digits = 0, i = at + 1;
            for (; i < text.Length; i++)
            {
                if (ContentDetector.IsDigit(text[i]))
                {
                    digits++;
                }
                else if (!(text[i] is (byte)' ' or (byte)'-' or (byte)'.' or (byte)'(' or (byte)')' && i + 1 < text.Length
                    && (ContentDetector.IsDigit(text[i + 1]) || text[i + 1] == '(')))
                {
                    break;
                }
            }

            if (digits is >= 8 and <= 15 && (i == text.Length || !ContentDetector.IsAlnum(text[i])))
            {
                return true;
            }
        }

        return false;
    }

    private static bool ContainsNanp(ReadOnlySpan<byte> text)
    {
        for (var at = 0; at + 12 <= text.Length; at++)
        {
            if (at > 0 && (ContentDetector.IsAlnum(text[at - 1]) || text[at - 1] is (byte)'-' or (byte)'.'))
            {
                continue;
            }

            var s = text[at..];
            int rest;
            if (s[0] == '(' && s.Length >= 14 && Digits(s.Slice(1, 3)) && s[4] == ')' && s[5] == ' ')
            {
                rest = 6;
            }
            else if (Digits(s[..3]) && s[3] is (byte)'-' or (byte)'.')
            {
                rest = 4;
            }
            else
            {
                continue;
            }

            var sep = rest == 6 ? (byte)'-' : s[3];
            if (s.Length >= rest + 8 && Digits(s.Slice(rest, 3)) && s[rest + 3] == sep && Digits(s.Slice(rest + 4, 4))
                && (s.Length == rest + 8 || !(ContentDetector.IsAlnum(s[rest + 8]) || s[rest + 8] is (byte)'-' or (byte)'.'))
                && s[rest == 6 ? 1 : 0] is >= (byte)'2' and <= (byte)'9')
            {
                return true;
            }
        }

        return false;
    }

    private static bool Digits(ReadOnlySpan<byte> s)
    {
        foreach (var b in s)
        {
            if (!ContentDetector.IsDigit(b))
            {
                return false;
            }
        }

        return true;
    }
}
