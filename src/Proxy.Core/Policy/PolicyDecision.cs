namespace Gatehouse.Proxy.Core.Policy;

/// <summary>What a rule decides for a statement.</summary>
public enum PolicyDecision : byte
{
    Allow,
    Deny,
    /// <summary>Needs a person's approval; until the approval workflow exists it is refused with a message saying so.</summary>
    Hold,
}

/// <summary>The decision for a statement and the rule that made it (built-in defaults have names too).</summary>
public readonly record struct PolicyVerdict(PolicyDecision Decision, string Rule, string? Reason, StatementKind Kind, StatementRisk Risks)
{
    public bool Allowed => Decision == PolicyDecision.Allow;
}
