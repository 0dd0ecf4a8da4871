using System.Text;
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
/// </summary>
internal static class ServerMessageMasking
{
    public const string Withheld = "(withheld: this session is masked, and the text may show values)";

    private const string Masked = "[masked]";

    /// <summary>Masks what stands between the first and the last <paramref name="quote"/> (to the end when there is one).</summary>
    public static string MaskQuoted(string text, char quote)
    {
        var first = text.IndexOf(quote, StringComparison.Ordinal);
        if (first < 0)
        {
            return text;
        }

        var last = text.LastIndexOf(quote);
        return last > first ? string.Concat(text.AsSpan(0, first + 1), Masked, text.AsSpan(last)) : string.Concat(text.AsSpan(0, first + 1), Masked);
    }

    /// <summary>Whether any content detector (every kind, whatever the session scans results for) finds a value in the text.</summary>
    public static bool ShowsValue(string text) => ContentDetector.Detect(Encoding.UTF8.GetBytes(text), ContentKinds.All) != ContentKinds.None;
}
