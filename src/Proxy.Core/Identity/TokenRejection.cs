namespace Gatehouse.Proxy.Core.Identity;

/// <summary>Why a token was refused; a stable label for audit events and metrics.</summary>
public enum TokenRejection
{
    /// <summary>The token was accepted.</summary>
    None,
    /// <summary>Not a compact JWS, or its header or payload could not be decoded.</summary>
    Malformed,
    /// <summary>Longer than <see cref="IdentityOptions.MaxTokenBytes"/>.</summary>
    TooLarge,
    /// <summary>A five-part JWE; encrypted tokens are not accepted.</summary>
    Encrypted,
    /// <summary><c>exp</c> has passed (beyond the clock skew).</summary>
    Expired,
    /// <summary><c>nbf</c> is in the future (beyond the clock skew).</summary>
    NotYetValid,
    /// <summary><c>iss</c> is not the configured issuer.</summary>
    WrongIssuer,
    /// <summary>No <c>aud</c> value is accepted.</summary>
    WrongAudience,
    /// <summary><c>alg</c> is missing, <c>none</c>, not allowed, or does not fit the key.</summary>
    AlgorithmNotAllowed,
    /// <summary>No <c>kid</c> header.</summary>
    MissingKeyId,
    /// <summary>The <c>kid</c> names no trusted key, even after a refresh.</summary>
    UnknownKey,
    /// <summary>The signature does not verify.</summary>
    BadSignature,
    /// <summary>The <c>typ</c> header is not allowed.</summary>
    WrongType,
    /// <summary>No sufficiently fresh signing keys; logins fail closed.</summary>
    KeysUnavailable,
    /// <summary>A required claim (<c>sub</c>, <c>exp</c>, <c>nbf</c>) is missing.</summary>
    MissingClaim,
}
