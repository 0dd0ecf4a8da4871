namespace Gatehouse.Proxy.Core.Masking;

/// <summary>
/// Payment card numbers: 13-19 digits, optionally grouped by single spaces or hyphens, Luhn-valid, with a
/// major network's prefix, and not part of a longer run of digits or letters (so an epoch timestamp, the digits
/// of an IBAN, or an order number that happens to pass Luhn inside a longer identifier do not count).
/// </summary>
internal static class CardDetector
{
    public static bool Contains(ReadOnlySpan<byte> text)
    {
        if (text.Length < 13 || text.IndexOfAnyInRange((byte)'0', (byte)'9') < 0)
        {
            return false;
        }

        Span<byte> digits = stackalloc byte[19];
        for (var start = 0; start < text.Length; start++)
        {
            if (!ContentDetector.IsDigit(text[start]) || (start > 0 && (ContentDetector.IsAlnum(text[start - 1]) || text[start - 1] is (byte)'-' or (byte)'.' or (byte)':'))
                || (start > 1 && text[start - 1] is (byte)' ' && ContentDetector.IsDigit(text[start - 2]))) // a later group of a longer grouped run
            {
                continue;
            }

            var count = 0;
            var at = start;
            while (at < text.Length && count < 19)
            {
                if (ContentDetector.IsDigit(text[at]))
                {
                    digits[count++] = (byte)(text[at] - '0');
                    at++;
                }
                else if (text[at] is (byte)' ' or (byte)'-' && at + 1 < text.Length && ContentDetector.IsDigit(text[at + 1]))
                {
                    at++;
                }
                else
                {
                    break;
                }

                if (count >= 13 && RunEnds(text, at) && Bounded(text, at) && Plausible(digits[..count]))
                {
                    return true;
                }
            }

            while (start + 1 < text.Length && ContentDetector.IsDigit(text[start + 1]))
            {
                start++; // the next candidate starts after this run
            }
        }

        return false;
    }

    // The grouped run stops here: no digit, and no separator followed by a digit (that would be more groups).
    private static bool RunEnds(ReadOnlySpan<byte> text, int at) =>
        at == text.Length || (!ContentDetector.IsDigit(text[at]) && !(text[at] is (byte)' ' or (byte)'-' && at + 1 < text.Length && ContentDetector.IsDigit(text[at + 1])));

    private static bool Bounded(ReadOnlySpan<byte> text, int end) =>
        end == text.Length || !(ContentDetector.IsAlnum(text[end]) || (text[end] is (byte)'-' or (byte)'.' or (byte)':' && end + 1 < text.Length && ContentDetector.IsDigit(text[end + 1])));

    private static bool Plausible(ReadOnlySpan<byte> d)
    {
        var two = (d[0] * 10) + d[1];
        var four = (two * 100) + (d[2] * 10) + d[3];
        var network = d[0] == 4 || two is >= 51 and <= 55 || four is >= 2221 and <= 2720 || two is 34 or 37 or 36 or 38 or 30 or 35
            || two is 62 or 65 || four == 6011 || (four / 10) is >= 644 and <= 649;
        return network && Luhn(d);
    }

    private static bool Luhn(ReadOnlySpan<byte> d)
    {
        var sum = 0;
        for (var i = 0; i < d.Length; i++)
        {
            var v = d[d.Length - 1 - i];
            if ((i & 1) == 1)
            {
                v *= 2;
                if (v > 9) v -= 9;
            }

            sum += v;
        }

        return sum % 10 == 0;
    }
}
