using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Proxy.Core.Transport;

/// <summary>
/// Opens connections to databases on Kestrel's socket transport, so both legs of a session share its pooled
/// memory and its bounded pipes (Kestrel <c>SocketConnection</c>).
/// </summary>
public sealed class UpstreamDialer : IDisposable
{
    private readonly SocketConnectionContextFactory _factory;

    /// <summary>Creates the dialer; <paramref name="maxBufferedBytes"/> bounds each direction's pipe.</summary>
    public UpstreamDialer(long maxBufferedBytes = 1024 * 1024, ILogger? logger = null)
    {
        _factory = new SocketConnectionContextFactory(new SocketConnectionFactoryOptions
        {
            // A database that outruns a slow client pauses here instead of growing memory (DESIGN §8).
            MaxReadBufferSize = maxBufferedBytes,
            MaxWriteBufferSize = maxBufferedBytes,
            // As on the client side (GatewayHost): no thread-pool hop per read; the relay never blocks.
            UnsafePreferInlineScheduling = true,
        }, logger ?? NullLogger.Instance);
    }

    /// <summary>Connects to <paramref name="host"/>:<paramref name="port"/> within <paramref name="timeout"/>, on Kestrel's pipes.</summary>
    public async Task<ConnectionContext> ConnectAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
        => _factory.Create(await ConnectSocketAsync(host, port, timeout, cancellationToken).ConfigureAwait(false));

    /// <summary>
    /// A connected socket, for a TLS leg: SslStream reads the socket directly, one copy and one pipe fewer
    /// than TLS layered over Kestrel's pipes.
    /// </summary>
    public static async Task<Socket> ConnectSocketAsync(string host, int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (IPAddress.TryParse(host, out var address))
            {
                if (address.AddressFamily == AddressFamily.InterNetwork && socket.AddressFamily == AddressFamily.InterNetworkV6)
                {
                    address = address.MapToIPv6();
                }

                await socket.ConnectAsync(new IPEndPoint(address, port), deadline.Token).ConfigureAwait(false);
            }
            else
            {
                await socket.ConnectAsync(host, port, deadline.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new SocketException((int)SocketError.TimedOut);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return socket;
    }

    /// <inheritdoc />
    public void Dispose() => _factory.Dispose();
}
