using System.Diagnostics.Metrics;

namespace Gatehouse.Bench;

/// <summary>Meters for benchmarks whose metrics are live, as in the gateway, but read by nobody.</summary>
internal sealed class BenchMeterFactory : IMeterFactory
{
    public Meter Create(MeterOptions options) => new(options);

    public void Dispose()
    {
    }
}
