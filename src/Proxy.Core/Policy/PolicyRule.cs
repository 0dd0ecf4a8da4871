namespace Gatehouse.Proxy.Core.Policy;

/// <summary>
/// One rule from the config. Every criterion given must hold (an empty one holds always): the session has one
/// of <see cref="Roles"/>, uses one of <see cref="Upstreams"/>, the statement is one of <see cref="Kinds"/>,
/// carries one of <see cref="Risks"/>, names objects matching <see cref="Objects"/> (deny/hold: any object;
/// allow: every object), at a time inside <see cref="When"/>.
/// </summary>
public sealed record PolicyRule
{
    public required string Name { get; init; }

    public required PolicyDecision Decision { get; init; }

    public string? Reason { get; init; }

    public IReadOnlySet<string> Roles { get; init; } = EmptySet;

    public IReadOnlySet<string> Upstreams { get; init; } = EmptySet;

    public IReadOnlySet<StatementKind> Kinds { get; init; } = new HashSet<StatementKind>();

    public StatementRisk Risks { get; init; }

    public IReadOnlyList<ObjectPattern> Objects { get; init; } = [];

    public TimeWindow? When { get; init; }

    private static readonly IReadOnlySet<string> EmptySet = new HashSet<string>();

    internal bool Matches(in StatementFacts facts, DateTimeOffset now)
    {
        if (Roles.Count > 0 && !AnyRole(facts.Roles))
        {
            return false;
        }

        if (Upstreams.Count > 0 && !Upstreams.Contains(facts.Upstream))
        {
            return false;
        }

        if (Kinds.Count > 0 && !Kinds.Contains(facts.Kind))
        {
            return false;
        }

        if (Risks != StatementRisk.None && (facts.Risks & Risks) == 0)
        {
            return false;
        }

        if (Objects.Count > 0 && !MatchesObjects(facts.Objects))
        {
            return false;
        }

        return When is null || When.Contains(now);
    }

    private bool AnyRole(IReadOnlyList<string> roles)
    {
        for (var i = 0; i < roles.Count; i++) // index loops: foreach over an interface allocates an enumerator
        {
            if (Roles.Contains(roles[i]))
            {
                return true;
            }
        }

        return false;
    }

    private bool MatchesObjects(IReadOnlyList<string> objects)
    {
        if (objects.Count == 0)
        {
            return false;
        }

        var loose = Decision != PolicyDecision.Allow;
        for (var o = 0; o < objects.Count; o++)
        {
            var hit = false;
            for (var p = 0; p < Objects.Count; p++)
            {
                if (Objects[p].Matches(objects[o], loose))
                {
                    hit = true;
                    break;
                }
            }

            // Deny/hold: one matching object is enough. Allow: every object must be covered.
            if (hit && loose)
            {
                return true;
            }

            if (!hit && !loose)
            {
                return false;
            }
        }

        return !loose;
    }
}

/// <summary>What a rule is matched against: one statement and the session it arrived on.</summary>
internal readonly record struct StatementFacts(StatementKind Kind, StatementRisk Risks, IReadOnlyList<string> Objects,
    IReadOnlyList<string> Roles, string Upstream);
