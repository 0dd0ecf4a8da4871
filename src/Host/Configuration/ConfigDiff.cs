using Gatehouse.Protocols.MySql;
using Gatehouse.Protocols.Postgres;
using YamlDotNet.Serialization;

namespace Gatehouse.Host.Configuration;

/// <summary>
/// What a reloaded configuration changes that a running gateway cannot take (<see cref="GatewayHost.Reload"/>):
/// the ports it listens on, the identity provider, the recording, the admin port and connection limit, and the
/// server or login of an upstream behind a listener (its masking catalog was read through that login). These
/// wait for a restart; everything else (policy, masking, roles, listener options, an upstream's allowed
/// databases) applies to the sessions that start after the reload.
/// </summary>
public static class ConfigDiff
{
    private static readonly ISerializer Yaml = new SerializerBuilder().Build();

    /// <summary>Each change in <paramref name="next"/> that waits for a restart, against what the gateway runs since it started.</summary>
    public static List<string> NeedsRestart(GatehouseSettings started, GatehouseSettings next)
    {
        var changes = new List<string>();
        Section("identity", started.Source.Identity, next.Source.Identity);
        Section("recording", started.Source.Recording, next.Source.Recording);
        Section("http", started.Source.Http, next.Source.Http);
        Section("limits", started.Source.Limits, next.Source.Limits);
        var running = started.Listeners.ToDictionary(plan => plan.Name, StringComparer.Ordinal);
        foreach (var plan in next.Listeners)
        {
            if (!running.Remove(plan.Name, out var old))
            {
                changes.Add($"listener {plan.Name} is new");
                continue;
            }

            if (!old.Endpoint.Equals(plan.Endpoint) || (old.Postgres is null) != (plan.Postgres is null) || UpstreamName(old) != UpstreamName(plan))
            {
                changes.Add($"listener {plan.Name}: its bind address, protocol or upstream");
            }
            else if (!SameConnection(old, plan))
            {
                changes.Add($"upstream {UpstreamName(plan)}: its host, port, user, TLS or login method");
            }
        }

        changes.AddRange(running.Keys.Select(name => $"listener {name} was removed (it serves until the restart)"));
        return changes;

        void Section(string name, object? before, object? after)
        {
            if (Yaml.Serialize(before ?? "") != Yaml.Serialize(after ?? ""))
            {
                changes.Add(name);
            }
        }
    }

    /// <summary>
    /// The plan a running listener takes from <paramref name="next"/>: as written, but keeping the upstream's
    /// server and login from <paramref name="started"/>, which wait for a restart; null when the listener would
    /// speak another protocol or front another upstream, which waits for a restart whole.
    /// </summary>
    public static ListenerPlan? Applicable(ListenerPlan started, ListenerPlan next)
    {
        if ((started.Postgres is null) != (next.Postgres is null) || UpstreamName(started) != UpstreamName(next))
        {
            return null;
        }

        if (started.Postgres is { Upstream: var was } && next.Postgres is { } pg)
        {
            return next with { Postgres = pg with { Upstream = WithConnectionOf(pg.Upstream, was) } };
        }

        if (started.MySql is { Upstream: var wasMy } && next.MySql is { } my)
        {
            return next with { MySql = my with { Upstream = WithConnectionOf(my.Upstream, wasMy) } };
        }

        return next;
    }

    private static string? UpstreamName(ListenerPlan plan) => plan.Postgres?.Upstream.Name ?? plan.MySql?.Upstream.Name;

    private static bool SameConnection(ListenerPlan a, ListenerPlan b) => (a.Postgres, b.Postgres, a.MySql, b.MySql) switch
    {
        ({ Upstream: var x }, { Upstream: var y }, _, _) => Same(x, y),
        (_, _, { Upstream: var x }, { Upstream: var y }) => Same(x, y),
        _ => false,
    };

    // An upstream's connection: the fields Same compares are the ones WithConnectionOf keeps; change both together.
    private static bool Same(PgUpstreamOptions x, PgUpstreamOptions y)
        => x.Host == y.Host && x.Port == y.Port && x.User == y.User && x.Tls == y.Tls && x.CaCertificatePath == y.CaCertificatePath
            && x.ServerName == y.ServerName && x.MinimumAuth == y.MinimumAuth && x.RequireChannelBinding == y.RequireChannelBinding;

    private static bool Same(MySqlUpstreamOptions x, MySqlUpstreamOptions y)
        => x.Host == y.Host && x.Port == y.Port && x.User == y.User && x.Tls == y.Tls && x.CaCertificatePath == y.CaCertificatePath
            && x.ServerName == y.ServerName && x.AuthPlugins.SequenceEqual(y.AuthPlugins);

    private static PgUpstreamOptions WithConnectionOf(PgUpstreamOptions now, PgUpstreamOptions was) => now with
    {
        Host = was.Host, Port = was.Port, User = was.User, Tls = was.Tls, CaCertificatePath = was.CaCertificatePath,
        ServerName = was.ServerName, MinimumAuth = was.MinimumAuth, RequireChannelBinding = was.RequireChannelBinding,
    };

    private static MySqlUpstreamOptions WithConnectionOf(MySqlUpstreamOptions now, MySqlUpstreamOptions was) => now with
    {
        Host = was.Host, Port = was.Port, User = was.User, Tls = was.Tls, CaCertificatePath = was.CaCertificatePath,
        ServerName = was.ServerName, AuthPlugins = was.AuthPlugins,
    };
}
