using System.Security.Cryptography;
using Gatehouse.Proxy.Core.Identity;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Tests.Identity;

public sealed class DevTokensTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("gatehouse-devtokens-");

    public void Dispose() => _dir.Delete(recursive: true);

    [Fact]
    public void Key_id_is_the_rfc7638_thumbprint_and_stable_across_reloads()
    {
        var path = Path.Combine(_dir.FullName, "dev.pem");
        DevTokens.WriteNewKeyPem(path);
        using var first = DevTokens.LoadPrivateKeyPem(path);
        using var second = DevTokens.LoadPrivateKeyPem(path);

        var expected = Base64UrlEncoder.Encode(
            JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(first.ExportParameters(false))).ComputeJwkThumbprint());
        Assert.Equal(expected, DevTokens.KeyIdFor(first));
        Assert.Equal(DevTokens.KeyIdFor(first), DevTokens.KeyIdFor(second));
        Assert.Equal(43, DevTokens.KeyIdFor(first).Length); // 32 bytes, base64url without padding

        using var other = RSA.Create(2048);
        Assert.NotEqual(DevTokens.KeyIdFor(first), DevTokens.KeyIdFor(other));
    }

    [Fact]
    public void New_key_file_is_owner_only_2048_bit_and_never_overwritten()
    {
        var path = Path.Combine(_dir.FullName, "dev.pem");
        DevTokens.WriteNewKeyPem(path);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(path), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }

        using var key = DevTokens.LoadPrivateKeyPem(path);
        Assert.Equal(2048, key.KeySize);

        var before = File.ReadAllText(path);
        Assert.Throws<IOException>(() => DevTokens.WriteNewKeyPem(path));
        Assert.Equal(before, File.ReadAllText(path));
    }

    [Fact]
    public void Loading_a_public_key_or_junk_fails_clearly()
    {
        using var rsa = RSA.Create(2048);
        var publicPath = Path.Combine(_dir.FullName, "public.pem");
        File.WriteAllText(publicPath, rsa.ExportSubjectPublicKeyInfoPem());
        Assert.Throws<InvalidDataException>(() => DevTokens.LoadPrivateKeyPem(publicPath));

        var junkPath = Path.Combine(_dir.FullName, "junk.pem");
        File.WriteAllText(junkPath, "not a key");
        Assert.Throws<InvalidDataException>(() => DevTokens.LoadPrivateKeyPem(junkPath));

        var pkcs1Path = Path.Combine(_dir.FullName, "pkcs1.pem");
        File.WriteAllText(pkcs1Path, rsa.ExportRSAPrivateKeyPem());
        using var loaded = DevTokens.LoadPrivateKeyPem(pkcs1Path);
        Assert.Equal(DevTokens.KeyIdFor(rsa), DevTokens.KeyIdFor(loaded));
    }

    [Fact]
    public void Minted_token_has_the_documented_header_and_claims()
    {
        using var rsa = RSA.Create(2048);
        var time = new ManualTimeProvider(new DateTimeOffset(2031, 6, 1, 8, 0, 0, TimeSpan.Zero));
        var token = DevTokens.Mint(rsa, "kid-1", "https://dev.local", "gatehouse", "carol", ["a", "b"], TimeSpan.FromMinutes(15), "roles", time);

        var jwt = new JsonWebToken(token);
        Assert.Equal("RS256", jwt.Alg);
        Assert.Equal("JWT", jwt.Typ);
        Assert.Equal("kid-1", jwt.Kid);
        Assert.Equal("https://dev.local", jwt.Issuer);
        Assert.Equal(["gatehouse"], jwt.Audiences);
        Assert.Equal("carol", jwt.Subject);
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        Assert.Equal(now, jwt.GetPayloadValue<long>("iat"));
        Assert.Equal(now, jwt.GetPayloadValue<long>("nbf"));
        Assert.Equal(now + 900, jwt.GetPayloadValue<long>("exp"));
        Assert.Equal(["a", "b"], jwt.Claims.Where(c => c.Type == "roles").Select(c => c.Value));

        // Verifies with the public key alone.
        var verify = new TokenValidationParameters
        {
            IssuerSigningKey = new RsaSecurityKey(rsa.ExportParameters(false)),
            ValidateIssuer = false,
            ValidateAudience = false,
            ValidateLifetime = false,
        };
        Assert.True(new JsonWebTokenHandler().ValidateTokenAsync(token, verify).GetAwaiter().GetResult().IsValid);
    }

    [Fact]
    public void Mint_refuses_a_non_positive_ttl()
    {
        using var rsa = RSA.Create(2048);
        Assert.Throws<ArgumentOutOfRangeException>(() => DevTokens.Mint(rsa, "k", "i", "a", "s", [], TimeSpan.Zero));
    }
}
