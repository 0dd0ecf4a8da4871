using Gatehouse.Proxy.Core.Metrics;

namespace Gatehouse.Proxy.Core.Relay;

/// <summary>Records relay traffic once per read batch, not per frame, with tags built once.</summary>
public sealed class RelayMeter
{
    private static readonly KeyValuePair<string, object?> ToUpstream = new("direction", "client_to_upstream");
    private static readonly KeyValuePair<string, object?> ToClient = new("direction", "upstream_to_client");
    private readonly GatehouseMetrics? _metrics;

    /// <summary>Creates a meter over <paramref name="metrics"/>; null records nothing.</summary>
    public RelayMeter(GatehouseMetrics? metrics) => _metrics = metrics;

    /// <summary>Records one batch.</summary>
    public void Record(Direction direction, long frames, long bytes)
    {
        if (_metrics is null || bytes == 0)
        {
            return;
        }

        var tag = direction == Direction.ClientToUpstream ? ToUpstream : ToClient;
        _metrics.Bytes.Add(bytes, tag);
        if (frames > 0)
        {
            _metrics.Messages.Add(frames, tag);
        }
    }
}
