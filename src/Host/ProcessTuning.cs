namespace Gatehouse.Host;

/// <summary>Process-wide settings that must be made before the first socket exists.</summary>
internal static class ProcessTuning
{
    /// <summary>
    /// On a small machine (a sidecar's 2 cores) running socket completions on the epoll thread saves a thread-pool
    /// hop per read, measured at about a quarter more round trips per second through the gateway. On larger
    /// machines one epoll thread would serialise all I/O, so it stays off there. An explicit setting wins.
    /// </summary>
    public static void Apply()
    {
        if (Environment.ProcessorCount <= 4 && Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
        {
            Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
        }
    }
}
