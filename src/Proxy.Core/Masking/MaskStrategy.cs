namespace Gatehouse.Proxy.Core.Masking;

/// <summary>How a sensitive value is replaced.</summary>
public enum MaskStrategy : byte
{
    /// <summary>A fixed replacement text: nothing of the value survives, not even its length.</summary>
    Redact,
    /// <summary>Letters and digits become <c>*</c> except the last N; punctuation keeps the value's shape.</summary>
    Partial,
    /// <summary>A keyed HMAC of the value: equal values give equal tokens, so joins and GROUP BY still work.</summary>
    Token,
    /// <summary>SQL NULL.</summary>
    Null,
}
