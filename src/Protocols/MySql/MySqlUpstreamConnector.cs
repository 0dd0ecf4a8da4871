using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
using Gatehouse.Proxy.Core.Transport;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Protocols.MySql;

/// <summary>
/// The gateway as a MySQL client: reads the server's greeting, negotiates TLS, and logs in with the gateway's
/// own credentials through an allow-list of plugins (MySQL internals, "Connection Phase"). The password is
/// never sent in clear, and the server's RSA key is never fetched: caching_sha2_password's full
/// authentication happens only over TLS.
/// </summary>
internal sealed class MySqlUpstreamConnector(UpstreamDialer dialer)
{
    private const int MaxHandshakePacket = 64 * 1024;

    /// <summary>Bits that change the format of what the server sends: the upstream must honour each one the client chose.</summary>
    internal const Capabilities FormatAffecting = Capabilities.Protocol41 | Capabilities.DeprecateEof | Capabilities.MultiResults
        | Capabilities.PsMultiResults | Capabilities.LongFlag | Capabilities.Transactions | Capabilities.SessionTrack;

    public async Task<MySqlUpstreamConnection> ConnectAsync(MySqlUpstreamOptions options, string database, Capabilities client, CancellationToken cancellationToken)
    {
        var tlsWanted = options.Tls != UpstreamTlsMode.Disable;
        IAsyncDisposable owner; // what closes the connection: the TLS pipe once there is one
        IDuplexPipe transport;
        NetworkStream? stream = null;
        try
        {
            if (tlsWanted)
            {
                // TLS reads the socket itself, as on the PostgreSQL leg: no Kestrel pipe under it, so no copy into
                // 4 KiB blocks and no zero-byte read per block on a streamed result.
                stream = new NetworkStream(await UpstreamDialer.ConnectSocketAsync(options.Host, options.Port, options.ConnectTimeout, cancellationToken).ConfigureAwait(false), ownsSocket: true);
                owner = stream;
                transport = new PlaintextStart(stream);
            }
            else
            {
                var socket = await dialer.ConnectAsync(options.Host, options.Port, options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
                owner = socket;
                transport = socket.Transport;
            }
        }
        catch (SocketException ex)
        {
            throw new MySqlUpstreamException($"cannot reach {options.Host}:{options.Port}: {ex.SocketErrorCode}");
        }

        try
        {
            var greeting = MySqlGreeting.Parse((await MySqlHandshakeIO.ReadAsync(transport.Input, 0, MaxHandshakePacket, cancellationToken).ConfigureAwait(false)).Payload);
            var missing = client & FormatAffecting & ~greeting.Capabilities;
            if (missing != 0)
            {
                throw new MySqlProtocolException($"the upstream lacks capabilities the client negotiated: {missing}");
            }

            var caps = (client & ~(Capabilities.Ssl | Capabilities.ConnectAttrs | Capabilities.LocalFiles | Capabilities.Compress | Capabilities.ConnectWithDb))
                | Capabilities.Protocol41 | Capabilities.SecureConnection | Capabilities.PluginAuth | Capabilities.LongPassword | Capabilities.ConnectWithDb;
            caps &= greeting.Capabilities | Capabilities.LongPassword;
            if ((caps & (Capabilities.Protocol41 | Capabilities.SecureConnection)) != (Capabilities.Protocol41 | Capabilities.SecureConnection))
            {
                throw new MySqlProtocolException("the upstream does not speak protocol 4.1 with secure connections");
            }

            byte sequence = 1;
            if (tlsWanted)
            {
                if ((greeting.Capabilities & Capabilities.Ssl) == 0)
                {
                    throw new MySqlProtocolException("the upstream does not offer TLS but the configuration requires it");
                }

                caps |= Capabilities.Ssl;
                new MySqlPacketWriter().UInt32((uint)caps).UInt32(1 << 24).Byte(MySqlCharset.Utf8Mb4GeneralCi).Zeros(23).WriteTo(transport.Output, sequence++);
                await transport.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
                // Bytes already here would be read as if they had come over TLS (the CVE-2021-23214 pattern): refused.
                if (((PlaintextStart)transport).HasBuffered() || stream!.Socket.Available > 0)
                {
                    throw new MySqlProtocolException("the upstream sent data before the TLS handshake");
                }

                await ((PlaintextStart)transport).CompleteAsync().ConfigureAwait(false);
                var ssl = await UpstreamTls.AuthenticateAsync(stream, options.Tls, options.ServerName ?? options.Host,
                    options.CaCertificatePath, cancellationToken).ConfigureAwait(false);
                var pipe = new StreamDuplexPipe(ssl);
                owner = pipe;
                transport = pipe;
            }

            var plugin = Choose(options, greeting.AuthPlugin);
            var response = Respond(plugin, options.Password(), greeting.Scramble, tlsWanted);
            var writer = new MySqlPacketWriter().UInt32((uint)caps).UInt32(1 << 24).Byte(MySqlCharset.Utf8Mb4GeneralCi).Zeros(23)
                .NullTerminated(options.User);
            if ((caps & Capabilities.PluginAuthLenencClientData) != 0)
            {
                writer.LengthEncodedBytes(response);
            }
            else
            {
                writer.Byte((byte)response.Length).Bytes(response);
            }

            writer.NullTerminated(database).NullTerminated(plugin).WriteTo(transport.Output, sequence++);
            await transport.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            await AuthenticateAsync(transport, options, plugin, greeting.Scramble, sequence, tlsWanted, cancellationToken).ConfigureAwait(false);
            return new MySqlUpstreamConnection(owner, transport) { ThreadId = greeting.ConnectionId, ServerVersion = greeting.ServerVersion, Negotiated = caps };
        }
        catch (Exception ex)
        {
            await owner.DisposeAsync().ConfigureAwait(false);
            throw ex is MySqlProtocolException or IOException or System.Security.Authentication.AuthenticationException or ConnectionResetException
                ? new MySqlUpstreamException(ex.Message, ex)
                : ex;
        }
    }

    /// <summary>The plaintext greeting and TLS request over the socket's stream, left open for TLS to take over.</summary>
    private sealed class PlaintextStart(Stream stream) : IDuplexPipe
    {
        public PipeReader Input { get; } = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 4096, leaveOpen: true));

