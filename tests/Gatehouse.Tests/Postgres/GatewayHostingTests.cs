namespace Gatehouse.Tests.Postgres;

/// <summary>The gateway as a hosted process: what it costs its machine beyond the sessions it relays.</summary>
[Collection("gateway")]
public sealed class GatewayHostingTests(GatewayFixture fixture)
{
    /// <summary>
    /// ASP.NET's default appsettings.json reload watches the working directory recursively: a gateway started in
    /// /tmp or / would hold a watch on every directory below and handle an event for every write there.
    /// </summary>
    [Fact]
    public async Task Watches_no_directory_for_configuration_changes()
    {
        Assert.True(OperatingSystem.IsLinux(), "inotify is Linux's; CI runs Linux");
        var before = InotifyWatches();
        var (host, _) = await fixture.StartGatewayAsync();
        await using (host)
        {
            Assert.Equal(before, InotifyWatches());
        }
    }

    private static int InotifyWatches()
    {
        var watches = 0;
        foreach (var fd in Directory.EnumerateFileSystemEntries("/proc/self/fd"))
        {
            string? target;
            try
            {
                target = new FileInfo(fd).LinkTarget;
            }
            catch (IOException)
            {
                continue; // closed meanwhile
            }

            if (target == "anon_inode:inotify")
            {
                try
                {
                    watches += File.ReadLines($"/proc/self/fdinfo/{Path.GetFileName(fd)}").Count(line => line.StartsWith("inotify wd:", StringComparison.Ordinal));
                }
                catch (IOException)
                {
                }
            }
        }

        return watches;
    }
}
