using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Gatehouse.Host.Metrics;

/// <summary>
/// The process and runtime series every Prometheus client library exports (<c>process_*</c>, named as the
/// Prometheus client guidelines name them) plus the .NET heap, read at scrape time: an operator sizing a
/// sidecar needs resident memory split into what the GC holds and what native code (TLS) holds.
/// </summary>
internal static class ProcessMetrics
{
    private static readonly double StartTimeSeconds = Process.GetCurrentProcess().StartTime.ToUniversalTime().Subtract(DateTime.UnixEpoch).TotalSeconds;

    public static void Render(StringBuilder text)
    {
        using var process = Process.GetCurrentProcess();
        Gauge(text, "process_resident_memory_bytes", "Resident memory size in bytes.", process.WorkingSet64);
        Gauge(text, "process_virtual_memory_bytes", "Virtual memory size in bytes.", process.VirtualMemorySize64);
        Counter(text, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", process.TotalProcessorTime.TotalSeconds);
        Gauge(text, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", StartTimeSeconds);
        Gauge(text, "process_threads", "Number of OS threads in the process.", process.Threads.Count);
        if (OpenFileDescriptors() is { } fds)
        {
            Gauge(text, "process_open_fds", "Number of open file descriptors.", fds);
        }

        var gc = GC.GetGCMemoryInfo();
        Gauge(text, "dotnet_gc_heap_size_bytes", "Managed heap size after the last garbage collection.", gc.HeapSizeBytes);
        Gauge(text, "dotnet_gc_committed_bytes", "Memory the garbage collector has committed.", gc.TotalCommittedBytes);
        Counter(text, "dotnet_gc_allocated_bytes_total", "Bytes allocated on the managed heap since the process started.", GC.GetTotalAllocatedBytes());
        text.Append("# HELP dotnet_gc_collections_total Garbage collections by generation.\n# TYPE dotnet_gc_collections_total counter\n");
        for (var generation = 0; generation <= GC.MaxGeneration; generation++)
        {
            text.Append(CultureInfo.InvariantCulture, $"dotnet_gc_collections_total{{generation=\"gen{generation}\"}} {GC.CollectionCount(generation)}\n");
        }

        Gauge(text, "dotnet_threadpool_threads", "Thread-pool threads.", ThreadPool.ThreadCount);
    }

    private static int? OpenFileDescriptors()
    {
        try
        {
            return Directory.Exists("/proc/self/fd") ? Directory.EnumerateFileSystemEntries("/proc/self/fd").Count() : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal static void Gauge(StringBuilder text, string name, string help, double value) => Series(text, name, help, "gauge", value);

    internal static void Counter(StringBuilder text, string name, string help, double value) => Series(text, name, help, "counter", value);

    private static void Series(StringBuilder text, string name, string help, string type, double value) =>
        text.Append(CultureInfo.InvariantCulture, $"# HELP {name} {help}\n# TYPE {name} {type}\n{name} {value}\n");
}
