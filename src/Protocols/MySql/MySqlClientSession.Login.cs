using Gatehouse.Proxy.Core.Policy;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Proxy.Core.Recording;
using Gatehouse.Proxy.Core.Relay;
using Gatehouse.Proxy.Core.Transport;

namespace Gatehouse.Protocols.MySql;

internal sealed partial class MySqlClientSession
{
    private const int MaxLoginPacket = 64 * 1024;

    /// <summary>
    /// What the gateway offers clients. Not offered: LOCAL_FILES (a server could read the client's files),
    /// COMPRESS, SESSION_TRACK (its OK format must match every upstream's). SSL only with a certificate.
    /// </summary>
    private const Capabilities Offered = Capabilities.LongPassword | Capabilities.FoundRows | Capabilities.LongFlag | Capabilities.ConnectWithDb
        | Capabilities.IgnoreSpace | Capabilities.Protocol41 | Capabilities.Interactive | Capabilities.Transactions | Capabilities.SecureConnection
        | Capabilities.MultiStatements | Capabilities.MultiResults | Capabilities.PsMultiResults | Capabilities.PluginAuth | Capabilities.ConnectAttrs
        | Capabilities.PluginAuthLenencClientData | Capabilities.DeprecateEof;

    private async Task<bool> LoginWithDeadlineAsync()
    {
        using var deadline = new CancellationTokenSource(Options.LoginTimeout, _listener.Time);
        using var login = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, _listener.Shutdown);
        try
        {
            return await LoginAsync(login.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            return await RefuseAsync(SessionEndReason.LoginTimeout, "login_timeout", MySqlError.HandshakeError, "08S01",
                $"login not completed within {Options.LoginTimeout.TotalSeconds:0} seconds").ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return await RefuseAsync(SessionEndReason.Shutdown, "shutdown", MySqlError.ServerShutdown, "08S01", "the gateway is shutting down").ConfigureAwait(false);
        }
        catch (MySqlProtocolException ex)
        {
            MySqlLog.ProtocolViolation(_listener.Logger, _id, Options.Name, Remote, ex.Message);
            return await RefuseAsync(SessionEndReason.ProtocolViolation, "protocol_violation", MySqlError.HandshakeError, "08S01", ex.Message).ConfigureAwait(false);
        }
    }

    private byte _sequence;

