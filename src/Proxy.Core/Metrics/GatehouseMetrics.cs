using System.Diagnostics.Metrics;

namespace Gatehouse.Proxy.Core.Metrics;

/// <summary>
/// The gateway's instruments, created through <see cref="IMeterFactory"/> with OpenTelemetry-style names
/// (Kestrel <c>KestrelMetrics</c>). Recording on an instrument nobody listens to costs a branch.
/// </summary>
public sealed class GatehouseMetrics
{
    /// <summary>The meter's name, for listeners.</summary>
    public const string MeterName = "Gatehouse";

    /// <summary>This gateway's meter: the exporter serves its instruments and no other gateway's in the process.</summary>
    public Meter Meter { get; }

    /// <summary>Creates the instruments.</summary>
    public GatehouseMetrics(IMeterFactory meterFactory)
    {
        var meter = Meter = meterFactory.Create(MeterName);
        ActiveConnections = meter.CreateUpDownCounter<long>("gatehouse.connections.active", "{connection}", "Client connections open now.");
        Connections = meter.CreateCounter<long>("gatehouse.connections", "{connection}", "Client connections accepted.");
        Rejected = meter.CreateCounter<long>("gatehouse.connections.rejected", "{connection}", "Client connections refused, by reason.");
        meter.CreateObservableCounter("gatehouse.relay.bytes", Bytes.Observe, "By", "Bytes relayed after login, by direction.");
        meter.CreateObservableCounter("gatehouse.relay.messages", Messages.Observe, "{message}", "Protocol messages relayed after login, by direction.");
        SessionsEnded = meter.CreateCounter<long>("gatehouse.sessions.ended", "{session}", "Sessions ended, by reason.");
        meter.CreateObservableCounter("gatehouse.policy.decisions", PolicyDecisions.Observe, "{statement}", "Statements judged by the statement policy, by decision, rule and kind.");
        meter.CreateObservableCounter("gatehouse.masking.values", MaskedValues.Observe, "{value}", "Result values masked, by the rule or detector that masked them.");
        meter.CreateObservableCounter("gatehouse.policy.time", () => PolicySeconds, "s",
            "Time spent judging statements: classifying them, evaluating the rules and, in masked sessions, checking what they store.");
        LoginDuration = meter.CreateHistogram<double>("gatehouse.login.duration", "s", "Time from accept to a relaying session, including the upstream login.");
        ConfigReloads = meter.CreateCounter<long>("gatehouse.config.reloads", "{reload}",
            "Configuration reloads, by result: applied (to new sessions), or rejected (invalid; the running configuration stays).");
    }

    /// <summary>Configuration reloads; tag <c>result</c>: applied or rejected.</summary>
    public Counter<long> ConfigReloads { get; }

    /// <summary>Client connections open now.</summary>
    public UpDownCounter<long> ActiveConnections { get; }

    /// <summary>Client connections accepted.</summary>
    public Counter<long> Connections { get; }

    /// <summary>Client connections refused; tag <c>reason</c>.</summary>
    public Counter<long> Rejected { get; }

    /// <summary>Relayed bytes, by direction (<see cref="Relay.RelayMeter"/> holds its two cells).</summary>
    public CountCells<string> Bytes { get; } = new(static direction => [new("direction", direction)]);

    /// <summary>Relayed messages, by direction.</summary>
    public CountCells<string> Messages { get; } = new(static direction => [new("direction", direction)]);

    /// <summary>Ended sessions; tag <c>reason</c>.</summary>
    public Counter<long> SessionsEnded { get; }

    /// <summary>Login latency.</summary>
    public Histogram<double> LoginDuration { get; }

    /// <summary>Statements judged, by decision, rule and kind.</summary>
    public CountCells<(string Decision, string Rule, string Kind)> PolicyDecisions { get; } = new(static k =>
        [new("decision", k.Decision), new("rule", k.Rule), new("kind", k.Kind)]);

    /// <summary>Seconds spent judging statements so far, across sessions (<see cref="AddPolicyTime"/>).</summary>
    public double PolicySeconds => Interlocked.Read(ref _policyTicks) / (double)System.Diagnostics.Stopwatch.Frequency;

    /// <summary>
    /// Adds one judgement's <see cref="System.Diagnostics.Stopwatch"/> ticks. A sum, not a histogram: it is what
    /// the guard costs the gateway as a share of its CPU (the end-to-end benchmarks report it), at one add a statement.
    /// </summary>
    public void AddPolicyTime(long ticks) => Interlocked.Add(ref _policyTicks, ticks);

    private long _policyTicks;

    /// <summary>Result values masked, by source: the rule name, detector:KIND, strict, unresolved or unattributed.</summary>
    public CountCells<string> MaskedValues { get; } = new(static source => [new("source", source)]);
}
