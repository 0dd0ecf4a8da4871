using Gatehouse.Proxy.Core.Metrics;

namespace Gatehouse.Proxy.Core.Masking;

/// <summary>Counts masked values per rule or detector (<c>gatehouse_masking_values_total{source=...}</c>).</summary>
public sealed class MaskingCounter(GatehouseMetrics? metrics)
{
    /// <summary>The action for values in rows whose shape the masker does not know: masked whole.</summary>
    public MaskAction Unattributed { get; } = MaskAction.Whole("unattributed");

    public void Masked(MaskAction action) =>
        metrics?.MaskedValues.Add(1, new KeyValuePair<string, object?>("source", action.Source));
}
