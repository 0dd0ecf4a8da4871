using Gatehouse.Proxy.Core.Metrics;

namespace Gatehouse.Proxy.Core.Masking;

/// <summary>Counts one session's masked values per rule or detector (<c>gatehouse_masking_values_total{source=...}</c>).</summary>
public sealed class MaskingCounter(GatehouseMetrics? metrics)
{
    private readonly RecentCells<string>? _cells = metrics is null ? null : new(metrics.MaskedValues);

    /// <summary>The action for values in rows whose shape the masker does not know: masked whole.</summary>
    public MaskAction Unattributed { get; } = MaskAction.Whole("unattributed");

    public void Masked(MaskAction action) => _cells?.Increment(action.Source);
}