    private async Task<bool> LoginAsync(CancellationToken cancellationToken)
    {
        _connectionId = _listener.Connections.Mint(Options.Upstream.Name);
        var scramble = new byte[20];
        for (var i = 0; i < scramble.Length; i++)
        {
            scramble[i] = (byte)RandomNumberGenerator.GetInt32(1, 128); // printable-safe and never NUL, as servers do
        }

        var offered = Offered | (Options.Certificate is null ? 0 : Capabilities.Ssl);
        new MySqlPacketWriter().Byte(10).NullTerminated(Options.ServerVersion).UInt32(_connectionId).Bytes(scramble.AsSpan(0, 8)).Byte(0)
            .UInt16((ushort)offered).Byte(MySqlCharset.Utf8Mb4GeneralCi).UInt16(0x0002).UInt16((ushort)((uint)offered >> 16))
            .Byte(21).Zeros(10).Bytes(scramble.AsSpan(8)).Byte(0).NullTerminated(AuthPlugins.NativePassword)
            .WriteTo(_client.Output, 0);
        await _client.Output.FlushAsync(cancellationToken).ConfigureAwait(false);

        var packet = await MySqlHandshakeIO.ReadAsync(_client.Input, 1, MaxLoginPacket, cancellationToken).ConfigureAwait(false);
        _sequence = 1;
        if (packet.Payload.Length == 32 && ((Capabilities)BitConverter.ToUInt32(packet.Payload) & Capabilities.Ssl) != 0)
        {
            if (Options.Certificate is null)
            {
                throw new MySqlProtocolException("the client asked for TLS, which this listener does not offer");
            }

            // Unlike PostgreSQL, MySQL's client starts TLS right after its SSL request without waiting, so what
            // follows must be a TLS handshake record; plaintext here would be an injection (DESIGN §4).
            if (!NextIsTlsHandshake())
            {
                _endReason = SessionEndReason.ProtocolViolation;
                _endDetail = "data other than a TLS handshake followed the SSL request";
                MySqlLog.ProtocolViolation(_listener.Logger, _id, Options.Name, Remote, _endDetail);
                return false;
            }

            await StartTlsAsync(cancellationToken).ConfigureAwait(false);
            packet = await MySqlHandshakeIO.ReadAsync(_client.Input, 2, MaxLoginPacket, cancellationToken).ConfigureAwait(false);
            _sequence = 2;
        }

        var response = MySqlHandshakeResponse.Parse(packet.Payload);
        var negotiated = response.Capabilities & offered;
        if ((negotiated & Capabilities.Protocol41) == 0)
        {
            throw new MySqlProtocolException("the client does not speak protocol 4.1");
        }

        // TLS is what happened on the wire, never what capability bits claim (BACKRONYM, CVE-2015-3152).
        if (_clientTls is null && !(Options.AllowPlaintextOnLoopback && IsLoopback))
        {
            return await RefuseAsync(SessionEndReason.AuthFailed, "tls_required", MySqlError.AccessDenied, "28000",
                $"Access denied for user '{response.User}': the gateway requires TLS for token logins (connect with --ssl)").ConfigureAwait(false);
        }

        if (!(_holdsSlot = _listener.Limiter.TryAcquire()))
        {
            return await RefuseAsync(SessionEndReason.Enforced, "too_many_connections", MySqlError.TooManyConnections, "08004", "Too many connections (gateway limit)").ConfigureAwait(false);
        }

        var token = response.AuthPlugin == AuthPlugins.ClearPassword && response.AuthData.Length > 0
            ? Encoding.UTF8.GetString(response.AuthData).TrimEnd('\0')
            : await SwitchToClearPasswordAsync(cancellationToken).ConfigureAwait(false);
        var identity = await _listener.Authenticator.AuthenticateAsync(token, Options.Upstream.Name, cancellationToken).ConfigureAwait(false);
        if (!identity.Succeeded)
        {
            MySqlLog.LoginRefused(_listener.Logger, _id, Options.Name, Remote, identity.Failure!, identity.FailureKind);
            return await RefuseAsync(SessionEndReason.AuthFailed, identity.FailureKind, MySqlError.AccessDenied, "28000",
                $"Access denied for user '{response.User}': {identity.Failure}").ConfigureAwait(false);
        }

        var database = response.Database is { Length: > 0 } db ? db : Options.Upstream.Database;
        if (!Options.Upstream.AllowsDatabase(database))
        {
            return await RefuseAsync(SessionEndReason.AuthFailed, "database", 1044, "42000",
                $"Access denied to database '{database}' through listener '{Options.Name}'").ConfigureAwait(false);
        }

        try
        {
            _upstream = await _listener.Connector.ConnectAsync(Options.Upstream, database, negotiated, cancellationToken).ConfigureAwait(false);
        }
        catch (MySqlUpstreamException ex)
        {
            MySqlLog.UpstreamUnavailable(_listener.Logger, _id, Options.Upstream.Name, ex.Message);
            return await RefuseAsync(SessionEndReason.UpstreamUnavailable, "upstream_unavailable", 1105, "HY000",
                $"the gateway could not open a session on upstream '{Options.Upstream.Name}'").ConfigureAwait(false);
        }

        _subject = identity.Subject;
        _identity = identity;
        _policySubject = new PolicySubject(_id, identity.Subject, identity.Roles, Options.Upstream.Name);
        if (Options.Recorder is { } recorder)
        {
            // The session's start is durable before the client hears OK: an unrecorded session never opens.
            _recording = new SessionRecording(recorder, Guid.NewGuid(), Options.ResultRecording);
            try
            {
                await _recording.StartAsync(new SessionStartInfo("mysql", Options.Name, identity.Subject, identity.Groups, identity.Roles, Remote,
                    Options.Upstream.Name, database, _clientTls?.Tls, _upstream.Tls, _id,
                    (_upstream.Negotiated & Capabilities.DeprecateEof) != 0 ? ["deprecate_eof"] : []), cancellationToken).ConfigureAwait(false);
            }
            catch (RecordingUnavailableException ex)
            {
                MySqlLog.RecordingUnavailable(_listener.Logger, _id, ex.Message);
                return await RefuseAsync(SessionEndReason.RecordingFailed, "recording", MySqlError.ErrorOnWrite, "HY000",
                    $"the gateway cannot record sessions right now ({ex.Message}), so it does not open one").ConfigureAwait(false);
            }
        }

        _listener.Connections.Bind(_connectionId, identity.Subject, _upstream.ThreadId);
        MySqlPacketWriter.Ok(_client.Output, ++_sequence);
        await _client.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        MySqlLog.SessionStarted(_listener.Logger, _id, Options.Name, identity.Subject, Remote, _clientTls is not null,
            string.Join(',', identity.Roles), Options.Upstream.Name, database);
        return true;
    }

    /// <summary>
    /// The token is too long for a 1-byte auth response and must arrive in clear (under TLS): ask for
    /// mysql_clear_password through an auth switch, which every 5.5.7+ client understands.
    /// </summary>
    private async Task<string> SwitchToClearPasswordAsync(CancellationToken cancellationToken)
    {
        new MySqlPacketWriter().Byte(0xFE).NullTerminated(AuthPlugins.ClearPassword).WriteTo(_client.Output, ++_sequence);
        await _client.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        var reply = await MySqlHandshakeIO.ReadAsync(_client.Input, ++_sequence, MaxLoginPacket, cancellationToken).ConfigureAwait(false);
        return Encoding.UTF8.GetString(reply.Payload).TrimEnd('\0');
    }

    private bool NextIsTlsHandshake()
    {
        if (!_client.Input.TryRead(out var result))
        {
            return true; // nothing buffered yet: SslStream reads the handshake itself
        }

        var ok = result.Buffer.IsEmpty || result.Buffer.FirstSpan[0] == 0x16;
        _client.Input.AdvanceTo(result.Buffer.Start, result.Buffer.Start);
        return ok;
    }

    private async Task StartTlsAsync(CancellationToken cancellationToken)
    {
        var ssl = await ClientTls.AuthenticateAsync(_connection.Transport, Options.Certificate!, applicationProtocols: null, cancellationToken).ConfigureAwait(false);
        _clientTls = new StreamDuplexPipe(ssl);
        _client = _clientTls;
    }

    /// <summary>Answers a refused login with an ERR packet and records why.</summary>
    private async Task<bool> RefuseAsync(SessionEndReason reason, string kind, ushort code, string sqlState, string message)
    {
        _endReason = reason;
        _endDetail = message;
        _listener.Sessions.Refused(kind);
        await SendErrorAsync((byte)(_sequence + 1), code, sqlState, message).ConfigureAwait(false);
        return false;
    }
}
