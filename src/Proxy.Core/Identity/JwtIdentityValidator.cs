using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Proxy.Core.Identity;

/// <summary>
/// Validates the OIDC JWT a client sends as its database password (DESIGN §2). Never throws for a bad token:
/// every refusal is a <see cref="TokenValidationOutcome"/> with a <see cref="TokenRejection"/> label.
/// </summary>
/// <remarks>
/// Cheap header checks (size, shape, <c>alg</c>, <c>typ</c>, <c>kid</c>) run before any key lookup, so hostile
/// input costs no fetch and no signature work; then <see cref="JsonWebTokenHandler"/> verifies the signature
/// (before the claims) against the keys published under the token's <c>kid</c> only.
/// </remarks>
public sealed partial class JwtIdentityValidator : IDisposable
{
    private readonly IdentityOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly SigningKeyStore _keys;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };
    private readonly TokenValidationParameters _parameters;

    /// <summary>Creates a validator; throws <see cref="ArgumentException"/> when the options are invalid.</summary>
    /// <param name="options">Validated with <see cref="IdentityOptions.Validate"/>.</param>
    /// <param name="time">Clock for expiry and key refresh; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="logger">Receives rejections and key-refresh events, never tokens.</param>
    public JwtIdentityValidator(IdentityOptions options, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid identity options: " + string.Join(" ", errors), nameof(options));
        }

        _options = options;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _keys = new SigningKeyStore(CreateKeySource(options), LoadDevelopmentKeys(options, _logger), options, _time, _logger);
        _parameters = CreateParameters();
    }

    /// <summary>Validates <paramref name="token"/>; cancellation is the only exception.</summary>
    public async ValueTask<TokenValidationOutcome> ValidateAsync(string token, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(token))
        {
            return Reject(TokenRejection.Malformed, null);
        }

        // Before parsing: the length in chars bounds the UTF-8 length from below, so huge inputs are not scanned.
        if (token.Length > _options.MaxTokenBytes || Encoding.UTF8.GetByteCount(token) > _options.MaxTokenBytes)
        {
            return Reject(TokenRejection.TooLarge, null);
        }

        switch (token.AsSpan().Count('.'))
        {
            case 2:
                break;
            case 4:
                return Reject(TokenRejection.Encrypted, null);
            default:
                return Reject(TokenRejection.Malformed, null);
        }

        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Whatever the parser chokes on (bad base64url, JSON, claim types), the answer is the same, and a
            // hostile password must never surface as an exception in the session.
            return Reject(TokenRejection.Malformed, null);
        }

        var headerRejection = CheckHeader(jwt);
        if (headerRejection != TokenRejection.None)
        {
            return Reject(headerRejection, jwt.Kid);
        }

        var lookup = await _keys.FindAsync(jwt.Kid, ct).ConfigureAwait(false);
        if (lookup.Status != KeyLookupStatus.Found)
        {
            return Reject(lookup.Status == KeyLookupStatus.Unavailable ? TokenRejection.KeysUnavailable : TokenRejection.UnknownKey, jwt.Kid);
        }

        if (!lookup.Keys.Any(key => SigningKeys.Fits(key, jwt.Alg)))
        {
            return Reject(TokenRejection.AlgorithmNotAllowed, jwt.Kid);
        }

        var result = await _handler.ValidateTokenAsync(jwt, _parameters).ConfigureAwait(false);
        if (!result.IsValid)
        {
            return Reject(Classify(result.Exception), jwt.Kid);
        }

        if (string.IsNullOrEmpty(jwt.Subject))
        {
            return Reject(TokenRejection.MissingClaim, jwt.Kid);
        }

        var identity = new AuthenticatedIdentity(jwt.Subject, ReadGroups(jwt), new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero), jwt.Issuer);
        return new TokenValidationOutcome(identity, TokenRejection.None, "accepted");
    }

    /// <summary>Stops key refreshes and releases the HTTP client.</summary>
    public void Dispose() => _keys.Dispose();

    private TokenRejection CheckHeader(JsonWebToken jwt)
    {
        // RFC 7515 §4.1.11: a recipient must refuse critical extensions it does not understand, and we understand none.
        if (jwt.TryGetHeaderValue<object>("crit", out _))
        {
            return TokenRejection.Malformed;
        }

        // Decided from the header before any key is touched: 'none', HS* (the public key as an HMAC secret)
        // and anything else off the allow-list never reach signature verification.
        if (string.IsNullOrEmpty(jwt.Alg) || !_options.Algorithms.Contains(jwt.Alg, StringComparer.Ordinal))
        {
            return TokenRejection.AlgorithmNotAllowed;
        }

        if (!IsAllowedType(jwt.Typ))
        {
            return TokenRejection.WrongType;
        }

        // Without a kid the only option would be trying every key, which DESIGN §2 rules out.
        return string.IsNullOrEmpty(jwt.Kid) ? TokenRejection.MissingKeyId : TokenRejection.None;
    }

    private bool IsAllowedType(string? typ)
    {
        if (string.IsNullOrEmpty(typ))
        {
            return _options.AllowMissingType;
        }

        // RFC 7515 §4.1.9: media types are case-insensitive and "application/" may be omitted.
        const string Prefix = "application/";
        var bare = typ.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) ? typ[Prefix.Length..] : typ;
        foreach (var allowed in _options.AllowedTypes)
        {
            if (string.Equals(bare, allowed, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private string[] ReadGroups(JsonWebToken jwt)
    {
        // Arrays arrive as one claim per element; non-string elements (numbers, objects) are not group names.
        var groups = new List<string>();
        foreach (var claim in jwt.Claims)
        {
            if (claim.Type == _options.GroupsClaim
                && claim.ValueType == System.Security.Claims.ClaimValueTypes.String
                && claim.Value.Length > 0
                && !groups.Contains(claim.Value, StringComparer.Ordinal))
            {
                groups.Add(claim.Value);
            }
        }

        return [.. groups];
    }
}
