using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Gatehouse.Proxy.Core.Metrics;

/// <summary>
/// Statements judged, by decision, rule and kind: one cell per combination, counted with one interlocked add and
/// observed when metrics are read. A tagged <see cref="Counter{T}"/> made every statement hash its three tag
/// strings in the exporter's series lookup, about a fifth of what the statement policy cost the gateway
/// (perf, pgbench TPC-B through the gateway); a guard keeps the few cells its session uses at hand instead.
/// </summary>
public sealed class PolicyDecisionCounts
{
    private readonly ConcurrentDictionary<(string Decision, string Rule, string Kind), Cell> _cells = new();

    /// <summary>The cell for one combination, created on first use (a handful per policy: rules times kinds).</summary>
    public Cell For(string decision, string rule, string kind) => _cells.GetOrAdd((decision, rule, kind), static _ => new Cell());

    internal IEnumerable<Measurement<long>> Observe()
    {
        foreach (var ((decision, rule, kind), cell) in _cells)
        {
            yield return new Measurement<long>(Volatile.Read(ref cell.Count),
                new KeyValuePair<string, object?>("decision", decision),
                new KeyValuePair<string, object?>("rule", rule),
                new KeyValuePair<string, object?>("kind", kind));
        }
    }

    /// <summary>One combination's running count.</summary>
    public sealed class Cell
    {
        internal long Count;

        public void Increment() => Interlocked.Increment(ref Count);
    }
}
