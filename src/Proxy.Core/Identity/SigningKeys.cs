using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Proxy.Core.Identity;

/// <summary>Turns key sets into the kid-indexed, public-only keys the validator trusts.</summary>
internal static class SigningKeys
{
    /// <summary>
    /// Indexes verification keys by <c>kid</c>. Keys without a kid, encryption keys, symmetric keys and unknown
    /// key types are dropped; only public members are copied, so private material published by mistake is never held.
    /// </summary>
    public static Dictionary<string, JsonWebKey[]> Index(IEnumerable<JsonWebKey> keys, ILogger logger)
    {
        var index = new Dictionary<string, List<JsonWebKey>>(StringComparer.Ordinal);
        foreach (var key in keys)
        {
            if (!IsUsableVerificationKey(key))
            {
                IdentityLog.SigningKeySkipped(logger, Truncate(key.Kid), key.Kty);
                continue;
            }

            if (!index.TryGetValue(key.Kid, out var list))
            {
                index[key.Kid] = list = [];
            }

            list.Add(PublicCopy(key));
        }

        return index.ToDictionary(pair => pair.Key, pair => pair.Value.ToArray(), StringComparer.Ordinal);
    }

    /// <summary>The public half of an RSA key as a JWK with the given kid.</summary>
    public static JsonWebKey FromRsa(RSA rsa, string keyId)
    {
        var parameters = rsa.ExportParameters(includePrivateParameters: false);
        return new JsonWebKey
        {
            Kty = JsonWebAlgorithmsKeyTypes.RSA,
            Kid = keyId,
            Use = JsonWebKeyUseNames.Sig,
            N = Base64UrlEncoder.Encode(parameters.Modulus),
            E = Base64UrlEncoder.Encode(parameters.Exponent),
        };
    }

    /// <summary>
    /// Whether <paramref name="key"/> may verify a token signed with <paramref name="alg"/>: the key's own
    /// <c>alg</c>, when published, must match, and the key type must belong to the algorithm family.
    /// </summary>
    public static bool Fits(JsonWebKey key, string alg)
    {
        if (!string.IsNullOrEmpty(key.Alg) && !string.Equals(key.Alg, alg, StringComparison.Ordinal))
        {
            return false;
        }

        return key.Kty switch
        {
            JsonWebAlgorithmsKeyTypes.RSA => alg.StartsWith("RS", StringComparison.Ordinal) || alg.StartsWith("PS", StringComparison.Ordinal),
            JsonWebAlgorithmsKeyTypes.EllipticCurve => (alg, key.Crv) is ("ES256", "P-256") or ("ES384", "P-384") or ("ES512", "P-521"),
            _ => false,
        };
    }

    /// <summary>Caps attacker-supplied strings before they reach a log.</summary>
    public static string? Truncate(string? value) => value is { Length: > 64 } ? value[..64] + "…" : value;

    private static bool IsUsableVerificationKey(JsonWebKey key)
    {
        if (string.IsNullOrEmpty(key.Kid))
        {
            return false;
        }

        if (!string.IsNullOrEmpty(key.Use) && key.Use != JsonWebKeyUseNames.Sig)
        {
            return false;
        }

        if (key.KeyOps.Count > 0 && !key.KeyOps.Contains("verify"))
        {
            return false;
        }

        return key.Kty switch
        {
            JsonWebAlgorithmsKeyTypes.RSA => !string.IsNullOrEmpty(key.N) && !string.IsNullOrEmpty(key.E),
            JsonWebAlgorithmsKeyTypes.EllipticCurve => !string.IsNullOrEmpty(key.Crv) && !string.IsNullOrEmpty(key.X) && !string.IsNullOrEmpty(key.Y),
            _ => false,
        };
    }

    private static JsonWebKey PublicCopy(JsonWebKey key) => new()
    {
        Kty = key.Kty,
        Kid = key.Kid,
        Alg = key.Alg,
        Use = key.Use,
        N = key.N,
        E = key.E,
        Crv = key.Crv,
        X = key.X,
        Y = key.Y,
    };
}
