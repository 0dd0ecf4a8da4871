namespace Gatehouse.Proxy.Core.Masking;

/// <summary>
/// IBANs: two upper-case letters, two check digits, 11-30 upper-case alphanumerics, optionally in groups of
/// four separated by single spaces, with the ISO 13616 mod-97 checksum and, for the countries listed, the
/// country's exact length. Random upper-case codes fail the checksum 96 times in 97.
/// </summary>
internal static class IbanDetector
{
    private static readonly Dictionary<int, int> Lengths = new[]
    {
        ("DE", 22), ("GB", 22), ("FR", 27), ("ES", 24), ("IT", 27), ("NL", 18), ("BE", 16), ("CH", 21), ("AT", 20),
        ("PL", 28), ("SE", 24), ("NO", 15), ("DK", 18), ("FI", 18), ("IE", 22), ("PT", 25), ("LU", 20), ("CZ", 24),
    }.ToDictionary(c => (c.Item1[0] << 8) | c.Item1[1], c => c.Item2);

    public static bool Contains(ReadOnlySpan<byte> text)
    {
        Span<byte> iban = stackalloc byte[34];
        for (var at = 0; at + 15 <= text.Length; at++)
        {
            if (!IsUpper(text[at]) || !IsUpper(text[at + 1]) || !ContentDetector.IsDigit(text[at + 2]) || !ContentDetector.IsDigit(text[at + 3])
                || (at > 0 && ContentDetector.IsAlnum(text[at - 1])))
            {
                continue;
            }

            var n = 0;
            for (var i = at; i < text.Length && n < 34; i++)
            {
                if (IsUpper(text[i]) || ContentDetector.IsDigit(text[i]))
                {
                    iban[n++] = text[i];
                }
                else if (!(text[i] == ' ' && n % 4 == 0 && i + 1 < text.Length && ContentDetector.IsAlnum(text[i + 1])))
                {
                    break;
                }
            }

            if (n >= 15 && Valid(iban[..n]))
            {
                return true;
            }
        }

        return false;
    }

    private static bool Valid(ReadOnlySpan<byte> iban)
    {
        if (Lengths.TryGetValue((iban[0] << 8) | iban[1], out var expected) ? iban.Length != expected : iban.Length > 34)
        {
            return false;
        }

        var remainder = 0;
        for (var i = 0; i < iban.Length; i++)
        {
            var c = iban[(i + 4) % iban.Length]; // the first four characters move to the end
            remainder = ContentDetector.IsDigit(c) ? ((remainder * 10) + (c - '0')) % 97 : ((remainder * 100) + (c - 'A' + 10)) % 97;
        }

        return remainder == 1;
    }

    private static bool IsUpper(byte b) => (uint)(b - 'A') <= 25;
}