        public PipeWriter Output { get; } = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));

        public bool HasBuffered()
        {
            if (!Input.TryRead(out var result))
            {
                return false;
            }

            Input.AdvanceTo(result.Buffer.Start);
            return !result.Buffer.IsEmpty;
        }

        public async ValueTask CompleteAsync()
        {
            await Input.CompleteAsync().ConfigureAwait(false);
            await Output.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static string Choose(MySqlUpstreamOptions options, string offered)
        => options.AuthPlugins.Contains(offered) && offered != AuthPlugins.ClearPassword ? offered
            : options.AuthPlugins.Contains(AuthPlugins.NativePassword) ? AuthPlugins.NativePassword
            : options.AuthPlugins.Contains(AuthPlugins.CachingSha2) ? AuthPlugins.CachingSha2
            : throw new MySqlProtocolException($"the upstream offered {offered}, which is not on the configured plugin list");

    private static byte[] Respond(string plugin, string password, ReadOnlySpan<byte> scramble, bool tls) => plugin switch
    {
        AuthPlugins.NativePassword => MySqlScramble.NativePassword(password, scramble),
        AuthPlugins.CachingSha2 => MySqlScramble.CachingSha2(password, scramble),
        AuthPlugins.ClearPassword when tls => Encoding.UTF8.GetBytes(password + "\0"),
        AuthPlugins.ClearPassword => throw new MySqlProtocolException("the upstream asked for mysql_clear_password without TLS; the gateway never sends a password in clear"),
        _ => throw new MySqlProtocolException($"the upstream asked for authentication plugin {plugin}, which is not on the configured list"),
    };

    private static async Task AuthenticateAsync(IDuplexPipe transport, MySqlUpstreamOptions options, string plugin, byte[] scramble, byte sequence, bool tls, CancellationToken cancellationToken)
    {
        while (true)
        {
            var packet = await MySqlHandshakeIO.ReadAsync(transport.Input, sequence, MaxHandshakePacket, cancellationToken).ConfigureAwait(false);
            sequence++;
            var payload = packet.Payload;
            if (payload.Length == 0)
            {
                throw new MySqlProtocolException("empty packet during the upstream login");
            }

            switch (payload[0])
            {
                case 0x00:
                    return;
                case 0xFF:
                    throw new MySqlProtocolException("the upstream refused the gateway's login: " + MySqlErrorPacket.Describe(payload));
                case 0xFE:
                {
                    // Auth switch: plugin name, then that plugin's challenge (usually a fresh scramble + NUL).
                    var reader = new MySqlPayloadReader(payload.AsSpan(1));
                    if (!reader.TryNullTerminatedString(out var requested))
                    {
                        throw new MySqlProtocolException("malformed auth switch request from the upstream");
                    }

                    if (!options.AuthPlugins.Contains(requested))
                    {
                        throw new MySqlProtocolException($"the upstream switched to authentication plugin {requested}, which is not on the configured list");
                    }

                    var data = reader.Rest;
                    scramble = (data.Length > 20 ? data[..20] : data.TrimEnd((byte)0)).ToArray();
                    plugin = requested;
                    new MySqlPacketWriter().Bytes(Respond(plugin, options.Password(), scramble, tls)).WriteTo(transport.Output, sequence++);
                    break;
                }

                case 0x01 when plugin == AuthPlugins.CachingSha2 && payload.Length == 2 && payload[1] == 0x03:
                    continue; // fast authentication succeeded; the OK follows
                case 0x01 when plugin == AuthPlugins.CachingSha2 && payload.Length == 2 && payload[1] == 0x04:
                    if (!tls)
                    {
                        throw new MySqlProtocolException("caching_sha2_password needs full authentication, which the gateway does only over TLS (it never fetches the server's RSA key over plaintext)");
                    }

                    new MySqlPacketWriter().String(options.Password()).Byte(0).WriteTo(transport.Output, sequence++);
                    break;
                default:
                    throw new MySqlProtocolException($"unexpected packet 0x{payload[0]:X2} during the upstream login");
            }

            await transport.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
