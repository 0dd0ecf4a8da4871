namespace Gatehouse.Proxy.Core.Relay;

/// <summary>
/// Implemented by a protocol's rewriter that knows whether the database is working on a request. A session
/// with a query running is not idle, however long the query stays silent; without this, silence is idleness.
/// </summary>
public interface ISessionActivity
{
    /// <summary>True when no request is outstanding (PostgreSQL: ReadyForQuery was the last word).</summary>
    bool IsIdle { get; }
}
