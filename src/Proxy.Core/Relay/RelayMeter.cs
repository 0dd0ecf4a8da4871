using Gatehouse.Proxy.Core.Metrics;

namespace Gatehouse.Proxy.Core.Relay;

/// <summary>Records relay traffic once per read batch, not per frame, in count cells taken once per session.</summary>
public sealed class RelayMeter
{
    private readonly CountCell? _bytesToUpstream;
    private readonly CountCell? _bytesToClient;
    private readonly CountCell? _messagesToUpstream;
    private readonly CountCell? _messagesToClient;

    /// <summary>Creates a meter over <paramref name="metrics"/>; null records nothing.</summary>
    public RelayMeter(GatehouseMetrics? metrics)
    {
        if (metrics is null)
        {
            return;
        }

        (_bytesToUpstream, _bytesToClient) = (metrics.Bytes.For("client_to_upstream"), metrics.Bytes.For("upstream_to_client"));
        (_messagesToUpstream, _messagesToClient) = (metrics.Messages.For("client_to_upstream"), metrics.Messages.For("upstream_to_client"));
    }

    /// <summary>Records one batch.</summary>
    public void Record(Direction direction, long frames, long bytes)
    {
        if (_bytesToUpstream is null || bytes == 0)
        {
            return;
        }

        var upstream = direction == Direction.ClientToUpstream;
        (upstream ? _bytesToUpstream : _bytesToClient)!.Add(bytes);
        if (frames > 0)
        {
            (upstream ? _messagesToUpstream : _messagesToClient)!.Add(frames);
        }
    }
}
