using Gatehouse.Protocols.Sql;

namespace Gatehouse.Protocols.Masking;

/// <summary>
/// One masked session's view columns of the upstream that show a sensitive value under its rules
/// (<see cref="SensitiveViewColumns"/>: <c>upper(v.cc)</c> over a view's copy of card is card), kept for the
/// catalog state they were computed from. Both of the session's directions ask (the statement
/// check and the result planner), so an answer is published whole and a race only computes it twice.
/// </summary>
internal sealed class ViewColumnNames
{
    private volatile Entry? _entry;

    /// <summary>
    /// The names for the catalog's current state, computed by <paramref name="compute"/> when it changed; null while
    /// the catalog has not loaded its views, or when it changed during the computation (strict mode then fails closed).
    /// </summary>
    public SensitiveViewColumns? Get<TConnection, TView, TState>(CatalogCache<TConnection, TView> catalog, TState state,
        Func<TState, IReadOnlyList<TView>, SensitiveViewColumns?> compute)
        where TConnection : class, IAsyncDisposable
    {
        var generation = catalog.Generation;
        if (_entry is { } known && known.Generation == generation)
        {
            return known.Names;
        }

        if (catalog.Views is not { } views || compute(state, views) is not { } names || catalog.Generation != generation)
        {
            return null;
        }

        _entry = new Entry(generation, names);
        return names;
    }

    private sealed record Entry(int Generation, SensitiveViewColumns Names);
}
