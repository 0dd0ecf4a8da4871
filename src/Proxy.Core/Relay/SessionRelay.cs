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

    /// <summary>Wires the two directions.</summary>
    public SessionRelay(IDuplexPipe client, SessionOutput clientOutput, IDuplexPipe upstream, SessionOutput upstreamOutput,
        IFrameDecoder clientFrames, IFrameDecoder upstreamFrames, IFrameRewriter rewriter, RelayLimits limits, RelayMeter meter)
    {
        _clientInput = client.Input;
        _upstreamInput = upstream.Input;
        _toUpstream = new FrameRelay(Direction.ClientToUpstream, client.Input, upstreamOutput, clientOutput, clientFrames, rewriter, limits, meter);
        _toClient = new FrameRelay(Direction.UpstreamToClient, upstream.Input, clientOutput, upstreamOutput, upstreamFrames, rewriter, limits, meter);
    }

    /// <summary>Messages relayed from the client.</summary>
    public long ClientFrames => _toUpstream.Frames;

    /// <summary>Messages relayed from the database.</summary>
    public long UpstreamFrames => _toClient.Frames;

    /// <summary>Bytes relayed from the client.</summary>
    public long ClientBytes => _toUpstream.Bytes;

    /// <summary>Bytes relayed from the database.</summary>
    public long UpstreamBytes => _toClient.Bytes;

    /// <summary>Relays until either direction ends; returns the first outcome.</summary>
    public async Task<RelayOutcome> RunAsync(CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var up = Guard(_toUpstream, Direction.ClientToUpstream, stop.Token);
        var down = Guard(_toClient, Direction.UpstreamToClient, stop.Token);
        var first = await Task.WhenAny(up, down).ConfigureAwait(false);
        var outcome = await first.ConfigureAwait(false);
        if (cancellationToken.IsCancellationRequested)
        {
            outcome = outcome with { Reason = SessionEndReason.Shutdown };
        }

        // Stop the other loop between frames rather than tearing its buffers away.
        _clientInput.CancelPendingRead();
        _upstreamInput.CancelPendingRead();
        await stop.CancelAsync().ConfigureAwait(false);
        await (first == up ? down : up).ConfigureAwait(false);
        return outcome;
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
