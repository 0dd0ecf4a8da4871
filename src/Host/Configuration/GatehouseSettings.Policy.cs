using System.Globalization;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Host.Configuration;

public sealed partial class GatehouseSettings
{
    private static readonly string[] DayNames = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

    /// <summary>The statement policy every listener enforces; the safe defaults when the file has no rules.</summary>
    public StatementPolicy Policy { get; private set; } = StatementPolicy.Default;

    private void ResolvePolicy(PolicyConfig config, Dictionary<string, RoleConfig> roles, Dictionary<string, PgUpstreamOptions> upstreams)
    {
        var rules = new List<PolicyRule>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < config.Rules.Count; i++)
        {
            var r = config.Rules[i];
            var key = r.Name is null ? $"policy.rules[{i}]" : $"policy.rules[{i}] ({r.Name})";
            var errors = _errors.Count;
            if (string.IsNullOrWhiteSpace(r.Name))
            {
                Error(key + ".name", "every rule needs a name: refusals and metrics report it");
            }
            else if (r.Name.StartsWith("default:", StringComparison.Ordinal) || !names.Add(r.Name))
            {
                Error(key + ".name", r.Name.StartsWith("default:", StringComparison.Ordinal) ? "names starting with \"default:\" are reserved for the built-in defaults" : "another rule has this name");
            }

            if (r.Decision is null || !PolicyNames.Decisions.TryGetValue(r.Decision, out var decision))
            {
                Error(key + ".decision", $"must be one of {string.Join(", ", PolicyNames.Decisions.Keys)}");
                decision = PolicyDecision.Deny;
            }

            foreach (var role in r.Roles.Where(role => !roles.ContainsKey(role)))
            {
                Error(key + ".roles", $"no role named \"{role}\"");
            }

            foreach (var u in r.Upstreams.Where(u => !upstreams.ContainsKey(u) && !_mysqlUpstreams.ContainsKey(u)))
            {
                Error(key + ".upstreams", $"no upstream named \"{u}\"");
            }

            var kinds = new HashSet<StatementKind>();
            foreach (var k in r.Kinds)
            {
                if (PolicyNames.Kinds.TryGetValue(k, out var kind))
                {
                    kinds.Add(kind);
                }
                else
                {
                    Error(key + ".kinds", $"unknown kind \"{k}\" (one of {string.Join(", ", PolicyNames.Kinds.Keys)})");
                }
            }

            var risks = StatementRisk.None;
            foreach (var k in r.Risks)
            {
                if (PolicyNames.Risks.TryGetValue(k, out var risk))
                {
                    risks |= risk;
                }
                else
                {
                    Error(key + ".risks", $"unknown risk \"{k}\" (one of {string.Join(", ", PolicyNames.Risks.Keys)})");
                }
            }

            foreach (var o in r.Objects.Where(o => string.IsNullOrWhiteSpace(o) || o.Split('.').Length > 3))
            {
                Error(key + ".objects", $"\"{o}\" is not a [schema.]name pattern");
            }

            var when = r.When is null ? null : ResolveWindow(key + ".when", r.When);
            if (_errors.Count > errors)
            {
                continue;
            }

            rules.Add(new PolicyRule
            {
                Name = r.Name!,
                Decision = decision,
                Reason = r.Reason,
                Roles = r.Roles.ToHashSet(StringComparer.Ordinal),
                Upstreams = r.Upstreams.ToHashSet(StringComparer.Ordinal),
                Kinds = kinds,
                Risks = risks,
                Objects = r.Objects.Select(o => new ObjectPattern(o)).ToList(),
                When = when,
            });
        }

        Policy = rules.Count == 0 ? StatementPolicy.Default : new StatementPolicy(rules);
        for (var i = 0; i < Listeners.Count; i++)
        {
            var plan = Listeners[i];
            Listeners[i] = plan with
            {
                Postgres = plan.Postgres is null ? null : plan.Postgres with { Policy = Policy },
                MySql = plan.MySql is null ? null : plan.MySql with { Policy = Policy },
            };
        }
    }

    private TimeWindow? ResolveWindow(string key, TimeWindowConfig config)
    {
        var zone = TimeZoneInfo.Utc;
        if (config.TimeZone is { } id && !TimeZoneInfo.TryFindSystemTimeZoneById(id, out zone))
        {
            Error(key + ".time_zone", $"unknown time zone \"{id}\" (an IANA name such as Europe/Berlin)");
            return null;
        }

        var days = new HashSet<DayOfWeek>();
        foreach (var d in config.Days.Count == 0 ? ["sun-sat"] : config.Days)
        {
            var parts = d.Split('-', 2);
            var from = Array.IndexOf(DayNames, parts[0].Trim().ToLowerInvariant());
            var to = parts.Length == 2 ? Array.IndexOf(DayNames, parts[1].Trim().ToLowerInvariant()) : from;
            if (from < 0 || to < 0)
            {
                Error(key + ".days", $"\"{d}\" is not a day (mon, tue, ...) or a range of days (mon-fri)");
                continue;
            }

            for (var day = from; ; day = (day + 1) % 7)
            {
                days.Add((DayOfWeek)day);
                if (day == to)
                {
                    break;
                }
            }
        }

        var start = TimeOnly.MinValue;
        var end = TimeOnly.MaxValue;
        if (config.Hours is { } hours)
        {
            var parts = hours.Split('-', 2);
            if (parts.Length != 2
                || !TimeOnly.TryParseExact(parts[0].Trim(), "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out start)
                || !TimeOnly.TryParseExact(parts[1].Trim(), "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out end)
                || start == end)
            {
                Error(key + ".hours", $"\"{hours}\" is not a span like 09:00-17:30");
                return null;
            }
        }

        return new TimeWindow(days, start, end, zone);
    }
}
