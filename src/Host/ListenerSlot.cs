using Gatehouse.Host.Configuration;
using Gatehouse.Protocols.MySql;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Proxy.Core.Identity;
using Gatehouse.Proxy.Core.Recording;
using Gatehouse.Proxy.Core.Sessions;

namespace Gatehouse.Host;

/// <summary>
/// One configured listener: its current plan and roles, and the listener made from them at its first
/// connection. A configuration reload changes the plan, and the listener if it exists, for sessions to come.
/// </summary>
/// <param name="recording">The recording section at start: a change to it waits for a restart.</param>
internal sealed class ListenerSlot(ListenerPlan plan, RoleMap roles, RecordingSettings? recording)
{
    /// <summary>Held while the listener is made or its plan changes, so neither sees half of the other.</summary>
    public Lock Gate { get; } = new();

    public ListenerPlan Plan { get; private set; } = plan;

    public RoleMap Roles { get; private set; } = roles;

    public PgListener? Postgres { get; set; }

    public MySqlListener? MySql { get; set; }

    public TokenClientAuthenticator? Authenticator { get; set; }

    public PgListenerOptions PgOptions(Recorder? recorder)
        => Plan.Postgres! with { Recorder = recorder, ResultRecording = recording?.ResultsFor(Plan.Postgres!.Upstream.Name) ?? default };

    public MySqlListenerOptions MySqlOptions(Recorder? recorder)
        => Plan.MySql! with { Recorder = recorder, ResultRecording = recording?.ResultsFor(Plan.MySql!.Upstream.Name) ?? default };

    /// <summary>
    /// Takes a reloaded plan (its bind and protocol unchanged) and roles, for sessions that start from now on;
    /// live sessions whose access the roles withdraw end now. Returns how many ended.
    /// </summary>
    public int Apply(ListenerPlan next, RoleMap nextRoles, Recorder? recorder)
    {
        lock (Gate)
        {
            Plan = next;
            Roles = nextRoles;
            Authenticator?.Reload(nextRoles);
            Postgres?.Reload(PgOptions(recorder));
            MySql?.Reload(MySqlOptions(recorder));
            return (Postgres?.Withdraw(nextRoles) ?? 0) + (MySql?.Withdraw(nextRoles) ?? 0);
        }
    }
}
