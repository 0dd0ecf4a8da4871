using Gatehouse.Host;
using Xunit;

namespace Gatehouse.Tests.Transport;

public class NativeHeapTrimmerTests
{
    [Fact]
    public void Native_heap_trimming_is_available_on_this_platform()
    {
        // README's idle-session figure assumes the trimmer runs: if glibc's malloc_trim stops being found, this
        // fails instead of idle sessions silently costing more.
        Assert.True(NativeHeapTrimmer.Available);
        Assert.True(NativeHeapTrimmer.TrimNow());
    }

    [Fact]
    public void Trims_once_when_the_process_goes_quiet_after_work_and_never_under_load()
    {
        var worked = false;
        var busy = TimeSpan.FromMilliseconds(300);
        var quiet = TimeSpan.FromMilliseconds(5);

        Assert.False(NativeHeapTrimmer.ShouldTrim(quiet, ref worked)); // quiet with nothing done: nothing to return
        Assert.False(NativeHeapTrimmer.ShouldTrim(busy, ref worked)); // under load: a trim would stall allocations
        Assert.False(NativeHeapTrimmer.ShouldTrim(busy, ref worked));
        Assert.True(NativeHeapTrimmer.ShouldTrim(quiet, ref worked)); // quiet after work: trim once
        Assert.False(NativeHeapTrimmer.ShouldTrim(quiet, ref worked)); // and not again until there is more work
    }
}
