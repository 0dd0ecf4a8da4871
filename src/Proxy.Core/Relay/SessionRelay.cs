using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Gatehouse.Proxy.Core.Framing;

namespace Gatehouse.Proxy.Core.Relay;

/// <summary>
/// Runs both directions of a logged-in session as two loops; when one ends, the other is stopped between
/// frames and the first one's outcome is the session's (YARP <c>StreamCopier</c>).
/// </summary>
public sealed class SessionRelay
{
    private readonly FrameRelay _toUpstream;
    private readonly FrameRelay _toClient;
    private readonly PipeReader _clientInput;
    private readonly PipeReader _upstreamInput;
    private readonly RelayLimits _limits;
    private readonly TimeProvider _time;
    private readonly ISessionActivity? _activity;

    /// <summary>Wires the two directions.</summary>
    public SessionRelay(IDuplexPipe client, SessionOutput clientOutput, IDuplexPipe upstream, SessionOutput upstreamOutput,
        IFrameDecoder clientFrames, IFrameDecoder upstreamFrames, IFrameRewriter rewriter, RelayLimits limits, RelayMeter meter, TimeProvider? time = null,
        IRelayTap? tap = null)
    {
        _limits = limits;
        _activity = rewriter as ISessionActivity;
        _time = time ?? TimeProvider.System;
        _clientInput = client.Input;
        _upstreamInput = upstream.Input;
        _toUpstream = new FrameRelay(Direction.ClientToUpstream, client.Input, upstreamOutput, clientOutput, clientFrames, rewriter, limits, meter, tap);
        _toClient = new FrameRelay(Direction.UpstreamToClient, upstream.Input, clientOutput, upstreamOutput, upstreamFrames, rewriter, limits, meter, tap);
    }

    /// <summary>Messages relayed from the client.</summary>
    public long ClientFrames => _toUpstream.Frames;

    /// <summary>Messages relayed from the database.</summary>
    public long UpstreamFrames => _toClient.Frames;

    /// <summary>Bytes relayed from the client.</summary>
    public long ClientBytes => _toUpstream.Bytes;

    /// <summary>Bytes relayed from the database.</summary>
    public long UpstreamBytes => _toClient.Bytes;

    private readonly CancellationTokenSource _endNow = new();
    private System.Runtime.CompilerServices.StrongBox<RelayOutcome>? _endedBy;

    /// <summary>
    /// Ends the session from outside (a configuration reload withdrew its access): both directions stop between
    /// frames, as at shutdown, and <see cref="RunAsync"/> returns this reason. The first call decides.
    /// </summary>
    public void End(SessionEndReason reason, string detail)
    {
        if (Interlocked.CompareExchange(ref _endedBy, new(new RelayOutcome(reason, Direction.ClientToUpstream, detail)), null) is null)
        {
            _ = _endNow.CancelAsync(); // the session's loops wake on the thread pool, not on the caller's thread (a reload holding its lock)
        }
    }

    /// <summary>Relays until either direction ends; returns the first outcome.</summary>
    public async Task<RelayOutcome> RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _endNow.Token);
        var up = Guard(_toUpstream, Direction.ClientToUpstream, stop.Token);
        var down = Guard(_toClient, Direction.UpstreamToClient, stop.Token);
        using var watchdogStop = new CancellationTokenSource();
        var watchdog = WatchAsync(stop, watchdogStop.Token);
        var first = await Task.WhenAny(up, down).ConfigureAwait(false);
        var outcome = await first.ConfigureAwait(false);
        await watchdogStop.CancelAsync().ConfigureAwait(false);
        var expired = await watchdog.ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested)
        {
            outcome = outcome with { Reason = SessionEndReason.Shutdown };
        }
        else if (Volatile.Read(ref _endedBy) is { } ended && _endNow.IsCancellationRequested)
        {
            outcome = ended.Value;
        }
        else if (expired is { } reason)
        {
            outcome = new RelayOutcome(reason, Direction.ClientToUpstream, reason == SessionEndReason.IdleTimeout
                ? $"terminating connection due to idle-session timeout ({_limits.IdleTimeout!.Value.TotalSeconds:0} s)"
                : $"terminating connection: the session reached its maximum duration ({_limits.MaxSessionDuration!.Value.TotalMinutes:0} min); log in again with a fresh token");
        }

        // Stop the other loop between frames rather than tearing its buffers away.
        _clientInput.CancelPendingRead();
        _upstreamInput.CancelPendingRead();
        await stop.CancelAsync().ConfigureAwait(false);
        await (first == up ? down : up).ConfigureAwait(false);
        return outcome;
    }

    /// <summary>
    /// Ends the session at its idle or maximum deadline by stopping both loops between frames; returns which
    /// deadline fired, or null. One timer per session, checking progress rather than being reset per frame.
    /// </summary>
    private async Task<SessionEndReason?> WatchAsync(CancellationTokenSource relays, CancellationToken stopped)
    {
        if (_limits.IdleTimeout is null && _limits.MaxSessionDuration is null)
        {
            return null;
        }

        var started = _time.GetTimestamp();
        var idleSince = started;
        var lastBytes = -1L;
        var period = TimeSpan.FromSeconds(1);
        if (_limits.IdleTimeout is { } idleLimit && idleLimit / 4 < period)
        {
            period = idleLimit / 4;
        }

        if (_limits.MaxSessionDuration is { } maxLimit && maxLimit / 4 < period)
        {
            period = maxLimit / 4;
        }

        try
        {
            while (true)
            {
                await Task.Delay(period, _time, stopped).ConfigureAwait(false);
                var bytes = ClientBytes + UpstreamBytes;
                if (bytes != lastBytes || _activity is { IsIdle: false })
                {
                    lastBytes = bytes;
                    idleSince = _time.GetTimestamp();
                }

                SessionEndReason? reason = null;
                if (_limits.MaxSessionDuration is { } max && _time.GetElapsedTime(started) >= max)
                {
                    reason = SessionEndReason.SessionExpired;
                }
                else if (_limits.IdleTimeout is { } idle && _time.GetElapsedTime(idleSince) >= idle)
                {
                    reason = SessionEndReason.IdleTimeout;
                }

                if (reason is not null)
                {
                    _clientInput.CancelPendingRead();
                    _upstreamInput.CancelPendingRead();
                    await relays.CancelAsync().ConfigureAwait(false);
                    return reason;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private static async Task<RelayOutcome> Guard(FrameRelay relay, Direction direction, CancellationToken cancellationToken)
    {
        await Task.Yield();
        try
        {
            return await relay.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return new RelayOutcome(SessionEndReason.Shutdown, direction);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ConnectionResetException or ObjectDisposedException)
        {
            // A reset or TLS failure is ordinary teardown for a proxy: classified, not thrown (Kestrel SocketConnection).
            return new RelayOutcome(direction == Direction.ClientToUpstream ? SessionEndReason.ClientClosed : SessionEndReason.UpstreamClosed,
                direction, ex.Message);
        }
    }
}
