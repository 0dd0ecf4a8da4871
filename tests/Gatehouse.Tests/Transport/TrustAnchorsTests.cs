using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Proxy.Core.Transport;
using Xunit;

namespace Gatehouse.Tests.Transport;

public sealed class TrustAnchorsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("gatehouse-trust-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_same_file_is_read_once_and_shared_by_every_login()
    {
        var path = Path.Combine(_dir, "ca.crt");
        File.WriteAllText(path, Pem("CN=first"));

        var first = TrustAnchors.For(path);
        var second = TrustAnchors.For(path);

        Assert.Same(first, second);
        Assert.Equal("CN=first", Assert.Single(first).Subject);
    }

    [Fact]
    public void A_rotated_file_is_read_again_without_a_restart()
    {
        var path = Path.Combine(_dir, "ca.crt");
        File.WriteAllText(path, Pem("CN=old-ca"));
        var before = TrustAnchors.For(path);

        File.WriteAllText(path, Pem("CN=new-ca") + Pem("CN=second-new-ca"));
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1)); // a coarse clock must not hide the change

        var after = TrustAnchors.For(path);
        Assert.NotSame(before, after);
        Assert.Equal(["CN=new-ca", "CN=second-new-ca"], after.Select(c => c.Subject));
        Assert.Equal("CN=old-ca", Assert.Single(before).Subject); // a handshake holding the old set keeps a usable one
    }

    [Fact]
    public void A_missing_or_empty_file_is_an_error_not_an_empty_trust_store()
    {
        // An empty set would make CustomRootTrust reject every server, which looks like a server fault; say what is wrong.
        Assert.Throws<FileNotFoundException>(() => TrustAnchors.For(Path.Combine(_dir, "absent.crt")));
        var empty = Path.Combine(_dir, "empty.crt");
        File.WriteAllText(empty, "not a certificate\n");
        var error = Assert.Throws<IOException>(() => TrustAnchors.For(empty));
        Assert.Contains("holds no certificate", error.Message, StringComparison.Ordinal);
        var garbled = Path.Combine(_dir, "garbled.crt");
        File.WriteAllText(garbled, "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n");
        Assert.Contains("garbled.crt", Assert.Throws<IOException>(() => TrustAnchors.For(garbled)).Message, StringComparison.Ordinal);
    }

    private static string Pem(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        return certificate.ExportCertificatePem() + "\n";
    }
}
