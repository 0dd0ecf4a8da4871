namespace Gatehouse.Fuzz;

/// <summary>
/// One fuzz target: a static entry point over bytes (Garnet <c>test/Garnet.fuzz/Targets/IFuzzerTarget.cs</c>).
/// <see cref="Run"/> returns normally for any input the code under test handles as documented (including
/// its documented failures, which the target catches); anything that escapes is a crash. Targets that take
/// a chunking byte let the input choose how it is split into reads and buffer segments.
/// </summary>
internal interface IFuzzTarget
{
    /// <summary>The name used on the command line and as the corpus folder.</summary>
    static abstract string Name { get; }

    /// <summary>How long one input may run before the runner reports a hang.</summary>
    static virtual TimeSpan HangTimeout => TimeSpan.FromSeconds(2);

    /// <summary>Runs one input. Throws only on a bug: an undocumented exception or a broken invariant.</summary>
    static abstract void Run(ReadOnlySpan<byte> input);
}

/// <summary>A target's entry point as a delegate, so a list can hold targets of different types.</summary>
internal delegate void FuzzEntry(ReadOnlySpan<byte> input);

/// <summary>A registered target.</summary>
internal sealed record FuzzTarget(string Name, FuzzEntry Run, TimeSpan HangTimeout);

/// <summary>A target's own check failed: the code under test returned something that contradicts its contract.</summary>
internal sealed class FuzzInvariantException(string message) : Exception(message);
