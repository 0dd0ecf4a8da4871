using System.Text;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Host.Configuration;

public sealed partial class GatehouseSettings
{
    private static readonly Dictionary<string, MaskStrategy> Strategies = new(StringComparer.Ordinal)
    {
        ["redact"] = MaskStrategy.Redact, ["partial"] = MaskStrategy.Partial, ["token"] = MaskStrategy.Token, ["nullify"] = MaskStrategy.Null, ["null"] = MaskStrategy.Null,
    };

    /// <summary>The masking every PostgreSQL listener applies; <see cref="MaskingPolicy.None"/> when the file has none.</summary>
    public MaskingPolicy Masking { get; private set; } = MaskingPolicy.None;

    private void ResolveMasking(MaskingConfig config, Dictionary<string, RoleConfig> roles, Dictionary<string, PgUpstreamOptions> upstreams)
    {
        var errors = _errors.Count;
        var rules = new List<MaskingRule>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < config.Rules.Count; i++)
        {
            var r = config.Rules[i];
            var key = r.Name is null ? $"masking.rules[{i}]" : $"masking.rules[{i}] ({r.Name})";
            if (string.IsNullOrWhiteSpace(r.Name) || r.Name.StartsWith("detector:", StringComparison.Ordinal) || r.Name == "strict" || !names.Add(r.Name))
            {
                Error(key + ".name", "every rule needs a unique name (metrics count masked values by it; \"strict\" and \"detector:*\" are reserved)");
            }

            if (r.Columns.Count == 0)
            {
                Error(key + ".columns", "at least one [schema.][table.]column pattern is required");
            }

            var columns = new List<ColumnPattern>();
            foreach (var c in r.Columns)
            {
                if (ColumnPattern.TryParse(c, out var pattern))
                {
                    columns.Add(pattern);
                }
                else
                {
                    Error(key + ".columns", $"\"{c}\" is not a [schema.][table.]column pattern");
                }
            }

            foreach (var role in r.ExemptRoles.Where(role => !roles.ContainsKey(role)))
            {
                Error(key + ".exempt_roles", $"no role named \"{role}\"");
            }

            foreach (var u in r.Upstreams.Where(u => !upstreams.ContainsKey(u) && !_mysqlUpstreams.ContainsKey(u)))
            {
                Error(key + ".upstreams", $"no upstream named \"{u}\"");
            }

            if (MaskActionOf(key, r.Name ?? "", r.Strategy, r.Keep, r.Replacement) is { } action)
            {
                rules.Add(new MaskingRule
                {
                    Name = r.Name ?? "",
                    Columns = columns,
                    Action = action,
                    ExemptRoles = r.ExemptRoles.ToHashSet(StringComparer.Ordinal),
                    Upstreams = r.Upstreams.ToHashSet(StringComparer.Ordinal),
                });
            }
        }

        var detectors = ContentKinds.None;
        var detectorActions = new Dictionary<ContentKinds, MaskAction>();
        for (var i = 0; i < config.Detectors.Count; i++)
        {
            var d = config.Detectors[i];
            var key = $"masking.detectors[{i}]";
            var kinds = ContentKinds.None;
            if (d.Kinds.Count == 0)
            {
                Error(key + ".kinds", $"name at least one of {string.Join(", ", ContentKindNames.All)} or all");
            }

            foreach (var k in d.Kinds)
            {
                if (k == "all")
                {
                    kinds |= ContentKinds.All;
                }
                else if (ContentKindNames.TryParse(k, out var kind))
                {
                    kinds |= kind;
                }
                else
                {
                    Error(key + ".kinds", $"unknown detector \"{k}\" (one of {string.Join(", ", ContentKindNames.All)}, all)");
                }
            }

            if ((kinds & detectors) != 0)
            {
                Error(key + ".kinds", "a detector is listed twice: each detector has one strategy");
            }

            detectors |= kinds;
            foreach (var single in Enum.GetValues<ContentKinds>().Where(k => k is not (ContentKinds.None or ContentKinds.All) && (kinds & k) != 0))
            {
                var source = "detector:" + ContentKindNames.Name(single);
                if (MaskActionOf(key, source, d.Strategy, d.Keep, d.Replacement) is { } action)
                {
                    detectorActions[single] = action;
                }
            }
        }

