using System.IO.Pipelines;
using System.Net;
using Gatehouse.Protocols.Postgres.Masking;
using Gatehouse.Protocols.Sql;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Metrics;
using Gatehouse.Proxy.Core.Policy;
using Gatehouse.Proxy.Core.Recording;
using Gatehouse.Proxy.Core.Relay;
using Gatehouse.Proxy.Core.Sessions;
using Gatehouse.Proxy.Core.Transport;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Protocols.Postgres;

/// <summary>
/// One client connection on a PostgreSQL listener, from the first byte to the end of its session: startup
/// and TLS (<c>.Startup.cs</c>), the token login and the upstream login (<c>.Login.cs</c>), cancel requests
/// (<c>.Cancel.cs</c>), then the relay. Whatever happens, it ends with one recorded reason.
/// </summary>
internal sealed partial class PgClientSession
{
    private readonly PgListener _listener;
    private readonly PgListenerGeneration _generation; // the listener's options when this session started: a reload changes later sessions only
    private readonly ConnectionContext _connection;
    private readonly string _id;
    private IDuplexPipe _client;
    private StreamDuplexPipe? _clientTls;
    private PgUpstreamConnection? _upstream;
    private SessionEndReason _endReason = SessionEndReason.ClientClosed;
    private string? _endDetail;
    private (int ProcessId, int Secret)? _mintedKey;
    private SessionRelay? _relay;
    private bool _isCancelRequest;
    private bool _holdsSlot;
    private PolicySubject? _policySubject;
    private string? _database;
    private ClientAuthResult? _identity;

    public PgClientSession(PgListener listener, ConnectionContext connection)
    {
        _listener = listener;
        _generation = listener.Current;
        _connection = connection;
        _client = connection.Transport;
        _id = connection.ConnectionId;
    }

    private PgListenerOptions Options => _generation.Options;

    private string? Remote => _connection.RemoteEndPoint?.ToString();

    private bool IsLoopback => _connection.RemoteEndPoint is IPEndPoint ip && IPAddress.IsLoopback(ip.Address);

    public async Task RunAsync()
    {
        _listener.Sessions.Accepted();
        try
        {
            var started = _listener.Time.GetTimestamp();
            if (!await LoginWithDeadlineAsync().ConfigureAwait(false))
            {
                return;
            }

            _listener.Sessions.LoggedIn(_listener.Time.GetElapsedTime(started));
            await RelayAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ConnectionResetException or ObjectDisposedException or System.Security.Authentication.AuthenticationException)
        {
            _endReason = SessionEndReason.TransportError;
            _endDetail = ex.Message;
            PgLog.TransportError(_listener.Logger, _id, ex.Message);
        }
        finally
        {
            await CleanupAsync().ConfigureAwait(false);
            if (_holdsSlot)
            {
                _listener.Limiter.Release();
            }

            _listener.Sessions.Ended(_endReason, wasSession: !_isCancelRequest);

            PgLog.SessionEnded(_listener.Logger, _id, SessionMeter.Label(_endReason), _endDetail is null ? "" : $" ({_endDetail})",
                _relay?.ClientFrames ?? 0, _relay?.ClientBytes ?? 0, _relay?.UpstreamFrames ?? 0, _relay?.UpstreamBytes ?? 0);
        }
    }

    private PgResultMasker? CreateMasker()
    {
        if (Options.Masking.ForSession(_policySubject!.Roles, Options.Upstream.Name) is not { } masking)
        {
            return null; // exempt, or nothing configured: rows stream through unread
        }

        return new PgResultMasker(new PgColumnPlanner(masking, _listener.CatalogFor(_database!)), new PgRowMasker(masking, new MaskingCounter(_listener.Metrics)),
            _generation.Limits.MaxInspectedFrame);
    }

    /// <summary>
    /// Opens the session's recording (its start record durable) when the listener records; null when it does
    /// not — or when recording failed, in which case the client got a FATAL error and nothing is relayed.
    /// </summary>
    private async Task<SessionRecording?> StartRecordingAsync(StatementGuard guard)
    {
        if (Options.Recorder is not { } recorder)
        {
            return null;
        }

        var recording = new SessionRecording(recorder, Guid.NewGuid(), Options.ResultRecording);
        try
        {
            await recording.StartAsync(new SessionStartInfo("postgres", Options.Name, _identity!.Subject, _identity.Groups, _identity.Roles, Remote,
                Options.Upstream.Name, _database!, _clientTls?.Tls, _upstream!.Tls, _id), _listener.Shutdown).ConfigureAwait(false);
        }
        catch (RecordingUnavailableException ex)
        {
            _endReason = SessionEndReason.RecordingFailed;
            _endDetail = ex.Message;
            PgLog.RecordingUnavailable(_listener.Logger, _id, ex.Message);
            await SendFatalAsync(SqlState.IoError, $"the gateway cannot record sessions right now ({ex.Message}), so it does not open one").ConfigureAwait(false);
            return null;
        }

        DecisionRecording.Attach(guard, recording);
        return recording;
    }

