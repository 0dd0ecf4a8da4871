using Gatehouse.Proxy.Core.Policy;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Protocols.Postgres;

internal sealed partial class PgClientSession
{
    /// <summary>Runs the whole login under the listener's deadline; true when the session is ready to relay.</summary>
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
            return await RefuseAsync(SessionEndReason.LoginTimeout, "login_timeout", SqlState.ProtocolViolation,
                $"login not completed within {Options.LoginTimeout.TotalSeconds:0} seconds").ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return await RefuseAsync(SessionEndReason.Shutdown, "shutdown", SqlState.AdminShutdown, "the gateway is shutting down").ConfigureAwait(false);
        }
        catch (PgProtocolException ex)
        {
            PgLog.ProtocolViolation(_listener.Logger, _id, Options.Name, Remote, ex.Message);
            return await RefuseAsync(SessionEndReason.ProtocolViolation, "protocol_violation", SqlState.ProtocolViolation, ex.Message).ConfigureAwait(false);
        }
    }

    private async Task<bool> LoginAsync(CancellationToken cancellationToken)
    {
        var startup = await NegotiateAsync(cancellationToken).ConfigureAwait(false);
        if (startup is null)
        {
            return false;
        }

        // Counted once the startup packet is in, as PostgreSQL does, so the refusal reaches the client as a
        // normal ErrorResponse over the TLS it negotiated; cancel requests never take a slot.
        if (!(_holdsSlot = _listener.Limiter.TryAcquire()))
        {
            return await RefuseAsync(SessionEndReason.Enforced, "too_many_connections", SqlState.TooManyConnections,
                "sorry, too many clients already (gateway limit)").ConfigureAwait(false);
        }

        var forwarded = new List<KeyValuePair<string, string>>();
        var unrecognised = new List<string>();
        foreach (var (name, value) in startup.Parameters)
        {
            if (name.StartsWith("_pq_.", StringComparison.Ordinal))
            {
                unrecognised.Add(name); // protocol extensions: declined through NegotiateProtocolVersion (55.2.1)
            }
            else if (!Options.AllowedStartupParameters.Contains(name))
            {
                return await RefuseAsync(SessionEndReason.ProtocolViolation, "startup_parameter", SqlState.FeatureNotSupported,
                    $"startup parameter \"{name}\" is not allowed through the gateway").ConfigureAwait(false);
            }
            else if (name is not ("user" or "database" or "client_encoding"))
            {
                forwarded.Add(new(name, value)); // client_encoding is forced to UTF8 upstream (DESIGN §3)
            }
        }

        if (startup.MinorVersion > 0 || unrecognised.Count > 0)
        {
            PgWriter.NegotiateProtocolVersion(_client.Output, 0, unrecognised);
        }

        var user = startup.Get("user");
        if (string.IsNullOrEmpty(user))
        {
            return await RefuseAsync(SessionEndReason.ProtocolViolation, "startup_parameter", SqlState.InvalidAuthorization, "no PostgreSQL user name specified in startup packet").ConfigureAwait(false);
        }

        var database = startup.Get("database") is { Length: > 0 } db ? db : user;
        if (!Options.Upstream.AllowsDatabase(database))
        {
            return await RefuseAsync(SessionEndReason.AuthFailed, "database", SqlState.InvalidCatalogName,
                $"database \"{database}\" is not available through listener \"{Options.Name}\"", $"connect with dbname={Options.Upstream.Database}").ConfigureAwait(false);
        }

        if (_clientTls is null && !(Options.AllowPlaintextOnLoopback && IsLoopback))
        {
            // Refuse before the token is sent: a token in cleartext can be replayed by anyone on the path.
            return await RefuseAsync(SessionEndReason.AuthFailed, "tls_required", SqlState.InvalidAuthorization,
                "the gateway requires TLS for token logins", "connect with sslmode=require").ConfigureAwait(false);
        }

        PgWriter.AuthenticationRequest(_client.Output, AuthRequest.CleartextPassword);
        await _client.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        var token = await ReadPasswordAsync(cancellationToken).ConfigureAwait(false);
        var identity = await _listener.Authenticator.AuthenticateAsync(token, Options.Upstream.Name, cancellationToken).ConfigureAwait(false);
        if (!identity.Succeeded)
        {
            PgLog.LoginRefused(_listener.Logger, _id, Options.Name, Remote, identity.Failure!, identity.FailureKind);
            return await RefuseAsync(SessionEndReason.AuthFailed, identity.FailureKind,
                identity.NotAuthorized ? SqlState.InvalidAuthorization : SqlState.InvalidPassword, identity.Failure!).ConfigureAwait(false);
        }

        try
        {
            _database = database;
            _upstream = await _listener.Connector.ConnectAsync(Options.Upstream, database, forwarded, cancellationToken).ConfigureAwait(false);
        }
        catch (PgUpstreamException ex)
        {
            PgLog.UpstreamUnavailable(_listener.Logger, _id, Options.Upstream.Name, ex.Message);
            return await RefuseAsync(SessionEndReason.UpstreamUnavailable, "upstream_unavailable", SqlState.ConnectionFailure,
                $"the gateway could not open a session on upstream \"{Options.Upstream.Name}\"").ConfigureAwait(false);
        }

        foreach (var (name, value) in _upstream.ParameterStatus)
        {
            if ((name == "standard_conforming_strings" && value != "on") || (name == "client_encoding" && value != "UTF8"))
            {
                return await RefuseAsync(SessionEndReason.Enforced, "upstream_settings", SqlState.FeatureNotSupported,
                    $"upstream \"{Options.Upstream.Name}\" runs with {name}={value}; the gateway requires standard_conforming_strings=on and UTF8").ConfigureAwait(false);
            }
        }

        _mintedKey = _listener.Cancels.Register(Options.Upstream, _upstream.ProcessId, _upstream.Secret);
        PgWriter.AuthenticationRequest(_client.Output, AuthRequest.Ok);
        foreach (var (name, value) in _upstream.ParameterStatus)
        {
            PgWriter.ParameterStatus(_client.Output, name, value);
        }

        PgWriter.BackendKeyData(_client.Output, _mintedKey.Value.ProcessId, _mintedKey.Value.Secret);
        PgWriter.ReadyForQuery(_client.Output, _upstream.TransactionStatus);
        await _client.Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        _policySubject = new PolicySubject(_id, identity.Subject, identity.Roles, Options.Upstream.Name);
        _identity = identity;
        PgLog.SessionStarted(_listener.Logger, _id, Options.Name, identity.Subject, Remote, _clientTls is not null,
            string.Join(',', identity.Roles), Options.Upstream.Name, database);
        return true;
    }

    private async Task<string> ReadPasswordAsync(CancellationToken cancellationToken)
    {
        var message = await PgHandshakeIO.ReadMessageAsync(_client.Input, StartupCodes.MaxPasswordMessage, cancellationToken).ConfigureAwait(false);
        if (message.Type != (byte)FrontendCode.Password)
        {
            throw new PgProtocolException($"expected a password message, received '{(char)message.Type}'");
        }

        var reader = new PgSpanReader(message.Payload);
        if (!reader.TryReadCString(out var token) || reader.Remaining != 0)
        {
            throw new PgProtocolException("malformed password message");
        }

        return token;
    }

    /// <summary>Answers a refused login with a FATAL ErrorResponse and records why.</summary>
    private async Task<bool> RefuseAsync(SessionEndReason reason, string kind, string sqlState, string message, string? hint = null)
    {
        _endReason = reason;
        _endDetail = message;
        _listener.Sessions.Refused(kind);
        await SendFatalAsync(sqlState, message, hint).ConfigureAwait(false);
        return false;
    }
}
