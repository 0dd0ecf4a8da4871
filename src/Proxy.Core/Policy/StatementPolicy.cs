namespace Gatehouse.Proxy.Core.Policy;

/// <summary>
/// The ordered rules; the first rule that matches a statement decides. When none does, the safe defaults
/// apply: a statement the gateway could not read, and the destructive risks in <see cref="DefaultDenied"/>,
/// are denied; everything else is allowed.
/// <para>
/// Overriding a default takes a rule that names it: an allow rule lifts a default denial only when it lists
/// that risk in <c>risks</c> (or <c>unknown</c> in <c>kinds</c>). So "analysts may do anything on the
/// reporting upstream" does not quietly let them DROP DATABASE.
/// </para>
/// </summary>
public sealed class StatementPolicy(IReadOnlyList<PolicyRule> rules)
{
    /// <summary>
    /// Denied unless a rule names them: loss of data (drops, truncation, unbounded DELETE/UPDATE, ALTER ... DROP);
    /// reaching outside the database (programs, server files, LOAD DATA, ALTER SYSTEM); code the gateway cannot
    /// judge later (function and procedure bodies); and acting as someone else — every client shares the
    /// gateway's database account, so SET ROLE, GRANT/REVOKE or pg_terminate_backend would reach past the
    /// client's own identity to other people's sessions and data.
    /// </summary>
    public const StatementRisk DefaultDenied = StatementRisk.DropDatabase | StatementRisk.Drop | StatementRisk.Truncate
        | StatementRisk.UnboundedDelete | StatementRisk.UnboundedUpdate | StatementRisk.AlterDrop | StatementRisk.Program
        | StatementRisk.FileAccess | StatementRisk.LoadData | StatementRisk.AlterSystem | StatementRisk.RoutineBody
        | StatementRisk.SideEffectFunction | StatementRisk.RoleChange | StatementRisk.GrantRevoke;

    public const string DefaultUnknownRule = "default:unreadable";
    public const string DefaultRiskRule = "default:destructive";
    public const string DefaultAllowRule = "default:allow";
    public const string MaskedStoreRule = "masking:store";

    public static StatementPolicy Default { get; } = new([]);

    public IReadOnlyList<PolicyRule> Rules { get; } = rules;

    /// <summary>Whether any rule has a time window: only then does judging a statement need the clock.</summary>
    public bool UsesTime { get; } = rules.Any(r => r.When is not null);

    internal PolicyVerdict Evaluate(in StatementFacts facts, DateTimeOffset now)
    {
        for (var i = 0; i < Rules.Count; i++)
        {
            var rule = Rules[i];
            if (!rule.Matches(facts, now))
            {
                continue;
            }

            if (rule.Decision == PolicyDecision.Allow && !LiftsDefaults(rule, facts))
            {
                continue; // An allow that does not name the default it would lift: keep looking.
            }

            return new PolicyVerdict(rule.Decision, rule.Name, rule.Reason, facts.Kind, facts.Risks);
        }

        if (facts.Kind == StatementKind.Unknown)
        {
            return new PolicyVerdict(PolicyDecision.Deny, DefaultUnknownRule,
                "the gateway could not read this statement fully, and statements it cannot read are not allowed", facts.Kind, facts.Risks);
        }

        if ((facts.Risks & DefaultDenied) != 0)
        {
            return new PolicyVerdict(PolicyDecision.Deny, DefaultRiskRule,
                $"{PolicyNames.Describe(facts.Risks & DefaultDenied)} is denied unless a rule allows it", facts.Kind, facts.Risks);
        }

        return new PolicyVerdict(PolicyDecision.Allow, DefaultAllowRule, null, facts.Kind, facts.Risks);
    }

    private static bool LiftsDefaults(PolicyRule rule, in StatementFacts facts)
    {
        if (facts.Kind == StatementKind.Unknown && !rule.Kinds.Contains(StatementKind.Unknown))
        {
            return false;
        }

        var denied = facts.Risks & DefaultDenied;
        return (denied & ~rule.Risks) == 0;
    }
}