    private async Task RelayAsync()
    {
        var upstream = _upstream!;
        using var clientOutput = new SessionOutput(_client.Output);
        using var upstreamOutput = new SessionOutput(upstream.Transport.Output);
        var guard = new StatementGuard(Options.Policy, new PgSqlClassifier(), _policySubject!, _listener.Metrics, _listener.Logger, _listener.Time);
        var masker = CreateMasker();
        if (masker is not null)
        {
            guard.SensitiveStores = masker.Planner.FindStore;
            await masker.Planner.PrepareAsync().ConfigureAwait(false);
        }

        var database = _database!;
        var rewriter = new PgSessionRewriter(new PgStatementGate(guard), masker,
            masker is null && Options.Masking.Rules.Count > 0 ? () => _listener.OnDdl(database) : null);
        var recording = await StartRecordingAsync(guard).ConfigureAwait(false);
        if (Options.Recorder is not null && recording is null)
        {
            return; // not recorded, so not relayed: the client was told why
        }

        _relay = new SessionRelay(_client, clientOutput, upstream.Transport, upstreamOutput,
            _generation.FrontendDecoder, PgFrameDecoder.Backend, rewriter,
            _generation.Limits, _listener.Meter, _listener.Time, recording);
        RelayOutcome outcome;
        using (_listener.Live.Add(_id, _identity!, Options.Upstream.Name, _relay))
        {
            outcome = await _relay.RunAsync(_listener.Shutdown).ConfigureAwait(false);
        }

        masker?.Counter.Flush(); // both directions have stopped: what the last response counted
        if (outcome.Reason == SessionEndReason.UpstreamClosed && rewriter.TerminateSeen)
        {
            outcome = outcome with { Reason = SessionEndReason.ClientClosed }; // the server only obeyed the client's Terminate
        }

        _endReason = outcome.Reason;
        _endDetail = outcome.Detail;
        switch (outcome.Reason)
        {
            case SessionEndReason.ProtocolViolation when outcome.Side == Direction.ClientToUpstream:
                PgLog.ProtocolViolation(_listener.Logger, _id, Options.Name, Remote, outcome.Detail ?? "");
                await SendFatalAsync(SqlState.ProtocolViolation, outcome.Detail ?? "protocol violation").ConfigureAwait(false);
                break;
            case SessionEndReason.ProtocolViolation:
                await SendFatalAsync(SqlState.ProtocolViolation, "the upstream database broke the protocol; the session was ended").ConfigureAwait(false);
                break;
            case SessionEndReason.Enforced:
                await SendFatalAsync(SqlState.FeatureNotSupported, outcome.Detail ?? "the session was ended by the gateway").ConfigureAwait(false);
                break;
            case SessionEndReason.IdleTimeout:
                await SendFatalAsync(SqlState.IdleSessionTimeout, outcome.Detail!).ConfigureAwait(false);
                break;
            case SessionEndReason.RecordingFailed:
                await SendFatalAsync(SqlState.IoError, outcome.Detail ?? "the session could not be recorded, so the gateway ended it").ConfigureAwait(false);
                break;
            case SessionEndReason.SessionExpired:
                await SendFatalAsync(SqlState.AdminShutdown, outcome.Detail!).ConfigureAwait(false);
                break;
            case SessionEndReason.Shutdown:
                await SendFatalAsync(SqlState.AdminShutdown, "terminating connection because the gateway is shutting down").ConfigureAwait(false);
                break;
            case SessionEndReason.AccessWithdrawn:
                await SendFatalAsync(SqlState.InvalidAuthorization, outcome.Detail!).ConfigureAwait(false);
                break;
        }

        if (recording is not null && !await recording.EndAsync(SessionMeter.Label(outcome.Reason), outcome.Detail).ConfigureAwait(false))
        {
            PgLog.RecordingUnavailable(_listener.Logger, _id, Options.Recorder!.Failure ?? "the recorder is shut down");
        }

        if (outcome.Reason != SessionEndReason.UpstreamClosed)
        {
            await TryTerminateUpstreamAsync(upstream).ConfigureAwait(false);
        }
    }

    private static async Task TryTerminateUpstreamAsync(PgUpstreamConnection upstream)
    {
        try
        {
            PgWriter.Terminate(upstream.Transport.Output);
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await upstream.Transport.Output.FlushAsync(quick.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException or ConnectionResetException)
        {
            // Best effort: the connection is being torn down anyway.
        }
    }

    /// <summary>Sends a FATAL ErrorResponse to the client, best effort: it may already be gone.</summary>
    private async Task SendFatalAsync(string sqlState, string message, string? hint = null)
    {
        try
        {
            PgWriter.ErrorResponse(_client.Output, "FATAL", sqlState, message, hint: hint);
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _client.Output.FlushAsync(quick.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException or ConnectionResetException)
        {
        }
    }

    private async Task CleanupAsync()
    {
        if (_mintedKey is { } key)
        {
            _listener.Cancels.Unregister(key.ProcessId, key.Secret);
        }

        if (_upstream is not null)
        {
            await DisposeQuietlyAsync(_upstream).ConfigureAwait(false);
        }

        if (_clientTls is not null)
        {
            await DisposeQuietlyAsync(_clientTls).ConfigureAwait(false);
        }

        await _connection.Transport.Input.CompleteAsync().ConfigureAwait(false);
        await _connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
    }

    private static async Task DisposeQuietlyAsync(IAsyncDisposable disposable)
    {
        try
        {
            await disposable.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or ConnectionResetException)
        {
        }
    }

}
