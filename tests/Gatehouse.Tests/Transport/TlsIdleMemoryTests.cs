using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Proxy.Core.Transport;
using Xunit;

namespace Gatehouse.Tests.Transport;

public class TlsIdleMemoryTests
{
    [Fact]
    public async Task Client_handshake_leaves_the_OpenSSL_session_releasing_idle_buffers()
    {
        // On this runtime (Linux, .NET 10) the handle must be reachable: if an upgrade moves it, this fails
        // instead of idle sessions silently growing by ~30 KiB each.
        Assert.True(TlsIdleMemory.Available);

        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var selfSigned = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var certificate = X509CertificateLoader.LoadPkcs12(selfSigned.Export(X509ContentType.Pkcs12), null);
        var context = SslStreamCertificateContext.Create(certificate, null, offline: true);

        var toServer = new Pipe();
        var toClient = new Pipe();
        var serverSide = new DuplexPipe(toServer.Reader, toClient.Writer);
        var clientSide = new DuplexPipe(toClient.Reader, toServer.Writer);
        await using var client = new SslStream(new DuplexPipeStream(clientSide), false, (_, _, _, _) => true);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var serverTask = ClientTls.AuthenticateAsync(serverSide, context, null, timeout.Token);
        await client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" }, timeout.Token);
        await using var server = await serverTask;

        Assert.Equal(0x10, TlsIdleMemory.ModeOf(server)!.Value & 0x10);
        Assert.Equal(0, TlsIdleMemory.ModeOf(client)!.Value & 0x10);

        // The session still carries data both ways with the buffers released between records.
        await server.WriteAsync("hello"u8.ToArray(), timeout.Token);
        await server.FlushAsync(timeout.Token);
        var buffer = new byte[5];
        await client.ReadExactlyAsync(buffer, timeout.Token);
        Assert.Equal("hello"u8.ToArray(), buffer);
    }

    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
