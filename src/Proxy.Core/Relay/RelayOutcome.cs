namespace Gatehouse.Proxy.Core.Relay;

/// <summary>How one relay direction, or a whole session, ended: a value, not an exception (YARP <c>StreamCopyResult</c>).</summary>
/// <param name="Reason">Why it ended.</param>
/// <param name="Side">The direction whose reading side ended it.</param>
/// <param name="Detail">For violations and enforcement: a reason a person understands.</param>
public readonly record struct RelayOutcome(SessionEndReason Reason, Direction Side, string? Detail = null);
