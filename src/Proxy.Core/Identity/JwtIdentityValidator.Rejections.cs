using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Proxy.Core.Identity;

public sealed partial class JwtIdentityValidator
{
    private TokenValidationOutcome Reject(TokenRejection reason, string? keyId)
    {
        IdentityLog.TokenRejected(_logger, reason, SigningKeys.Truncate(keyId));
        return new TokenValidationOutcome(null, reason, MessageFor(reason));
    }

    /// <summary>Maps the handler's failure to a label; most-derived exception types first.</summary>
    private static TokenRejection Classify(Exception? exception) => exception switch
    {
        SecurityTokenExpiredException => TokenRejection.Expired,
        SecurityTokenNotYetValidException => TokenRejection.NotYetValid,
        MissingNotBeforeException or SecurityTokenNoExpirationException => TokenRejection.MissingClaim,
        SecurityTokenInvalidLifetimeException => TokenRejection.Malformed,
        SecurityTokenInvalidIssuerException => TokenRejection.WrongIssuer,
        SecurityTokenInvalidAudienceException => TokenRejection.WrongAudience,
        SecurityTokenInvalidAlgorithmException => TokenRejection.AlgorithmNotAllowed,
        SecurityTokenInvalidTypeException => TokenRejection.WrongType,
        SecurityTokenSignatureKeyNotFoundException => TokenRejection.UnknownKey,
        SecurityTokenInvalidSignatureException => TokenRejection.BadSignature,
        SecurityTokenDecryptionFailedException or SecurityTokenEncryptionKeyNotFoundException => TokenRejection.Encrypted,
        _ => TokenRejection.Malformed,
    };

    /// <summary>
    /// Fixed texts: safe for the client, and never echo values from the token, which could be used to smuggle
    /// content into client logs or terminals.
    /// </summary>
    private static string MessageFor(TokenRejection reason) => reason switch
    {
        TokenRejection.Malformed => "the password is not a well-formed signed JWT",
        TokenRejection.TooLarge => "the token is larger than this gateway accepts",
        TokenRejection.Encrypted => "encrypted (JWE) tokens are not accepted; send a signed JWT",
        TokenRejection.Expired => "the token has expired",
        TokenRejection.NotYetValid => "the token is not valid yet (check clocks)",
        TokenRejection.WrongIssuer => "the token was not issued by the configured identity provider",
        TokenRejection.WrongAudience => "the token is not intended for this gateway (audience)",
        TokenRejection.AlgorithmNotAllowed => "the token's signing algorithm is not allowed",
        TokenRejection.MissingKeyId => "the token has no key id (kid)",
        TokenRejection.UnknownKey => "the token was signed with an unknown key",
        TokenRejection.BadSignature => "the token's signature is invalid",
        TokenRejection.WrongType => "the token's type (typ) is not accepted",
        TokenRejection.KeysUnavailable => "signing keys are unavailable; try again later",
        TokenRejection.MissingClaim => "the token lacks a required claim (sub, exp or nbf)",
        _ => "the token was rejected",
    };

    /// <summary>Lets a missing <c>nbf</c> be reported as a missing claim, not as a lifetime failure.</summary>
    private sealed class MissingNotBeforeException() : SecurityTokenInvalidLifetimeException("The token has no 'nbf' claim.");
}
