using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Gatehouse.Fuzz.Support;

namespace Gatehouse.Fuzz.Runner;

/// <summary>What one target's run found.</summary>
internal sealed record FuzzReport(string Target, long Execs, int Seeds, int Crashes, int UniqueCrashes, bool Hang, TimeSpan Elapsed, IReadOnlyList<string> Findings);

/// <summary>
/// Runs a target over its seeds, then over mutated inputs until the time is up. Inputs run one at a time on a
/// worker thread while this thread watches the clock: an input that runs past the target's hang timeout is
/// saved and reported as a hang (the stuck thread cannot be stopped, so the run ends there). Each crash is
/// saved the first time its exception type and throwing method are seen.
/// </summary>
internal sealed class FuzzRunner
{
    private readonly FuzzTarget _target;
    private readonly IReadOnlyList<byte[]> _seeds;
    private readonly string _findings;
    private readonly TextWriter _log;
    private readonly Dictionary<string, string> _seen = new(StringComparer.Ordinal);
    private readonly List<string> _saved = [];
    private long _execs;
    private int _crashes;
    private byte[]? _current;
    private long _startedAt; // Stopwatch timestamp of the running input; 0 when idle

    public FuzzRunner(FuzzTarget target, IReadOnlyList<byte[]> seeds, string findingsDirectory, TextWriter log)
    {
        _target = target;
        _seeds = seeds;
        _findings = findingsDirectory;
        _log = log;
    }

    public FuzzReport Run(TimeSpan duration, int seed, int maxLength)
    {
        var clock = Stopwatch.StartNew();
        var deadline = clock.Elapsed + duration;
        var worker = new Thread(() => Work(clock, deadline, seed, maxLength)) { IsBackground = true, Name = "fuzz " + _target.Name };
        worker.Start();
        var nextStatus = TimeSpan.FromSeconds(10);
        while (!worker.Join(TimeSpan.FromMilliseconds(50)))
        {
            var started = Interlocked.Read(ref _startedAt);
            if (started != 0 && Stopwatch.GetElapsedTime(started) > _target.HangTimeout && Volatile.Read(ref _current) is { } stuck)
            {
                var path = Save(stuck, "hang", $"input ran for more than {_target.HangTimeout.TotalSeconds} s");
                _log.WriteLine($"[{_target.Name}] HANG: input saved to {path}");
                return Report(clock, hang: true);
            }

            if (clock.Elapsed > nextStatus)
            {
                _log.WriteLine($"[{_target.Name}] {clock.Elapsed.TotalSeconds:F0} s: {Interlocked.Read(ref _execs)} execs, {Volatile.Read(ref _crashes)} crashes");
                nextStatus += TimeSpan.FromSeconds(10);
            }
        }

        return Report(clock, hang: false);
    }

    private FuzzReport Report(Stopwatch clock, bool hang)
    {
        lock (_seen)
        {
            return new FuzzReport(_target.Name, Interlocked.Read(ref _execs), _seeds.Count, Volatile.Read(ref _crashes), _seen.Count, hang, clock.Elapsed, [.. _saved]);
        }
    }

    private void Work(Stopwatch clock, TimeSpan deadline, int seed, int maxLength)
    {
        foreach (var input in _seeds)
        {
            Execute(input);
        }

        var mutator = new Mutator(seed, _seeds, maxLength);
        while (clock.Elapsed < deadline)
        {
            Execute(mutator.Next());
        }
    }

    private void Execute(byte[] input)
    {
        Volatile.Write(ref _current, input);
        Interlocked.Exchange(ref _startedAt, Stopwatch.GetTimestamp());
        try
        {
            _target.Run(input);
        }
#pragma warning disable CA1031 // a fuzzer records every exception: each one is a finding
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Interlocked.Increment(ref _crashes);
            var key = CrashKey(ex);
            lock (_seen)
            {
                if (_seen.TryAdd(key, ex.ToString()))
                {
                    var path = Save(input, "crash", ex.ToString());
                    _log.WriteLine($"[{_target.Name}] CRASH {ex.GetType().Name}: {FirstLine(ex.Message)}");
                    _log.WriteLine($"    input saved to {path}");
                }
            }
        }
        finally
        {
            Interlocked.Exchange(ref _startedAt, 0);
            Interlocked.Increment(ref _execs);
        }
    }

    /// <summary>Crashes are the same when the exception type and the method that threw are (libFuzzer's dedup, roughly).</summary>
    private static string CrashKey(Exception ex)
    {
        var frame = new StackTrace(ex).GetFrames().FirstOrDefault(f => f.GetMethod() is not null);
        var method = frame?.GetMethod();
        var where = method is null ? "?" : method.DeclaringType?.FullName + "." + method.Name;
        if (ex is FuzzInvariantException)
        {
            // The message names the broken invariant; numbers (offsets, plans, lengths) vary between inputs.
            var shape = Regex.Replace(FirstLine(ex.Message), "0x[0-9A-Fa-f]+|-?[0-9]+", "#");
            return "invariant:" + shape[..Math.Min(shape.Length, 120)];
        }

        return ex.GetType().FullName + "@" + where;
    }

    private string Save(byte[] input, string kind, string description)
    {
        Directory.CreateDirectory(_findings);
        var hash = Convert.ToHexStringLower(SHA256.HashData(input))[..16];
        var path = Path.Combine(_findings, $"{_target.Name}-{kind}-{hash}.bin");
        File.WriteAllBytes(path, input);
        File.WriteAllText(Path.ChangeExtension(path, ".txt"), $"target: {_target.Name}\nkind: {kind}\nlength: {input.Length}\nhex: {Convert.ToHexString(input)}\n\n{description}\n");
        _saved.Add(path);
        return path;
    }

    private static string FirstLine(string text)
    {
        var end = text.IndexOf('\n', StringComparison.Ordinal);
        return end < 0 ? text : text[..end];
    }
}
