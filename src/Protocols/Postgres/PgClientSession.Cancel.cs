namespace Gatehouse.Protocols.Postgres;

internal sealed partial class PgClientSession
{
    /// <summary>
    /// A CancelRequest is honoured only for a key this gateway minted; it is then sent to the upstream with
    /// the upstream's own key. As PostgreSQL does, nothing is answered either way, so a prober learns nothing.
    /// </summary>
    private async Task ForwardCancelAsync(PgStartupPacket packet, CancellationToken cancellationToken)
    {
        _endReason = Proxy.Core.Relay.SessionEndReason.ClientClosed;
        if (!_listener.Cancels.TryGet(packet.CancelProcessId, packet.CancelSecret, out var target) || packet.Length != 16)
        {
            PgLog.CancelUnknown(_listener.Logger, Remote);
            return;
        }

        try
        {
            await _listener.Connector.SendCancelAsync(target.Upstream, target.ProcessId, target.Secret, cancellationToken).ConfigureAwait(false);
            PgLog.CancelForwarded(_listener.Logger, target.Upstream.Name);
        }
        catch (PgUpstreamException ex)
        {
            PgLog.UpstreamUnavailable(_listener.Logger, _id, target.Upstream.Name, ex.Message);
        }
    }
}
