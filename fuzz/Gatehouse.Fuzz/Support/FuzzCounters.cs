using System.Collections.Concurrent;

namespace Gatehouse.Fuzz.Support;

/// <summary>
/// How often targets reached named milestones (an outcome, a verified signature). Without coverage feedback
/// these show whether mutated inputs still get past the first check; the runner prints them and the smoke
/// tests assert the seeds reach the deep ones.
/// </summary>
internal static class FuzzCounters
{
    private static readonly ConcurrentDictionary<string, long> Counts = new(StringComparer.Ordinal);

    public static void Hit(string milestone) => Counts.AddOrUpdate(milestone, 1, static (_, n) => n + 1);

    public static long Get(string milestone) => Counts.TryGetValue(milestone, out var n) ? n : 0;

    /// <summary>Milestones starting with <paramref name="prefix"/>, sorted by name.</summary>
    public static IReadOnlyList<KeyValuePair<string, long>> Snapshot(string prefix)
        => [.. Counts.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(kv => kv.Key, StringComparer.Ordinal)];
}
