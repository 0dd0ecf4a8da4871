using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Proxy.Core.Identity;

/// <summary>
/// Development tokens signed with a local RSA key (<c>gatehouse token</c>), trusted when the key file is
/// configured as <see cref="IdentityOptions.DevSigningKeyFile"/>.
/// </summary>
public static class DevTokens
{
    /// <summary>Mints an RS256 JWT (<c>typ</c> JWT, <c>kid</c> set) with <c>iat</c>/<c>nbf</c> now and <c>exp</c> after <paramref name="ttl"/>.</summary>
    public static string Mint(
        RSA privateKey,
        string keyId,
        string issuer,
        string audience,
        string subject,
        IEnumerable<string> groups,
        TimeSpan ttl,
        string groupsClaim = "groups",
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(privateKey);
        ArgumentException.ThrowIfNullOrEmpty(keyId);
        ArgumentException.ThrowIfNullOrEmpty(issuer);
        ArgumentException.ThrowIfNullOrEmpty(audience);
        ArgumentException.ThrowIfNullOrEmpty(subject);
        ArgumentNullException.ThrowIfNull(groups);
        ArgumentException.ThrowIfNullOrEmpty(groupsClaim);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero);

        var now = (time ?? TimeProvider.System).GetUtcNow().UtcDateTime;
        var credentials = new SigningCredentials(new RsaSecurityKey(privateKey) { KeyId = keyId }, SecurityAlgorithms.RsaSha256)
        {
            // The library caches signature providers per key; the caller owns (and may dispose) this RSA instance.
            CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false },
        };
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now,
            NotBefore = now,
            Expires = now + ttl,
            TokenType = JwtConstants.HeaderType,
            SigningCredentials = credentials,
            Claims = new Dictionary<string, object>(StringComparer.Ordinal)
            {
                [JwtRegisteredClaimNames.Sub] = subject,
                [groupsClaim] = groups.ToArray(),
            },
        };
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(descriptor);
    }

    /// <summary>Loads an RSA private key from a PEM file (PKCS#1 or PKCS#8, unencrypted).</summary>
    public static RSA LoadPrivateKeyPem(string path)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(File.ReadAllText(path));

            // ImportFromPem also accepts a public key; fail here rather than at the first signature.
            var parameters = rsa.ExportParameters(includePrivateParameters: true);
            CryptographicOperations.ZeroMemory(parameters.D);
            CryptographicOperations.ZeroMemory(parameters.P);
            CryptographicOperations.ZeroMemory(parameters.Q);
            CryptographicOperations.ZeroMemory(parameters.DP);
            CryptographicOperations.ZeroMemory(parameters.DQ);
            CryptographicOperations.ZeroMemory(parameters.InverseQ);
            return rsa;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
            throw new InvalidDataException($"'{path}' does not hold an unencrypted RSA private key in PEM form.", ex);
        }
        catch
        {
            rsa.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Writes a new RSA-2048 private key as PKCS#8 PEM, readable only by the owner on Unix (0600).
    /// Refuses to overwrite an existing file, since that would silently invalidate every token minted with it.
    /// </summary>
    public static void WriteNewKeyPem(string path)
    {
        using var rsa = RSA.Create(2048);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            // Set at creation, so the key is never briefly readable by others.
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var stream = new FileStream(path, options);
        stream.Write(Encoding.ASCII.GetBytes(rsa.ExportPkcs8PrivateKeyPem()));
    }

    /// <summary>The RFC 7638 JWK thumbprint (SHA-256, base64url) of the public key: stable for the key's lifetime.</summary>
    public static string KeyIdFor(RSA key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var parameters = key.ExportParameters(includePrivateParameters: false);

        // RFC 7638 §3.2: required members only, in lexicographic order, no whitespace.
        var canonical = $$"""{"e":"{{Base64UrlEncoder.Encode(parameters.Exponent)}}","kty":"RSA","n":"{{Base64UrlEncoder.Encode(parameters.Modulus)}}"}""";
        return Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }
}
