namespace Gatehouse.Host.Demo;

/// <summary>Exit code and captured output of a finished <see cref="ProcessCommand"/>.</summary>
internal sealed record ProcessResult(ProcessCommand Command, int ExitCode, string StandardOutput, string StandardError)
{
    public bool Succeeded => ExitCode == 0;

    /// <summary>Throws a <see cref="LocalPostgresException"/> carrying both streams unless the exit code is 0.</summary>
    public ProcessResult EnsureSuccess(string what)
    {
        if (!Succeeded)
        {
            throw new LocalPostgresException($"{what} failed: '{Command}' exited with {ExitCode}.\n{Describe()}");
        }

        return this;
    }

    public string Describe() => $"--- stdout ---\n{StandardOutput.TrimEnd()}\n--- stderr ---\n{StandardError.TrimEnd()}";
}
