using Gatehouse.Host.Recording;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Tests.Recording;

/// <summary>Finding a gateway test's own session in a live recording.</summary>
internal static class RecordedSessions
{
    /// <summary>The last recorded session with a statement containing <paramref name="marker"/>, once its end is on record.</summary>
    public static async Task<RecordedSession> WaitForEndedAsync(string directory, byte[] key, string marker)
    {
        var store = new DirectorySegmentStore(directory);
        for (var i = 0; i < 100; i++)
        {
            var session = RecordedSession.Load(store, key).LastOrDefault(s =>
            {
                s.Transcribe(out var t);
                return t.Statements.Exists(x => x.Contains(marker, StringComparison.Ordinal));
            });
            if (session?.End is not null)
            {
                return session;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"no ended session with {marker} in the recording");
    }
}
