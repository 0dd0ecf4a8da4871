using System.Diagnostics.Metrics;

namespace Gatehouse.Tests.Metrics;

/// <summary>A meter factory of a test's own, so what it observes is only what it counted.</summary>
internal sealed class OwnMeterFactory : IMeterFactory
{
    public Meter? Meter { get; private set; }

    public Meter Create(MeterOptions options) => Meter = new Meter(options);

    public void Dispose() => Meter?.Dispose();
}
