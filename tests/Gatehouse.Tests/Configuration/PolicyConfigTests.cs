using Gatehouse.Host.Configuration;
using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Tests.Configuration;

/// <summary>Policy rules load from the YAML file; a bad rule is refused at start with its name in the message.</summary>
public sealed class PolicyConfigTests
{
    private const string Base = ConfigYaml.OnePostgresListener;

    private static GatehouseSettings Load(string policy) => GatehouseSettings.From(ConfigLoader.Parse(Base + policy, "test.yaml"), Path.GetTempPath());

    [Fact]
    public void Rules_load_in_order_with_every_criterion()
    {
        var settings = Load("""
            policy:
              rules:
                - name: dba-maintenance
                  decision: allow
                  roles: [dba]
                  upstreams: [db]
                  kinds: [ddl]
                  risks: [drop, truncate]
                  objects: ["audit.*"]
                  when: { days: [mon-fri], hours: "22:00-06:00", time_zone: Europe/Berlin }
                - name: hold-grants
                  decision: hold
                  risks: [grant_revoke]
                  reason: grants need a second pair of eyes
            """);
        var rules = settings.Policy.Rules;
        Assert.Equal(["dba-maintenance", "hold-grants"], rules.Select(r => r.Name));
        Assert.Equal(StatementRisk.Drop | StatementRisk.Truncate, rules[0].Risks);
        Assert.Equal([StatementKind.Ddl], rules[0].Kinds);
        Assert.Equal(5, rules[0].When!.Days.Count);
        Assert.Equal("Europe/Berlin", rules[0].When!.Zone.Id);
        Assert.Equal(PolicyDecision.Hold, rules[1].Decision);
    }

    [Fact]
    public void No_rules_means_the_safe_defaults()
    {
        Assert.Same(StatementPolicy.Default, Load("").Policy);
    }

    [Fact]
    public void Every_bad_rule_is_named()
    {
        var error = Assert.Throws<ConfigException>(() => Load("""
            policy:
              rules:
                - name: typo
                  decision: permit
                  risks: [dorp]
                  kinds: [reads]
                  roles: [nobody]
                  upstreams: [elsewhere]
                  when: { days: [someday], hours: "9-5", time_zone: Mars/Olympus }
                - decision: deny
                - name: default:mine
                  decision: deny
            """));
        var errors = error.Errors;
        Assert.Contains(errors, e => e.StartsWith("policy.rules[0] (typo).decision:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("policy.rules[0] (typo).risks: unknown risk \"dorp\"", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("policy.rules[0] (typo).kinds: unknown kind \"reads\"", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("policy.rules[0] (typo).roles: no role named \"nobody\"", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("policy.rules[0] (typo).upstreams: no upstream named \"elsewhere\"", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("policy.rules[0] (typo).when.time_zone: unknown time zone \"Mars/Olympus\"", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("policy.rules[1].name:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("policy.rules[2] (default:mine).name:", StringComparison.Ordinal));
    }
}
