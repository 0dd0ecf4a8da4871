using System.Diagnostics.Metrics;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Metrics;

namespace Gatehouse.Tests.Metrics;

/// <summary>Labelled counts kept in cells: exact under concurrent sessions, whatever the number of label sets, and observed with their labels.</summary>
public sealed class CountCellsTests
{
    [Fact]
    public async Task Sessions_counting_more_sources_than_they_keep_at_hand_count_exactly()
    {
        using var factory = new OwnMeterFactory();
        var metrics = new GatehouseMetrics(factory);
        const int Sources = MaskingCounter.MaxKept + 3;
        var actions = Enumerable.Range(0, Sources).Select(i => new MaskAction($"rule-{i}", MaskStrategy.Redact)).ToArray();

        // Two sessions on their own threads, each cycling through more sources than it keeps at hand.
        await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            var counter = new MaskingCounter(metrics);
            for (var i = 0; i < Sources * 1000; i++)
            {
                counter.Masked(actions[i % Sources]);
            }

            counter.Flush(); // as a session does at its end
        })));

        var observed = Observe(factory, "gatehouse.masking.values");
        Assert.Equal(Sources, observed.Count);
        Assert.All(actions, a => Assert.Equal(2000, observed[$"source={a.Source}"]));
    }

    [Fact]
    public void A_session_with_several_masked_rules_counts_without_allocating_once_it_has_met_them()
    {
        // Five masked columns under five rules, row after row: more than the four slots a session starts with,
        // so the kept cells must grow rather than evict one another (a table lookup and a slot every value).
        using var factory = new OwnMeterFactory();
        var counter = new MaskingCounter(new GatehouseMetrics(factory));
        var actions = Enumerable.Range(0, 5).Select(i => new MaskAction($"rule-{i}", MaskStrategy.Redact)).ToArray();
        foreach (var action in actions)
        {
            counter.Masked(action);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var row = 0; row < 1000; row++)
        {
            foreach (var action in actions)
            {
                counter.Masked(action);
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        counter.Flush();
        Assert.Equal(1001, Observe(factory, "gatehouse.masking.values")["source=rule-4"]);
    }

    [Fact]
    public void A_session_s_counts_reach_the_shared_cells_when_flushed_and_every_thousand_values()
    {
        using var factory = new OwnMeterFactory();
        var counter = new MaskingCounter(new GatehouseMetrics(factory));
        var cards = new MaskAction("cards", MaskStrategy.Partial);
        var emails = new MaskAction("emails", MaskStrategy.Redact);
        counter.Masked(cards);
        counter.Masked(emails);
        counter.Masked(cards);
        Assert.DoesNotContain(Observe(factory, "gatehouse.masking.values"), c => c.Value > 0); // gathered in the session

        counter.Flush(); // a response ended
        var flushed = Observe(factory, "gatehouse.masking.values");
        Assert.Equal(2, flushed["source=cards"]);
        Assert.Equal(1, flushed["source=emails"]);
        counter.Flush();
        Assert.Equal(2, Observe(factory, "gatehouse.masking.values")["source=cards"]); // nothing counted twice

        // A long result shows progress without waiting for its end: at most FlushEvery values are held back.
        for (var i = 0; i < MaskingCounter.FlushEvery; i++)
        {
            counter.Masked(cards);
        }

        Assert.Equal(2 + MaskingCounter.FlushEvery, Observe(factory, "gatehouse.masking.values")["source=cards"]);
    }

    [Fact]
    public void Cells_are_observed_with_every_label()
    {
        using var factory = new OwnMeterFactory();
        var metrics = new GatehouseMetrics(factory);
        var recent = new RecentCells<(string, string, string)>(metrics.PolicyDecisions);
        recent.Increment(("deny", "default:destructive", "ddl"));
        recent.Increment(("allow", "default:allow", "read"));
        recent.Increment(("deny", "default:destructive", "ddl"));

        var observed = Observe(factory, "gatehouse.policy.decisions");
        Assert.Equal(2, observed["decision=deny,rule=default:destructive,kind=ddl"]);
        Assert.Equal(1, observed["decision=allow,rule=default:allow,kind=read"]);
    }

    /// <summary>One observation of this test's instrument <paramref name="name"/>: labels → value (other tests' gateways have meters of the same name).</summary>
    private static Dictionary<string, long> Observe(OwnMeterFactory factory, string name)
    {
        var observed = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, factory.Meter) && instrument.Name == name)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            observed[string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}"))] = value);
        listener.Start();
        listener.RecordObservableInstruments();
        return observed;
    }
}
