using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Tests.Identity;

/// <summary>Hand-built JWS tokens, so tests control every header and claim (including hostile ones).</summary>
internal static class TestJwt
{
    public static string Encode(object value) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(value));

    public static string Sign(Dictionary<string, object> header, Dictionary<string, object> payload, Func<byte[], byte[]> signer)
    {
        var signingInput = Encode(header) + "." + Encode(payload);
        return signingInput + "." + Base64Url.EncodeToString(signer(Encoding.ASCII.GetBytes(signingInput)));
    }

    public static string SignRsa(RSA key, Dictionary<string, object> header, Dictionary<string, object> payload)
    {
        var (hash, padding) = (string)header["alg"] switch
        {
            "RS256" => (HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            "RS384" => (HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1),
            "PS256" => (HashAlgorithmName.SHA256, RSASignaturePadding.Pss),
            var alg => throw new ArgumentException($"test helper does not sign {alg}"),
        };
        return Sign(header, payload, data => key.SignData(data, hash, padding));
    }

    public static string SignEcdsa(ECDsa key, Dictionary<string, object> header, Dictionary<string, object> payload) =>
        Sign(header, payload, data => key.SignData(data, HashAlgorithmName.SHA256)); // IEEE P1363, as JWS requires

    public static string SignHmac(byte[] secret, Dictionary<string, object> header, Dictionary<string, object> payload) =>
        Sign(header, payload, data => HMACSHA256.HashData(secret, data));

    public static string RsaJwk(RSA key, string kid, string? alg = null, string? use = "sig")
    {
        var p = key.ExportParameters(false);
        var jwk = new Dictionary<string, object> { ["kty"] = "RSA", ["kid"] = kid, ["n"] = Base64Url.EncodeToString(p.Modulus), ["e"] = Base64Url.EncodeToString(p.Exponent) };
        if (alg is not null)
        {
            jwk["alg"] = alg;
        }

        if (use is not null)
        {
            jwk["use"] = use;
        }

        return JsonSerializer.Serialize(jwk);
    }

    public static string EcJwk(ECDsa key, string kid)
    {
        var p = key.ExportParameters(false);
        return JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["kty"] = "EC", ["kid"] = kid, ["crv"] = "P-256", ["x"] = Base64Url.EncodeToString(p.Q.X), ["y"] = Base64Url.EncodeToString(p.Q.Y),
        });
    }

    public static string Jwks(params string[] jwks) => "{\"keys\":[" + string.Join(",", jwks) + "]}";
}
