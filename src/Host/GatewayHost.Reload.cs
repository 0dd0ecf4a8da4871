using Gatehouse.Host.Configuration;
using Gatehouse.Proxy.Core.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Host;

/// <summary>What a configuration reload did: it applied, these changes wait for a restart, and this many live sessions lost their access and ended.</summary>
public sealed record ConfigReloadOutcome(IReadOnlyList<string> NeedsRestart, int SessionsEnded = 0);

public sealed partial class GatewayHost
{
    /// <summary>
    /// Applies a validated configuration to the sessions that start from now on: statement policy, masking,
    /// roles, listener options (certificates, timeouts, limits) and upstreams' allowed databases and passwords.
    /// Live sessions keep what they started with, except access: one whose subject the new roles no longer let
    /// use its upstream ends now. What a running gateway cannot change (<see cref="ConfigDiff"/>)
    /// stays as it was and is listed in the outcome.
    /// </summary>
    public ConfigReloadOutcome Reload(GatehouseSettings next)
    {
        lock (_reloading)
        {
            var planned = next.Listeners.ToDictionary(plan => plan.Name, StringComparer.Ordinal);
            var ended = 0;
            foreach (var started in _started.Listeners)
            {
                // Roles apply to every listener (a group's access withdrawn is withdrawn everywhere); a plan only
                // where the listener still fronts the same upstream in the same protocol.
                var slot = _slots[started.Name];
                var plan = planned.TryGetValue(started.Name, out var written) ? ConfigDiff.Applicable(started, written) : null;
                ended += slot.Apply(plan is null ? slot.Plan : plan with { Endpoint = started.Endpoint }, next.Roles, Recorder);
            }

            Volatile.Write(ref _settings, next);
            return new ConfigReloadOutcome(ConfigDiff.NeedsRestart(_started, next), ended);
        }
    }

    /// <summary>Reloads <paramref name="path"/> into this gateway on SIGHUP and when it changes, until disposed.</summary>
    public ConfigReloader WatchConfig(string path, TimeSpan? interval = null)
        => new(path, this, ConfigLogger, _app.Services.GetRequiredService<GatehouseMetrics>(), interval);

    /// <summary>Logs the ports actually bound (port 0 in the file becomes a real one), for operators and scripts.</summary>
    public void LogListening()
    {
        foreach (var (name, port) in BoundPorts)
        {
            ConfigLogger.LogInformation("Listener {Name} is listening on port {Port}", name, port);
        }

        if (HttpAddress is { } http)
        {
            ConfigLogger.LogInformation("Metrics and health are served on {Address}", http);
        }
    }

    private ILogger ConfigLogger => _app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Gatehouse.Config");
}
