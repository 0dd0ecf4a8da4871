using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;

namespace Gatehouse.Host;

/// <summary>
/// Hands freed native memory back to the system (glibc <c>malloc_trim</c>) once the gateway goes quiet after
/// work. OpenSSL mallocs a TLS session's handshake state on whichever thread ran it; glibc keeps an arena per
/// thread (up to 8 per core), and what a burst of logins freed stays resident, scattered over them, until
/// something trims it: about 6 KiB per idle TLS session (Gatehouse.Bench idle-sessions, 64.7 -> 58.8 KiB).
/// </summary>
/// <remarks>
/// A trim holds each arena's lock while it walks that arena, so an OpenSSL allocation on a busy session would
/// wait for it: measured at 2–9 ms on a gateway holding 1,200 idle sessions, and over a second while 1,200
/// sessions were closing. So it runs only when the process used less than 1% of a core over the last
/// <see cref="Period"/> after having been busy since the previous trim, never under load. A gateway that never
/// goes that quiet (thousands of sessions with idle timers) simply never trims. Does nothing where libc is not glibc.
/// </remarks>
internal sealed class NativeHeapTrimmer(TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan QuietBelow = Period / 100;
    private static readonly MallocTrim? Trim = FindMallocTrim();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int MallocTrim(nuint pad);

    /// <summary>True where glibc's malloc_trim was found (and so the trimmer runs).</summary>
    public static bool Available => Trim is not null;

    /// <summary>One trim now; false where unavailable.</summary>
    public static bool TrimNow() => Trim is not null && Trim(0) >= 0;

    /// <summary>Whether to trim after a period in which the process used <paramref name="cpu"/>; tracks work since the last trim.</summary>
    internal static bool ShouldTrim(TimeSpan cpu, ref bool workedSinceTrim)
    {
        if (cpu >= QuietBelow)
        {
            workedSinceTrim = true;
            return false;
        }

        var trim = workedSinceTrim;
        workedSinceTrim = false;
        return trim;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Trim is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(Period, time);
        var workedSinceTrim = true;
        var lastCpu = Environment.CpuUsage.TotalTime;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                var cpu = Environment.CpuUsage.TotalTime;
                if (ShouldTrim(cpu - lastCpu, ref workedSinceTrim))
                {
                    TrimNow();
                    cpu = Environment.CpuUsage.TotalTime; // the trim's own time is not work to trim after
                }

                lastCpu = cpu;
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private static MallocTrim? FindMallocTrim()
        => OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libc.so.6", out var libc) && NativeLibrary.TryGetExport(libc, "malloc_trim", out var trim)
            ? Marshal.GetDelegateForFunctionPointer<MallocTrim>(trim)
            : null;
}
