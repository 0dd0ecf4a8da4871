using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gatehouse.Proxy.Core.Transport;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Protocols.Postgres;

/// <summary>
/// The gateway as a PostgreSQL client: connects, negotiates TLS, logs in with the gateway's own credentials
/// and collects the session's ParameterStatus and BackendKeyData up to the first ReadyForQuery (55.2).
/// </summary>
internal sealed class PgUpstreamConnector
{
    private readonly UpstreamDialer _dialer;

    public PgUpstreamConnector(UpstreamDialer dialer) => _dialer = dialer;

    /// <summary>Throws <see cref="PgUpstreamException"/> with a reason that names what went wrong.</summary>
    public async Task<PgUpstreamConnection> ConnectAsync(PgUpstreamOptions options, string database, IReadOnlyList<KeyValuePair<string, string>> sessionParameters, CancellationToken cancellationToken)
    {
        var (socket, transport, certificate, tls) = await OpenAsync(options, cancellationToken).ConfigureAwait(false);
        // Needed only for SCRAM's channel binding: freed now, not when a GC gets to it (an idle gateway rarely collects).
        using var serverCertificate = certificate;
        try
        {
            var connection = new PgUpstreamConnection(socket, transport, tls);
            var parameters = new List<KeyValuePair<string, string>>
            {
                new("user", options.User),
                new("database", database),
                new("client_encoding", "UTF8"),
            };
            parameters.AddRange(sessionParameters);
            PgWriter.StartupMessage(transport.Output, parameters);
            await transport.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            await AuthenticateAsync(transport, options, certificate, cancellationToken).ConfigureAwait(false);
            await ReadUntilReadyAsync(transport.Input, connection, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (Exception ex)
        {
            await DisposeQuietly(tls, socket).ConfigureAwait(false);
            throw IsPeerFault(ex) ? new PgUpstreamException(ex.Message, ex) : ex;
        }
    }

    /// <summary>Sends a CancelRequest with the upstream's own key on a new connection (55.2.8).</summary>
    public async Task SendCancelAsync(PgUpstreamOptions options, int processId, int secret, CancellationToken cancellationToken)
    {
        var (socket, transport, certificate, tls) = await OpenAsync(options, cancellationToken).ConfigureAwait(false);
        certificate?.Dispose();
        try
        {
            PgWriter.CancelRequest(transport.Output, processId, secret);
            await transport.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
            // The server answers by closing; wait for that briefly so the cancel is not lost to our own close.
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(TimeSpan.FromSeconds(2));
            while (true)
            {
                var read = await transport.Input.ReadAsync(wait.Token).ConfigureAwait(false);
                transport.Input.AdvanceTo(read.Buffer.End);
                if (read.IsCompleted || read.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException || IsPeerFault(ex))
        {
            // Sent or not, a cancel is best effort (55.2.8); the server closing first is the normal answer.
        }
        finally
        {
            await DisposeQuietly(tls, socket).ConfigureAwait(false);
        }
    }

    private static bool IsPeerFault(Exception ex)
        => ex is PgProtocolException or IOException or System.Security.Authentication.AuthenticationException or ConnectionResetException;

    /// <summary>Connects and negotiates TLS as configured; failures become <see cref="PgUpstreamException"/>.</summary>
    private async Task<(IAsyncDisposable Socket, IDuplexPipe Transport, X509Certificate2? Certificate, IAsyncDisposable? Tls)> OpenAsync(
        PgUpstreamOptions options, CancellationToken cancellationToken)
    {
        if (options.Tls != UpstreamTlsMode.Disable)
        {
            return await OpenTlsAsync(options, cancellationToken).ConfigureAwait(false);
        }

        ConnectionContext socket;
        try
        {
            socket = await _dialer.ConnectAsync(options.Host, options.Port, options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new PgUpstreamException($"cannot reach {options.Host}:{options.Port}: {ex.SocketErrorCode}");
        }

        return (socket, socket.Transport, null, null);
    }

    /// <summary>
    /// SSLRequest, then TLS on the socket itself (55.2.10). CVE-2021-23214 on this leg: a byte after 'S' would be
    /// read as if it came over TLS, so it ends the login.
    /// </summary>
    private static async Task<(IAsyncDisposable Socket, IDuplexPipe Transport, X509Certificate2? Certificate, IAsyncDisposable? Tls)> OpenTlsAsync(
        PgUpstreamOptions options, CancellationToken cancellationToken)
    {
        System.Net.Sockets.Socket socket;
        try
        {
            socket = await UpstreamDialer.ConnectSocketAsync(options.Host, options.Port, options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException ex)
        {
            throw new PgUpstreamException($"cannot reach {options.Host}:{options.Port}: {ex.SocketErrorCode}");
        }

        var stream = new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
        try
        {
            var request = new System.Buffers.ArrayBufferWriter<byte>(8);
            PgWriter.RequestCode(request, StartupCodes.SslRequest);
            await stream.WriteAsync(request.WrittenMemory, cancellationToken).ConfigureAwait(false);
            var answer = new byte[1];
            if (await stream.ReadAsync(answer, cancellationToken).ConfigureAwait(false) == 0)
            {
                throw new PgProtocolException("the upstream closed the connection instead of answering SSLRequest");
            }

            if (answer[0] != (byte)'S')
            {
                throw new PgProtocolException(answer[0] == (byte)'N'
                    ? "the upstream refused TLS but the configuration requires it"
                    : "the upstream answered SSLRequest with an unexpected byte");
            }

            if (socket.Available > 0)
            {
                throw new PgProtocolException("the upstream sent data after accepting TLS, before the handshake");
            }

            var ssl = await UpstreamTls.AuthenticateAsync(stream, options.Tls, options.ServerName ?? options.Host, options.CaCertificatePath, cancellationToken).ConfigureAwait(false);
            var certificate = ssl.RemoteCertificate is { } c ? new X509Certificate2(c) : null;
            var pipe = new StreamDuplexPipe(ssl);
            return (pipe, pipe, certificate, null);
        }
        catch (Exception ex)
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw IsPeerFault(ex) ? new PgUpstreamException(ex.Message, ex) : ex;
        }
    }

    private static async Task DisposeQuietly(IAsyncDisposable? tls, IAsyncDisposable socket)
    {
        try
        {
            if (tls is not null)
            {
                await tls.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (IOException)
        {
        }

        await socket.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task AuthenticateAsync(IDuplexPipe transport, PgUpstreamOptions options, X509Certificate2? certificate, CancellationToken cancellationToken)
    {
        ScramSha256Client? scram = null;
        var challenged = false;
        while (true)
        {
            var message = await PgHandshakeIO.ReadMessageAsync(transport.Input, StartupCodes.MaxSaslMessage, cancellationToken).ConfigureAwait(false);
            if (message.Type == (byte)BackendCode.ErrorResponse)
            {
                throw new PgProtocolException("the upstream refused the gateway's login: " + PgErrorFields.Describe(message.Payload));
            }

            if (message.Type != (byte)BackendCode.Authentication || message.Payload.Length < 4)
            {
                throw new PgProtocolException($"unexpected message '{(char)message.Type}' during the upstream login");
            }

            var request = (AuthRequest)BinaryPrimitives.ReadInt32BigEndian(message.Payload);
            var body = message.Payload.AsSpan(4);
            switch (request)
            {
                case AuthRequest.Ok:
                    if (!challenged || (scram is not null && !scram.Verified))
                    {
                        throw new PgProtocolException("the upstream accepted the gateway without verifying its credentials; that is weaker than configured");
                    }

                    return;
                case AuthRequest.CleartextPassword:
                    Require(options, PgAuthMethod.Password, "cleartext password");
                    challenged = true;
                    PgWriter.PasswordMessage(transport.Output, options.Password());
                    break;
                case AuthRequest.Md5Password:
                    Require(options, PgAuthMethod.Md5, "md5");
                    if (body.Length != 4)
                    {
                        throw new PgProtocolException("malformed md5 salt from the upstream");
                    }

                    challenged = true;
                    PgWriter.PasswordMessage(transport.Output, Md5Response(options.User, options.Password(), body));
                    break;
                case AuthRequest.Sasl:
                    challenged = true;
                    scram = ScramSha256Client.Create(options.Password(), ReadMechanisms(body), certificate, options.RequireChannelBinding);
                    PgWriter.SaslInitialResponse(transport.Output, scram.ChosenMechanism, scram.ClientFirst());
                    break;
                case AuthRequest.SaslContinue when scram is not null:
                    PgWriter.SaslResponse(transport.Output, scram.ClientFinal(body));
                    break;
                case AuthRequest.SaslFinal when scram is not null:
                    scram.VerifyServerFinal(body);
                    continue;
                default:
                    throw new PgProtocolException($"the upstream asked for an authentication method the gateway does not use ({(int)request})");
            }

            await transport.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static void Require(PgUpstreamOptions options, PgAuthMethod offered, string name)
    {
        if (offered < options.MinimumAuth)
        {
            throw new PgProtocolException($"the upstream asked for {name} authentication, weaker than the configured minimum {options.MinimumAuth}");
        }
    }

    private static List<string> ReadMechanisms(ReadOnlySpan<byte> body)
    {
        var reader = new PgSpanReader(body);
        var list = new List<string>();
        while (reader.TryReadCString(out var name) && name.Length > 0)
        {
            list.Add(name);
        }

        return list;
    }

    /// <summary>55.3.2: "md5" + md5hex(md5hex(password + user) + salt).</summary>
    internal static string Md5Response(string user, string password, ReadOnlySpan<byte> salt)
    {
        var inner = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(password + user)));
        var outerInput = new byte[inner.Length + 4];
        Encoding.ASCII.GetBytes(inner, outerInput);
        salt.CopyTo(outerInput.AsSpan(inner.Length));
        return "md5" + Convert.ToHexStringLower(MD5.HashData(outerInput));
    }

    private static async Task ReadUntilReadyAsync(PipeReader input, PgUpstreamConnection connection, CancellationToken cancellationToken)
    {
        while (true)
        {
            var message = await PgHandshakeIO.ReadMessageAsync(input, 64 * 1024, cancellationToken).ConfigureAwait(false);
            switch ((BackendCode)message.Type)
            {
                case BackendCode.ParameterStatus:
                    var reader = new PgSpanReader(message.Payload);
                    if (!reader.TryReadCString(out var name) || !reader.TryReadCString(out var value))
                    {
                        throw new PgProtocolException("malformed ParameterStatus from the upstream");
                    }

                    connection.ParameterStatus.Add(new(name, value));
                    break;
                case BackendCode.BackendKeyData when message.Payload.Length == 8:
                    connection.ProcessId = BinaryPrimitives.ReadInt32BigEndian(message.Payload);
                    connection.Secret = BinaryPrimitives.ReadInt32BigEndian(message.Payload.AsSpan(4));
                    break;
                case BackendCode.NoticeResponse:
                    break;
                case BackendCode.ErrorResponse:
                    throw new PgProtocolException("the upstream refused the session: " + PgErrorFields.Describe(message.Payload));
                case BackendCode.ReadyForQuery when message.Payload.Length == 1:
                    connection.TransactionStatus = message.Payload[0];
                    return;
                default:
                    throw new PgProtocolException($"unexpected message '{(char)message.Type}' after the upstream login");
            }
        }
    }
}

/// <summary>The gateway could not open a session on the database; the message names why.</summary>
internal sealed class PgUpstreamException(string message, Exception? inner = null) : Exception(message, inner);
