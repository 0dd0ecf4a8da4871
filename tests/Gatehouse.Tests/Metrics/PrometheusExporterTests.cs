using Gatehouse.Host.Metrics;
using Gatehouse.Proxy.Core.Metrics;

namespace Gatehouse.Tests.Metrics;

/// <summary>The exporter serves its own gateway's meter, though every gateway's meter has the same name.</summary>
public sealed class PrometheusExporterTests
{
    [Fact]
    public void A_scrape_shows_its_own_gateway_s_series_and_not_another_s_in_the_same_process()
    {
        using var ownFactory = new OwnMeterFactory();
        using var otherFactory = new OwnMeterFactory();
        var own = new GatehouseMetrics(ownFactory);
        var other = new GatehouseMetrics(otherFactory);
        using var exporter = new PrometheusExporter();
        exporter.Export(own.Meter);

        own.AddPolicyTime(System.Diagnostics.Stopwatch.Frequency / 4); // 0.25 s
        other.AddPolicyTime(System.Diagnostics.Stopwatch.Frequency * 7);
        own.Connections.Add(1, new KeyValuePair<string, object?>("listener", "own"));
        other.Connections.Add(5, new KeyValuePair<string, object?>("listener", "other"));

        var scrape = exporter.Render();
        Assert.Contains("gatehouse_policy_time_seconds_total 0.25\n", scrape, StringComparison.Ordinal);
        Assert.Single(scrape.Split('\n'), l => l.StartsWith("gatehouse_policy_time_seconds_total", StringComparison.Ordinal));
        Assert.Contains("gatehouse_connections_total{listener=\"own\"} 1\n", scrape, StringComparison.Ordinal);
        Assert.DoesNotContain("listener=\"other\"", scrape, StringComparison.Ordinal);
    }
}
