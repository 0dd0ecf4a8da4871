using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Proxy.Core.Transport;

/// <summary>How the gateway secures its own connection to a database.</summary>
public enum UpstreamTlsMode : byte
{
    /// <summary>Plaintext.</summary>
    Disable,
    /// <summary>TLS, without verifying the certificate (protects against passive observers only).</summary>
    Require,
    /// <summary>TLS with the chain verified against the configured CA (or the system store) and the host name checked.</summary>
    VerifyFull,
}

/// <summary>The TLS client handshake toward a database, shared by both protocols.</summary>
public static class UpstreamTls
{
    /// <summary>Runs the handshake over <paramref name="inner"/>; throws <see cref="System.Security.Authentication.AuthenticationException"/> on a bad certificate.</summary>
    public static async Task<SslStream> AuthenticateAsync(Stream inner, UpstreamTlsMode mode, string serverName, string? caCertificatePath, CancellationToken cancellationToken)
    {
        var trust = mode == UpstreamTlsMode.VerifyFull && caCertificatePath is not null ? TrustAnchors.For(caCertificatePath) : null;

        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = serverName,
            RemoteCertificateValidationCallback = (_, certificate, chain, errors) => Validate(mode, trust, certificate, errors),
        };
        try
        {
            await ssl.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        TlsIdleMemory.ReleaseBuffersWhenIdle(ssl);
        return ssl;
    }

    private static bool Validate(UpstreamTlsMode mode, X509Certificate2Collection? trust, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (mode == UpstreamTlsMode.Require)
        {
            return certificate is not null;
        }

        if (certificate is null || (errors & (SslPolicyErrors.RemoteCertificateNameMismatch | SslPolicyErrors.RemoteCertificateNotAvailable)) != 0)
        {
            return false;
        }

        if (trust is null)
        {
            return errors == SslPolicyErrors.None;
        }

        // A private CA: build the chain against it alone, ignoring the system store.
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trust);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }
}
