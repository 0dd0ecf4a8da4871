namespace Gatehouse.Proxy.Core.Masking;

/// <summary>Credentials by their fixed shapes: AWS access key ids, JWTs, PEM and PGP private-key blocks.</summary>
internal static class TokenDetectors
{
    private static readonly byte[][] AwsPrefixes = ["AKIA"u8.ToArray(), "ASIA"u8.ToArray(), "AGPA"u8.ToArray(), "AIDA"u8.ToArray(),
        "AROA"u8.ToArray(), "AIPA"u8.ToArray(), "ANPA"u8.ToArray(), "ANVA"u8.ToArray(), "ABIA"u8.ToArray(), "ACCA"u8.ToArray()];

    /// <summary>A four-letter prefix and 16 characters of base32 upper case, standing alone.</summary>
    public static bool ContainsAwsKey(ReadOnlySpan<byte> text)
    {
        for (var at = text.IndexOf((byte)'A'); at >= 0 && at + 20 <= text.Length; at = ContentDetector.NextIndex(text, at, (byte)'A'))
        {
            if ((at > 0 && ContentDetector.IsAlnum(text[at - 1])) || (at + 20 < text.Length && ContentDetector.IsAlnum(text[at + 20])))
            {
                continue;
            }

            var candidate = text.Slice(at, 20);
            var prefixed = false;
            foreach (var p in AwsPrefixes)
            {
                prefixed |= candidate.StartsWith(p);
            }

            if (prefixed && AllBase32(candidate[4..]))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary><c>eyJ</c> (base64url of <c>{"</c>) header, a payload, and a signature (empty for alg none).</summary>
    public static bool ContainsJwt(ReadOnlySpan<byte> text)
    {
        for (var at = text.IndexOf("eyJ"u8); at >= 0; at = NextJwt(text, at))
        {
            if (at > 0 && IsBase64Url(text[at - 1]))
            {
                continue;
            }

            var header = Run(text[at..]);
            var rest = text[(at + header)..];
            if (header < 10 || rest.Length < 2 || rest[0] != '.')
            {
                continue;
            }

            var payload = Run(rest[1..]);
            if (payload >= 10 && rest.Length > 1 + payload && rest[1 + payload] == '.')
            {
                return true;
            }
        }

        return false;
    }

    public static bool ContainsPrivateKey(ReadOnlySpan<byte> text)
    {
        var begin = text.IndexOf("-----BEGIN "u8);
        while (begin >= 0)
        {
            var line = text[(begin + 11)..];
            var end = line.IndexOf("-----"u8);
            if (end > 0 && end < 64 && (line[..end].EndsWith("PRIVATE KEY"u8) || line[..end].EndsWith("PRIVATE KEY BLOCK"u8)))
            {
                return true;
            }

            var next = line.IndexOf("-----BEGIN "u8);
            begin = next < 0 ? -1 : begin + 11 + next;
        }

        return false;
    }

    private static int NextJwt(ReadOnlySpan<byte> text, int at)
    {
        var next = text[(at + 1)..].IndexOf("eyJ"u8);
        return next < 0 ? -1 : at + 1 + next;
    }

    private static int Run(ReadOnlySpan<byte> s)
    {
        var n = 0;
        while (n < s.Length && IsBase64Url(s[n]))
        {
            n++;
        }

        return n;
    }

    private static bool AllBase32(ReadOnlySpan<byte> s)
    {
        foreach (var b in s)
        {
            if (!((uint)(b - 'A') <= 25 || (uint)(b - '2') <= 5))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsBase64Url(byte b) => ContentDetector.IsAlnum(b) || b is (byte)'-' or (byte)'_';
}
