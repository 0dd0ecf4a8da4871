using Gatehouse.Protocols.Sql;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Policy;
using System.IO.Pipelines;
using System.Net;
using Gatehouse.Proxy.Core.Metrics;
using Gatehouse.Proxy.Core.Recording;
using Gatehouse.Proxy.Core.Relay;
using Gatehouse.Proxy.Core.Sessions;
using Gatehouse.Proxy.Core.Transport;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Protocols.MySql;

/// <summary>
/// One client connection on a MySQL listener: greeting, TLS and token login (<c>.Login.cs</c>), the gateway's
/// own upstream login, then the relay with <see cref="MySqlSessionRewriter"/>. Ends with one recorded reason.
/// </summary>
internal sealed partial class MySqlClientSession
{
    private readonly MySqlListener _listener;
    private readonly MySqlListenerGeneration _generation; // the listener's options when this session started: a reload changes later sessions only
    private readonly ConnectionContext _connection;
    private readonly string _id;
    private IDuplexPipe _client;
    private StreamDuplexPipe? _clientTls;
    private SessionRecording? _recording;
    private MySqlUpstreamConnection? _upstream;
    private SessionEndReason _endReason = SessionEndReason.ClientClosed;
    private string? _endDetail;
    private uint _connectionId;
    private bool _holdsSlot;
    private string _subject = "";
    private PolicySubject? _policySubject;
    private ClientAuthResult? _identity;
    private SessionRelay? _relay;

    public MySqlClientSession(MySqlListener listener, ConnectionContext connection)
    {
        _listener = listener;
        _generation = listener.Current;
        _connection = connection;
        _client = connection.Transport;
        _id = connection.ConnectionId;
    }

    private MySqlListenerOptions Options => _generation.Options;

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
            MySqlLog.TransportError(_listener.Logger, _id, ex.Message);
        }
        finally
        {
            await CleanupAsync().ConfigureAwait(false);
            _listener.Sessions.Ended(_endReason);
            MySqlLog.SessionEnded(_listener.Logger, _id, SessionMeter.Label(_endReason), _endDetail is null ? "" : $" ({_endDetail})",
                _relay?.ClientFrames ?? 0, _relay?.ClientBytes ?? 0, _relay?.UpstreamFrames ?? 0, _relay?.UpstreamBytes ?? 0);
        }
    }

    private Masking.MySqlResultMasker? CreateMasker()
    {
        if (Options.Masking.ForSession(_policySubject!.Roles, Options.Upstream.Name) is not { } masking)
        {
            return null; // exempt, or nothing configured: rows stream through unread
        }

        return new Masking.MySqlResultMasker(new Masking.MySqlColumnPlanner(masking, _listener.Catalog),
            new Masking.MySqlRowMasker(masking, new MaskingCounter(_listener.Metrics)), _generation.Limits.MaxInspectedFrame);
    }

    private async Task RelayAsync()
    {
        var upstream = _upstream!;
        using var clientOutput = new SessionOutput(_client.Output);
        using var upstreamOutput = new SessionOutput(upstream.Transport.Output);
        var guard = new StatementGuard(Options.Policy, new MySqlSqlClassifier(), _policySubject!, _listener.Metrics, _listener.Logger, _listener.Time);
        var masker = CreateMasker();
        if (masker is not null)
        {
            guard.SensitiveStores = masker.Planner.FindStore;
            await masker.Planner.PrepareAsync().ConfigureAwait(false);
        }

        var rewriter = new MySqlSessionRewriter(_listener.Connections, _subject, Options.Upstream.Name, (upstream.Negotiated & Capabilities.DeprecateEof) != 0, guard,
            masker, Options.Masking.Rules.Count > 0 ? _listener.OnCatalogChange : null);
        var commands = MySqlFrameDecoder.ForClient();
        if (_recording is not null)
        {
            DecisionRecording.Attach(guard, _recording);
        }

        _relay = new SessionRelay(_client, clientOutput, upstream.Transport, upstreamOutput,
            commands, MySqlFrameDecoder.ForServer(commands), rewriter, _generation.Limits, _listener.Meter, _listener.Time, _recording);
        RelayOutcome outcome;
        using (_listener.Live.Add(_id, _identity!, Options.Upstream.Name, _relay))
        {
            outcome = await _relay.RunAsync(_listener.Shutdown).ConfigureAwait(false);
        }

        masker?.Counter.Flush(); // both directions have stopped: what the last response counted
        if (outcome.Reason == SessionEndReason.UpstreamClosed && rewriter.QuitSeen)
        {
            outcome = outcome with { Reason = SessionEndReason.ClientClosed };
        }

        _endReason = outcome.Reason;
        _endDetail = outcome.Detail;
        switch (outcome.Reason)
        {
            case SessionEndReason.ProtocolViolation when outcome.Side == Direction.ClientToUpstream:
                MySqlLog.ProtocolViolation(_listener.Logger, _id, Options.Name, Remote, outcome.Detail ?? "");
                await SendErrorAsync(0, MySqlError.NetPacketsOutOfOrder, "08S01", outcome.Detail ?? "protocol violation").ConfigureAwait(false);
                break;
            case SessionEndReason.ProtocolViolation or SessionEndReason.Enforced:
                await SendErrorAsync(1, MySqlError.NewAbortingConnection, "08S01", outcome.Detail ?? "the session was ended by the gateway").ConfigureAwait(false);
                break;
            case SessionEndReason.IdleTimeout or SessionEndReason.SessionExpired:
                await SendErrorAsync(0, MySqlError.ConnectionKilled, "70100", outcome.Detail!).ConfigureAwait(false);
                break;
            case SessionEndReason.Shutdown:
                await SendErrorAsync(0, MySqlError.ServerShutdown, "08S01", "the gateway is shutting down").ConfigureAwait(false);
                break;
            case SessionEndReason.AccessWithdrawn:
                await SendErrorAsync(0, MySqlError.AccessDenied, "28000", outcome.Detail!).ConfigureAwait(false);
                break;
            case SessionEndReason.RecordingFailed:
                await SendErrorAsync(1, MySqlError.ErrorOnWrite, "HY000", outcome.Detail ?? "the session could not be recorded, so the gateway ended it").ConfigureAwait(false);
                break;
        }

        if (_recording is not null && !await _recording.EndAsync(SessionMeter.Label(outcome.Reason), outcome.Detail).ConfigureAwait(false))
        {
            MySqlLog.RecordingUnavailable(_listener.Logger, _id, Options.Recorder!.Failure ?? "the recorder is shut down");
        }
    }

    /// <summary>Sends an ERR packet to the client, best effort: it may already be gone.</summary>
    private async Task SendErrorAsync(byte sequence, ushort code, string sqlState, string message)
    {
        try
        {
            MySqlPacketWriter.Error(_client.Output, sequence, code, sqlState, message);
            using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await _client.Output.FlushAsync(quick.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException or ConnectionResetException)
        {
        }
    }

    private async Task CleanupAsync()
    {
        if (_connectionId != 0)
        {
            _listener.Connections.Release(_connectionId);
        }

        if (_holdsSlot)
        {
            _listener.Limiter.Release();
        }

        if (_upstream is not null)
        {
            await _upstream.DisposeAsync().ConfigureAwait(false);
        }

        if (_clientTls is not null)
        {
            try
            {
                await _clientTls.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
            {
            }
        }

        await _connection.Transport.Input.CompleteAsync().ConfigureAwait(false);
        await _connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
    }

}
