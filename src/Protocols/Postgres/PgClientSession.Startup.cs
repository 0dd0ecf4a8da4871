using System.Net.Security;
using System.Security.Authentication;
using Gatehouse.Proxy.Core.Transport;

namespace Gatehouse.Protocols.Postgres;

internal sealed partial class PgClientSession
{
    private static readonly SslApplicationProtocol PostgresAlpn = new("postgresql");
    private static readonly List<SslApplicationProtocol> PostgresAlpnList = [PostgresAlpn];

    /// <summary>
    /// Answers SSLRequest, GSSENCRequest and CancelRequest until the real startup packet arrives (55.2.1).
    /// Returns null when the connection is done (a cancel, or a violation already answered).
    /// </summary>
    private async Task<PgStartupPacket?> NegotiateAsync(CancellationToken cancellationToken)
    {
        var tls = false;
        while (true)
        {
            if (!tls && await FirstByteAsync(cancellationToken).ConfigureAwait(false) == 0x16)
            {
                // Direct TLS (PostgreSQL 17 sslnegotiation=direct): only with ALPN "postgresql" (DESIGN §3).
                if (Options.Certificate is null || !await StartTlsAsync(direct: true, cancellationToken).ConfigureAwait(false))
                {
                    return Violation("direct TLS without ALPN \"postgresql\" or without a configured certificate");
                }

                tls = true;
                continue;
            }

            var (packet, trailing) = await PgHandshakeIO.ReadStartupAsync(_client.Input, cancellationToken).ConfigureAwait(false);
            switch (packet.Kind)
            {
                case StartupKind.SslRequest when tls:
                    return Violation("SSLRequest inside TLS");
                case StartupKind.SslRequest when Options.Certificate is null:
                    await WriteByteAsync((byte)'N', cancellationToken).ConfigureAwait(false);
                    continue;
                case StartupKind.SslRequest:
                    // CVE-2021-23214: bytes sent after SSLRequest, before the handshake, would be taken as if
                    // they had arrived under TLS. Close without answering.
                    if (trailing > 0)
                    {
                        return Violation("data received after SSLRequest before the TLS handshake");
                    }

                    await WriteByteAsync((byte)'S', cancellationToken).ConfigureAwait(false);
                    await StartTlsAsync(direct: false, cancellationToken).ConfigureAwait(false);
                    tls = true;
                    continue;
                case StartupKind.GssEncRequest when tls:
                    return Violation("GSSENCRequest inside TLS");
                case StartupKind.GssEncRequest:
                    await WriteByteAsync((byte)'N', cancellationToken).ConfigureAwait(false);
                    continue;
                case StartupKind.CancelRequest:
                    _isCancelRequest = true;
                    await ForwardCancelAsync(packet, cancellationToken).ConfigureAwait(false);
                    return null;
                default:
                    return packet;
            }
        }
    }

    /// <summary>Ends the connection without an answer, as PostgreSQL does for these violations.</summary>
    private PgStartupPacket? Violation(string reason)
    {
        _endReason = Proxy.Core.Relay.SessionEndReason.ProtocolViolation;
        _endDetail = reason;
        _listener.Sessions.Refused("protocol_violation");
        PgLog.ProtocolViolation(_listener.Logger, _id, Options.Name, Remote, reason);
        return null;
    }

    private async Task<int> FirstByteAsync(CancellationToken cancellationToken)
    {
        var read = await _client.Input.ReadAsync(cancellationToken).ConfigureAwait(false);
        var first = read.Buffer.IsEmpty ? -1 : read.Buffer.FirstSpan[0];
        // Nothing consumed and nothing examined: the next read returns the same bytes at once.
        _client.Input.AdvanceTo(read.Buffer.Start, read.Buffer.Start);
        if (first < 0 && (read.IsCompleted || read.IsCanceled))
        {
            throw new PgProtocolException("the connection closed before the startup packet");
        }

        return first;
    }

    private async Task WriteByteAsync(byte value, CancellationToken cancellationToken)
    {
        var span = _client.Output.GetSpan(1);
        span[0] = value;
        _client.Output.Advance(1);
        await _client.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> StartTlsAsync(bool direct, CancellationToken cancellationToken)
    {
        var ssl = await ClientTls.AuthenticateAsync(_connection.Transport, Options.Certificate!, PostgresAlpnList, cancellationToken).ConfigureAwait(false);
        _clientTls = new StreamDuplexPipe(ssl);
        _client = _clientTls;
        return !direct || ssl.NegotiatedApplicationProtocol == PostgresAlpn;
    }
}
