using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;

namespace Gatehouse.Host;

/// <summary>
/// Hands freed native memory back to the system every few seconds (glibc <c>malloc_trim</c>). OpenSSL mallocs a
/// TLS session's handshake state on whichever thread ran it; glibc keeps an arena per thread (up to 8 per core),
/// and what a burst of logins freed stays resident, scattered over them, until something trims it. Measured with
/// bench/e2e-postgres.sh's idle test: about 5 KiB less resident memory per idle TLS session. A trim of an
/// unchanged heap costs microseconds; the relay does not wait for it. Does nothing where libc is not glibc.
/// </summary>
internal sealed class NativeHeapTrimmer(TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(10);
    private static readonly MallocTrim? Trim = FindMallocTrim();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int MallocTrim(nuint pad);

    /// <summary>True where glibc's malloc_trim was found (and so the trimmer runs).</summary>
    public static bool Available => Trim is not null;

    /// <summary>One trim now; false where unavailable.</summary>
    public static bool TrimNow() => Trim is not null && Trim(0) >= 0;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Trim is null)
        {
            return;
        }

        using var timer = new PeriodicTimer(Period, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                TrimNow();
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