        var scope = config.DetectorScope switch
        {
            null or "derived" => DetectorScope.Derived,
            "all" => DetectorScope.All,
            _ => (DetectorScope?)null,
        };
        if (scope is null)
        {
            Error("masking.detector_scope", $"\"{config.DetectorScope}\" is not derived or all");
        }

        foreach (var role in config.ExemptRoles.Where(role => !roles.ContainsKey(role)))
        {
            Error("masking.exempt_roles", $"no role named \"{role}\"");
        }

        var tokenKey = ResolveTokenKey(config, rules.Any(r => r.Action.Strategy == MaskStrategy.Token) || detectorActions.Values.Any(a => a.Strategy == MaskStrategy.Token));
        if (_errors.Count > errors || (rules.Count == 0 && detectors == ContentKinds.None))
        {
            return;
        }

        Masking = new MaskingPolicy(rules, detectors, detectorActions, scope ?? DetectorScope.Derived, config.Strict ?? true, tokenKey,
            config.ExemptRoles.ToHashSet(StringComparer.Ordinal));
        for (var i = 0; i < Listeners.Count; i++)
        {
            if (Listeners[i].Postgres is { } pg)
            {
                Listeners[i] = Listeners[i] with { Postgres = pg with { Masking = Masking } };
            }
            else if (Listeners[i].MySql is { } mysql)
            {
                Listeners[i] = Listeners[i] with { MySql = mysql with { Masking = Masking } };
            }
        }
    }

    private MaskAction? MaskActionOf(string key, string source, string? strategyText, int? keep, string? replacement)
    {
        if (strategyText is null || !Strategies.TryGetValue(strategyText, out var strategy))
        {
            // A bare `null` is YAML for "no value", so it arrives here as nothing: say how to write it.
            Error(key + ".strategy", "must be one of redact, partial, token, nullify (a bare null in YAML is no value: write nullify or \"null\")");
            return null;
        }

        if (keep is not null && strategy != MaskStrategy.Partial)
        {
            Error(key + ".keep", "is for the partial strategy");
            return null;
        }

        if (keep is < 0 or > 64)
        {
            Error(key + ".keep", "must be between 0 and 64");
            return null;
        }

        if (replacement is not null && strategy != MaskStrategy.Redact)
        {
            Error(key + ".replacement", "is for the redact strategy");
            return null;
        }

        return new MaskAction(source, strategy, keep ?? 4, replacement);
    }

    private byte[] ResolveTokenKey(MaskingConfig config, bool needed)
    {
        var sources = (config.TokenKey is null ? 0 : 1) + (config.TokenKeyFile is null ? 0 : 1) + (config.TokenKeyEnv is null ? 0 : 1);
        if (sources == 0 && !needed)
        {
            return [];
        }

        if (sources != 1)
        {
            Error("masking.token_key", needed ? "the token strategy needs exactly one of token_key, token_key_file, token_key_env" : "set at most one of token_key, token_key_file, token_key_env");
            return [];
        }

        string text;
        try
        {
            // Read once: a new key would change every token, breaking the joins the strategy exists for.
            text = ConfigValues.Secret(config.TokenKey, config.TokenKeyFile is null ? null : PathOf(config.TokenKeyFile), config.TokenKeyEnv)();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            Error(config.TokenKeyFile is null ? "masking.token_key_env" : "masking.token_key_file", ex.Message);
            return [];
        }

        var key = Encoding.UTF8.GetBytes(text);
        if (key.Length < 16)
        {
            Error("masking.token_key", "must be at least 16 bytes: a short key lets anyone who sees tokens guess the values behind them");
            return [];
        }

        return key;
    }
}
