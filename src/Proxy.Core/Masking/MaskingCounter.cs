using Gatehouse.Proxy.Core.Metrics;

namespace Gatehouse.Proxy.Core.Masking;

/// <summary>
/// Counts one session's masked values per rule or detector (<c>gatehouse_masking_values_total{source=...}</c>).
/// Counts gather in the session and reach the shared cells when a response ends (<see cref="Flush"/>, called by
/// the protocol's masker and at session end) or every <see cref="FlushEvery"/> values: an interlocked add per
/// masked value was a seventh of the inlined row masker's samples (perf, 2M masked rows), and cells shared by
/// every session bounce between cores. Only the upstream-to-client relay counts, so nothing here is locked.
/// </summary>
public sealed class MaskingCounter(GatehouseMetrics? metrics)
{
    /// <summary>The most values counted but not yet in the shared cells, so a long result shows progress.</summary>
    public const int FlushEvery = 1024;

    internal const int MaxKept = 16; // a session masks with a handful of actions; past that each count goes straight to its cell

    private readonly CountCells<string>? _cells = metrics?.MaskedValues;
    private Pending[] _pending = new Pending[4];
    private int _used;
    private int _unflushed;

    /// <summary>The action for values in rows whose shape the masker does not know: masked whole.</summary>
    public MaskAction Unattributed { get; } = MaskAction.Whole("unattributed");

    public void Masked(MaskAction action)
    {
        if (_cells is null)
        {
            return;
        }

        var pending = _pending;
        for (var i = 0; i < _used; i++)
        {
            // Actions are the policy's own objects, so a reference names the source; equal sources share a cell anyway.
            if (ReferenceEquals(pending[i].Action, action))
            {
                pending[i].Count++;
                if (++_unflushed >= FlushEvery)
                {
                    Flush();
                }

                return;
            }
        }

        Keep(action);
    }

    /// <summary>Adds what this session counted to the shared cells.</summary>
    public void Flush()
    {
        if (_unflushed == 0)
        {
            return;
        }

        _unflushed = 0;
        var pending = _pending;
        for (var i = 0; i < _used; i++)
        {
            if (pending[i].Count > 0)
            {
                pending[i].Cell.Add(pending[i].Count);
                pending[i].Count = 0;
            }
        }
    }

    private void Keep(MaskAction action)
    {
        var cell = _cells!.For(action.Source);
        if (_used == MaxKept)
        {
            cell.Increment();
            return;
        }

        if (_used == _pending.Length)
        {
            Array.Resize(ref _pending, _pending.Length * 2);
        }

        _pending[_used++] = new Pending { Action = action, Cell = cell, Count = 1 };
        if (++_unflushed >= FlushEvery)
        {
            Flush();
        }
    }

    private struct Pending
    {
        public MaskAction Action;
        public CountCell Cell;
        public long Count;
    }
}
