using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Gatehouse.Proxy.Core.Metrics;

namespace Gatehouse.Host.Metrics;

/// <summary>
/// Serves the gateway's <see cref="System.Diagnostics.Metrics"/> instruments in the Prometheus text format
/// (version 0.0.4). A <see cref="MeterListener"/> aggregates measurements as they happen; the series key is
/// a value tuple of the tag references, so recording allocates nothing once a series exists.
/// </summary>
public sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] Buckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<SeriesKey, Series> _series = new();

    private readonly record struct SeriesKey(Instrument Instrument, string? K1, object? V1, string? K2, object? V2, string? K3, object? V3);

    private sealed class Series
    {
        public long Sum;
        public double DoubleSum;
        public long Count;
        public long[]? BucketCounts;
    }

    private Meter? _meter;

    public PrometheusExporter()
    {
        // By instance, not by name: a process may hold several gateways (the test suite does), each with a meter
        // named Gatehouse, and a scrape of one showed the others' series under the same names.
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, _meter))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, value, tags, _) => Record(i, value, value, tags));
        _listener.SetMeasurementEventCallback<double>((i, value, tags, _) => Record(i, 0, value, tags));
    }

    /// <summary>Starts serving <paramref name="meter"/>'s instruments (the gateway's <see cref="GatehouseMetrics.Meter"/>), once.</summary>
    public void Export(Meter meter)
    {
        if (Interlocked.CompareExchange(ref _meter, meter, null) is not null)
        {
            throw new InvalidOperationException("the exporter already serves a meter");
        }

        _listener.Start(); // publishes the meter's instruments created so far, then each one created later
    }

    private void Record(Instrument instrument, long value, double doubleValue, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var key = new SeriesKey(instrument,
            tags.Length > 0 ? tags[0].Key : null, tags.Length > 0 ? tags[0].Value : null,
            tags.Length > 1 ? tags[1].Key : null, tags.Length > 1 ? tags[1].Value : null,
            tags.Length > 2 ? tags[2].Key : null, tags.Length > 2 ? tags[2].Value : null);
        var series = _series.GetOrAdd(key, static k => new Series { BucketCounts = k.Instrument is Histogram<double> ? new long[Buckets.Length + 1] : null });
        if (series.BucketCounts is { } buckets)
        {
            var index = Array.BinarySearch(Buckets, doubleValue);
            index = index >= 0 ? index : ~index;
            Interlocked.Increment(ref buckets[index]);
            Interlocked.Increment(ref series.Count);
            lock (series)
            {
                series.DoubleSum += doubleValue;
            }
        }
        else if (instrument is ObservableCounter<double>)
        {
            lock (series)
            {
                series.DoubleSum = doubleValue; // observed: the running total itself
            }
        }
        else if (instrument is ObservableCounter<long>)
        {
            Interlocked.Exchange(ref series.Sum, value);
        }
        else
        {
            Interlocked.Add(ref series.Sum, value);
        }
    }

    /// <summary>The text exposition of every series, then the process and runtime series, then the recorder's.</summary>
    public string Render(Gatehouse.Proxy.Core.Recording.Recorder? recorder = null)
    {
        var text = new StringBuilder();
        RenderInstruments(text);
        ProcessMetrics.Render(text);
        if (recorder is not null)
        {
            RecordingMetrics.Render(text, recorder);
        }

        return text.ToString();
    }

    private void RenderInstruments(StringBuilder text)
    {
        _listener.RecordObservableInstruments();
        foreach (var group in _series.GroupBy(s => s.Key.Instrument).OrderBy(g => g.Key.Name, StringComparer.Ordinal))
        {
            var instrument = group.Key;
            var name = MetricName(instrument);
            var type = instrument switch
            {
                Counter<long> or ObservableCounter<long> or ObservableCounter<double> => "counter",
                Histogram<double> => "histogram",
                _ => "gauge",
            };
            text.Append("# HELP ").Append(name).Append(' ').Append(instrument.Description).Append('\n');
            text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            foreach (var (key, series) in group.OrderBy(s => Labels(s.Key, null), StringComparer.Ordinal))
            {
                if (series.BucketCounts is { } buckets)
                {
                    long cumulative = 0;
                    for (var b = 0; b < buckets.Length; b++)
                    {
                        cumulative += Interlocked.Read(ref buckets[b]);
                        var le = b < Buckets.Length ? Buckets[b].ToString(CultureInfo.InvariantCulture) : "+Inf";
                        text.Append(name).Append("_bucket").Append(Labels(key, le)).Append(' ').Append(cumulative).Append('\n');
                    }

                    text.Append(name).Append("_sum").Append(Labels(key, null)).Append(' ').Append(series.DoubleSum.ToString(CultureInfo.InvariantCulture)).Append('\n');
                    text.Append(name).Append("_count").Append(Labels(key, null)).Append(' ').Append(Interlocked.Read(ref series.Count)).Append('\n');
                }
                else
                {
                    text.Append(name).Append(type == "counter" ? "_total" : "").Append(Labels(key, null)).Append(' ');
                    _ = instrument is ObservableCounter<double>
                        ? text.Append(Volatile.Read(ref series.DoubleSum).ToString("R", CultureInfo.InvariantCulture))
                        : text.Append(Interlocked.Read(ref series.Sum));
                    text.Append('\n');
                }
            }
        }
    }

    /// <summary>gatehouse.relay.bytes (unit By) → gatehouse_relay_bytes; seconds get _seconds (Prometheus naming).</summary>
    private static string MetricName(Instrument instrument)
    {
        var name = instrument.Name.Replace('.', '_');
        var suffix = instrument.Unit switch
        {
            "s" => "_seconds",
            "By" when !name.EndsWith("_bytes", StringComparison.Ordinal) => "_bytes",
            _ => "",
        };
        return name + suffix;
    }

    private static string Labels(SeriesKey key, string? le)
    {
        var parts = new List<string>(4);
        Add(parts, key.K1, key.V1);
        Add(parts, key.K2, key.V2);
        Add(parts, key.K3, key.V3);
        if (le is not null)
        {
            parts.Add($"le=\"{le}\"");
        }

        parts.Sort(StringComparer.Ordinal);
        return parts.Count == 0 ? "" : "{" + string.Join(',', parts) + "}";
    }

    private static void Add(List<string> parts, string? key, object? value)
    {
        if (key is not null)
        {
            var text = Convert.ToString(value, CultureInfo.InvariantCulture) ?? "";
            parts.Add($"{key}=\"{text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)}\"");
        }
    }

    public void Dispose() => _listener.Dispose();
}
