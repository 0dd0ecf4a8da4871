using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Protocols.Masking;

/// <summary>
/// The server's own error and notice texts in a masked session. They can quote a row's values: PostgreSQL's
/// <c>invalid input syntax for type integer: "4111 …"</c> (<c>SELECT card::int</c>), <c>Failing row contains
/// (…)</c> and <c>Key (card)=(…)</c>; MySQL's <c>XPATH syntax error: '…'</c> (error-based extraction through
/// <c>extractvalue</c>) and <c>Truncated incorrect DOUBLE value: '…'</c>. What masking hides in a result must
/// not come back in an error: the value a data error quotes is masked, details that show a row are withheld,
/// and a text in which a content detector finds anything is withheld whole. Names of tables, columns and
/// constraints, which such messages also quote, are kept where no value stands.
/// Texts are looked at as the UTF-8 bytes the server sent: a session that raises notices in a loop pays a
/// detector scan per text, not a decode and an encode.
/// </summary>
internal static class ServerMessageMasking
{
    public const string Withheld = "(withheld: this session is masked, and the text may show values)";

    public static ReadOnlySpan<byte> WithheldUtf8 => "(withheld: this session is masked, and the text may show values)"u8;

    private static ReadOnlySpan<byte> Masked => "[masked]"u8;

    /// <summary>What becomes of one text.</summary>
    public enum Verdict : byte
    {
        Keep,
        MaskQuoted,
        Withhold,
    }

    /// <summary>
    /// For a text that may quote a value: mask what stands between the first and the last <paramref name="quote"/>
    /// (to the end when there is one), unless a detector still finds a value, when it is withheld whole.
    /// </summary>
    public static Verdict JudgeQuoting(ReadOnlySpan<byte> text, byte quote)
    {
        if (text.IndexOf(quote) < 0)
        {
            return ShowsValue(text) ? Verdict.Withhold : Verdict.Keep;
        }

        var length = MaskedLength(text, quote);
        var rented = length > 512 ? System.Buffers.ArrayPool<byte>.Shared.Rent(length) : null;
        try
        {
            var masked = rented is null ? stackalloc byte[length] : rented.AsSpan(0, length);
            WriteMasked(text, quote, masked);
            return ShowsValue(masked) ? Verdict.Withhold : Verdict.MaskQuoted;
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>For a text that quotes no value: withheld when a detector finds one in it.</summary>
    public static Verdict JudgeText(ReadOnlySpan<byte> text) => ShowsValue(text) ? Verdict.Withhold : Verdict.Keep;

    /// <summary>The length of <paramref name="text"/> as <paramref name="verdict"/> leaves it.</summary>
    public static int Length(ReadOnlySpan<byte> text, Verdict verdict, byte quote) => verdict switch
    {
        Verdict.Withhold => WithheldUtf8.Length,
        Verdict.MaskQuoted => MaskedLength(text, quote),
        _ => text.Length,
    };

    /// <summary>Writes <paramref name="text"/> as <paramref name="verdict"/> leaves it; returns the bytes written.</summary>
    public static int Write(ReadOnlySpan<byte> text, Verdict verdict, byte quote, Span<byte> destination)
    {
        switch (verdict)
        {
            case Verdict.Withhold:
                WithheldUtf8.CopyTo(destination);
                return WithheldUtf8.Length;
            case Verdict.MaskQuoted:
                return WriteMasked(text, quote, destination);
            default:
                text.CopyTo(destination);
                return text.Length;
        }
    }

    /// <summary>Whether any content detector (every kind, whatever the session scans results for) finds a value in the text.</summary>
    public static bool ShowsValue(ReadOnlySpan<byte> utf8) => ContentDetector.Detect(utf8, ContentKinds.All) != ContentKinds.None;

    // An ASCII quote byte never occurs inside a multi-byte UTF-8 sequence, so cutting at it keeps the text valid.
    private static int MaskedLength(ReadOnlySpan<byte> text, byte quote)
    {
        var first = text.IndexOf(quote);
        if (first < 0)
        {
            return text.Length;
        }

        var last = text.LastIndexOf(quote);
        return first + 1 + Masked.Length + (last > first ? text.Length - last : 0);
    }

    private static int WriteMasked(ReadOnlySpan<byte> text, byte quote, Span<byte> destination)
    {
        var first = text.IndexOf(quote);
        if (first < 0)
        {
            text.CopyTo(destination);
            return text.Length;
        }

        var last = text.LastIndexOf(quote);
        text[..(first + 1)].CopyTo(destination);
        Masked.CopyTo(destination[(first + 1)..]);
        var at = first + 1 + Masked.Length;
        if (last > first)
        {
            text[last..].CopyTo(destination[at..]);
            at += text.Length - last;
        }

        return at;
    }
}
