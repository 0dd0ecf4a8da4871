using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Protocols.Masking;

/// <summary>
/// A masked session's statement is judged with the catalog's function and view names (what it may store from a
/// view), so it waits for them to load, once: the statement held comes back after the load, and then goes on
/// even if the load failed (strict mode and the store check fail closed without the names). Kept by each
/// protocol's rewriter as a field, checked before its statement gate.
/// </summary>
internal struct CatalogNamesWait
{
    private bool _held;

    /// <summary>A Hold until <paramref name="loading"/> ends when the names are loading and this statement has not waited yet; else null.</summary>
    public RewriteDecision? Before(Task? loading)
    {
        if (!_held && loading is not null)
        {
            _held = true;
            return RewriteDecision.Hold(loading);
        }

        _held = false;
        return null;
    }
}
