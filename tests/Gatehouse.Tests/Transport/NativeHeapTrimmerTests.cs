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
}
