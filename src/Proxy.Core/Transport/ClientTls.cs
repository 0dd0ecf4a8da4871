using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Authentication;

namespace Gatehouse.Proxy.Core.Transport;

/// <summary>The TLS server handshake toward a client, shared by both protocols (the gateway as server).</summary>
public static class ClientTls
{
    /// <summary>
    /// Runs the handshake over <paramref name="transport"/> once the plaintext negotiation is done; the stream
    /// owns the transport from then on. Throws <see cref="AuthenticationException"/> when the client fails it.
    /// </summary>
    public static async Task<SslStream> AuthenticateAsync(IDuplexPipe transport, SslStreamCertificateContext certificate,
        List<SslApplicationProtocol>? applicationProtocols, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(new DuplexPipeStream(transport), leaveInnerStreamOpen: false);
        var options = new SslServerAuthenticationOptions
        {
            ServerCertificateContext = certificate,
            ClientCertificateRequired = false,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ApplicationProtocols = applicationProtocols,
        };
        try
        {
            await ssl.AuthenticateAsServerAsync(options, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        TlsIdleMemory.ReleaseBuffersWhenIdle(ssl);
        return ssl;
    }
}
