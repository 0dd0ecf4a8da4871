using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Proxy.Core.Identity;

public sealed partial class JwtIdentityValidator
{
    // A JWKS or discovery document is a few KiB; a larger body is a misconfiguration or an attack.
    private const int MaxMetadataBytes = 1024 * 1024;

    private static ISigningKeySource? CreateKeySource(IdentityOptions options)
    {
        if (!string.IsNullOrWhiteSpace(options.JwksFile))
        {
            return new JwksFileKeySource(options.JwksFile);
        }

        if (options.JwksUrl is { } jwksUrl)
        {
            return new JwksUrlKeySource(jwksUrl, CreateHttpClient(), options.RequireHttpsMetadata);
        }

        if (options.DiscoveryUrl is { } discoveryUrl)
        {
            return new DiscoveryKeySource(discoveryUrl, options.Issuer, CreateHttpClient(), options.RequireHttpsMetadata);
        }

        return null;
    }

    private static HttpClient CreateHttpClient()
    {
        var handler = new SocketsHttpHandler
        {
            // Follow IdP DNS changes; the client lives as long as the gateway.
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            AutomaticDecompression = DecompressionMethods.All,
        };
        return new HttpClient(handler)
        {
            Timeout = TimeSpan.FromSeconds(30),
            MaxResponseContentBufferSize = MaxMetadataBytes,
        };
    }

    private static Dictionary<string, JsonWebKey[]> LoadDevelopmentKeys(IdentityOptions options, ILogger logger)
    {
        var keys = new Dictionary<string, JsonWebKey[]>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(options.DevSigningKeyFile))
        {
            return keys;
        }

        using var rsa = DevTokens.LoadPrivateKeyPem(options.DevSigningKeyFile);
        var keyId = DevTokens.KeyIdFor(rsa);
        keys[keyId] = [SigningKeys.FromRsa(rsa, keyId)];
        IdentityLog.DevelopmentKeyTrusted(logger, keyId);
        return keys;
    }

    private TokenValidationParameters CreateParameters() => new()
    {
        ValidateIssuer = true,
        ValidIssuer = _options.Issuer,
        IssuerValidator = ValidateIssuer,
        ValidateAudience = true,
        RequireAudience = true,
        ValidAudiences = _options.Audiences,
        IgnoreTrailingSlashWhenValidatingAudience = false,
        ValidAlgorithms = _options.Algorithms,
        ValidateLifetime = true,
        RequireExpirationTime = true,
        ClockSkew = _options.ClockSkew,
        LifetimeValidator = ValidateLifetime,
        TypeValidator = ValidateType,
        RequireSignedTokens = true,
        // Keys come from the token's kid only; never fall back to trying every key (DESIGN §2).
        TryAllIssuerSigningKeys = false,
        IssuerSigningKeyResolver = ResolveSigningKeys,
        ValidateTokenReplay = false,
        SaveSigninToken = false,
        IncludeTokenOnFailedValidation = false,
        LogValidationExceptions = false,
    };

    private IEnumerable<SecurityKey> ResolveSigningKeys(string token, SecurityToken securityToken, string kid, TokenValidationParameters parameters)
    {
        // ValidateAsync has already waited for any refresh, so this synchronous callback only reads what is held.
        var alg = (securityToken as JsonWebToken)?.Alg ?? "";
        return string.IsNullOrEmpty(kid) ? [] : _keys.Current(kid).Where(key => SigningKeys.Fits(key, alg));
    }

    private string ValidateIssuer(string issuer, SecurityToken securityToken, TokenValidationParameters parameters)
    {
        // Exact, ordinal: "https://idp/" and "https://idp" are different issuers.
        return string.Equals(issuer, _options.Issuer, StringComparison.Ordinal)
            ? issuer
            : throw new SecurityTokenInvalidIssuerException("The token's issuer is not accepted.");
    }

    private string ValidateType(string type, SecurityToken securityToken, TokenValidationParameters parameters)
    {
        return IsAllowedType(type) ? type : throw new SecurityTokenInvalidTypeException("The token's type is not accepted.");
    }

    private bool ValidateLifetime(DateTime? notBefore, DateTime? expires, SecurityToken securityToken, TokenValidationParameters parameters)
    {
        // Replaces the library's check so the injected clock decides, and so a missing nbf can be told apart.
        if (expires is null)
        {
            throw new SecurityTokenNoExpirationException("The token has no 'exp' claim.");
        }

        if (notBefore is null)
        {
            if (_options.RequireNotBefore)
            {
                throw new MissingNotBeforeException();
            }

            // Providers that omit nbf still say when they issued the token.
            if (securityToken is JsonWebToken { IssuedAt: var issuedAt } && issuedAt != DateTime.MinValue)
            {
                notBefore = issuedAt;
            }
        }

        if (notBefore > expires)
        {
            throw new SecurityTokenInvalidLifetimeException("The token's 'nbf' is after its 'exp'.");
        }

        var now = _time.GetUtcNow().UtcDateTime;
        if (notBefore is { } nbf && nbf > now + _options.ClockSkew)
        {
            throw new SecurityTokenNotYetValidException("The token is not valid yet.") { NotBefore = nbf };
        }

        if (expires.Value < now - _options.ClockSkew)
        {
            throw new SecurityTokenExpiredException("The token has expired.") { Expires = expires.Value };
        }

        return true;
    }
}
