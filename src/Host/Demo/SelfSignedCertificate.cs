using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Host.Demo;

/// <summary>
/// Makes the throwaway server's TLS identity in-process (no openssl CLI dependency). Self-signed, so the same
/// server.crt doubles as the CA root a client passes for verify-full.
/// </summary>
internal static class SelfSignedCertificate
{
    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";

    /// <param name="organization">The O= of the subject; it only tells a human which throwaway server made the certificate.</param>
    public static void WritePem(string certificatePath, string keyPath, string organization = "Gatehouse LocalPostgres")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost, O=" + organization, key, HashAlgorithmName.SHA256);

        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build(critical: false));

        // CA:TRUE like `openssl req -x509`, which the PostgreSQL docs use for self-signed servers: OpenSSL and
        // .NET chain building then both accept the certificate as its own trust anchor.
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthOid)], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));

        // Backdated a day so clock skew between processes never makes it "not yet valid".
        var now = DateTimeOffset.UtcNow;
        using var certificate = request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));

        File.WriteAllText(certificatePath, certificate.ExportCertificatePem() + "\n");
        SecretFile.Write(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
    }
}
