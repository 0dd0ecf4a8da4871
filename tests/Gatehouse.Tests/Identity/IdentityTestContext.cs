using System.Security.Cryptography;
using Gatehouse.Proxy.Core.Identity;

namespace Gatehouse.Tests.Identity;

/// <summary>A trusted RSA key published in a JWKS file, a fake clock, and a well-formed token to vary.</summary>
internal sealed class IdentityTestContext : IDisposable
{
    public const string Issuer = "https://idp.example.test/realms/main";
    public const string Audience = "gatehouse";
    public const string KeyId = "key-1";

    public IdentityTestContext()
    {
        Directory = System.IO.Directory.CreateTempSubdirectory("gatehouse-identity-");
        JwksPath = Path.Combine(Directory.FullName, "jwks.json");
        WriteJwks(TestJwt.RsaJwk(Key, KeyId));
    }

    public RSA Key { get; } = RSA.Create(2048);

    public ManualTimeProvider Time { get; } = new(new DateTimeOffset(2030, 1, 1, 12, 0, 0, TimeSpan.Zero));

    public DirectoryInfo Directory { get; }

    public string JwksPath { get; }

    public long Now => Time.GetUtcNow().ToUnixTimeSeconds();

    public void WriteJwks(params string[] jwks) => File.WriteAllText(JwksPath, TestJwt.Jwks(jwks));

    public IdentityOptions Options() => new()
    {
        Issuer = Issuer,
        Audiences = [Audience],
        JwksFile = JwksPath,
    };

    public JwtIdentityValidator Validator(IdentityOptions? options = null) => new(options ?? Options(), Time);

    public Dictionary<string, object> Header(string alg = "RS256", string kid = KeyId) => new()
    {
        ["alg"] = alg,
        ["typ"] = "JWT",
        ["kid"] = kid,
    };

    public Dictionary<string, object> Payload() => new()
    {
        ["iss"] = Issuer,
        ["aud"] = Audience,
        ["sub"] = "alice",
        ["groups"] = new[] { "dba", "dev" },
        ["iat"] = Now,
        ["nbf"] = Now,
        ["exp"] = Now + 600,
    };

    public string Token(Dictionary<string, object>? header = null, Dictionary<string, object>? payload = null, RSA? key = null) =>
        TestJwt.SignRsa(key ?? Key, header ?? Header(), payload ?? Payload());

    public void Dispose()
    {
        Key.Dispose();
        Directory.Delete(recursive: true);
    }
}
