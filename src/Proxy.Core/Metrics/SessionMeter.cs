using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Proxy.Core.Metrics;

/// <summary>
/// A listener's session counters, with its tag built once: accepted, active, refused by reason, ended by
/// reason, login time. Shared by every protocol so their metrics carry the same names and labels.
/// </summary>
public sealed class SessionMeter
{
    private static readonly string[] ReasonLabels = Enum.GetNames<SessionEndReason>().Select(ToSnakeCase).ToArray();
    private readonly GatehouseMetrics? _metrics;
    private readonly KeyValuePair<string, object?> _listener;

    /// <summary>Creates the meter for <paramref name="listener"/>; null metrics record nothing.</summary>
    public SessionMeter(GatehouseMetrics? metrics, string listener)
    {
        _metrics = metrics;
        _listener = new("listener", listener);
    }

    /// <summary>The snake_case label of an end reason, as in metrics and logs.</summary>
    public static string Label(SessionEndReason reason) => ReasonLabels[(int)reason];

    /// <summary>A connection was accepted.</summary>
    public void Accepted()
    {
        _metrics?.Connections.Add(1, _listener);
        _metrics?.ActiveConnections.Add(1, _listener);
    }

    /// <summary>A login was refused; <paramref name="reason"/> is the metric label.</summary>
    public void Refused(string reason) => _metrics?.Rejected.Add(1, new KeyValuePair<string, object?>("reason", reason), _listener);

    /// <summary>A login completed after <paramref name="elapsed"/>.</summary>
    public void LoggedIn(TimeSpan elapsed) => _metrics?.LoginDuration.Record(elapsed.TotalSeconds, _listener);

    /// <summary>A connection accepted by <see cref="Accepted"/> ended; one that was never a session (a cancel request) is not counted as one.</summary>
    public void Ended(SessionEndReason reason, bool wasSession = true)
    {
        _metrics?.ActiveConnections.Add(-1, _listener);
        if (wasSession)
        {
            _metrics?.SessionsEnded.Add(1, new KeyValuePair<string, object?>("reason", Label(reason)), _listener);
        }
    }

    private static string ToSnakeCase(string name)
        => string.Concat(name.Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
