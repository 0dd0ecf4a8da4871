using System.Text;

namespace Gatehouse.Proxy.Core.Masking;

/// <summary>What to do with one sensitive value, and the name it is counted under (a rule or a detector).</summary>
public sealed class MaskAction
{
    /// <summary>The redaction text when a rule names none.</summary>
    public const string DefaultReplacement = "[redacted]";

    public MaskAction(string source, MaskStrategy strategy, int keep = 4, string? replacement = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(keep);
        Source = source;
        Strategy = strategy;
        Keep = keep;
        Replacement = Encoding.UTF8.GetBytes(replacement ?? DefaultReplacement);
    }

    /// <summary>The rule name, or <c>detector:KIND</c>; the metrics label.</summary>
    public string Source { get; }

    public MaskStrategy Strategy { get; }

    /// <summary>For <see cref="MaskStrategy.Partial"/>: how many trailing letters or digits stay visible.</summary>
    public int Keep { get; }

    /// <summary>For <see cref="MaskStrategy.Redact"/>: the UTF-8 text written instead of the value.</summary>
    public byte[] Replacement { get; }

    /// <summary>
    /// Replaces a whole value the masker cannot rewrite in place (an unknown binary type, a composite): the
    /// value goes whatever the strategy, because a partial rendering of bytes it cannot read is no mask.
    /// </summary>
    public static MaskAction Whole(string source) => new(source, MaskStrategy.Null);

    public override string ToString() => $"{Source}: {Strategy}";
}
