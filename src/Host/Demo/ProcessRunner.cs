using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Gatehouse.Host.Demo;

/// <summary>Runs a program asynchronously with captured output and a hard timeout, so setup can never hang the demo or a test run.</summary>
internal static class ProcessRunner
{
    // A daemon started by the child (postgres under pg_ctl) could inherit our pipes and keep them open forever;
    // after the child exits we wait this long for the rest of its output and then move on without it.
    private static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(5);

    public static async Task<ProcessResult> RunAsync(ProcessCommand command, CancellationToken cancellationToken)
    {
        var startInfo = CreateStartInfo(command);

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            throw new LocalPostgresException($"Could not start '{command.FileName}': {ex.Message}", ex);
        }

        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        var pumps = Task.WhenAll(PumpAsync(process.StandardOutput, stdout), PumpAsync(process.StandardError, stderr));

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(command.Timeout);
        try
        {
            await WriteInputAsync(process.StandardInput, command.StandardInput, timeout.Token).ConfigureAwait(false);
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            KillQuietly(process);
            cancellationToken.ThrowIfCancellationRequested();
            throw new LocalPostgresException(
                $"'{command}' did not finish within {command.Timeout.TotalSeconds:0} s and was killed.\n--- stdout ---\n{Snapshot(stdout)}\n--- stderr ---\n{Snapshot(stderr)}");
        }

        try
        {
            await pumps.WaitAsync(DrainGrace, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // See DrainGrace: keep what we have.
        }

        return new ProcessResult(command, process.ExitCode, Snapshot(stdout), Snapshot(stderr));
    }

    /// <summary>
    /// The start info RunAsync uses: all three streams redirected, UTF-8 output, and an environment without the client
    /// variables that could point a command at another server. Also for long-running servers the caller supervises itself.
    /// </summary>
    public static ProcessStartInfo CreateStartInfo(ProcessCommand command)
    {
        var startInfo = new ProcessStartInfo(command.FileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = command.WorkingDirectory ?? string.Empty,
        };
        foreach (var argument in command.Arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        // libpq and the server tools read PGHOST, PGPORT, PGSSLMODE, PGDATA, ... from the environment, and the MariaDB
        // client reads MYSQL_HOST, MYSQL_TCP_PORT, MYSQL_UNIX_PORT, MYSQL_PWD, ...; a developer's or CI's values must not
        // redirect our commands to some other server, so only what the command sets survives.
        foreach (var key in startInfo.Environment.Keys.Where(IsClientVariable).ToList())
        {
            startInfo.Environment.Remove(key);
        }

        foreach (var (key, value) in command.Environment)
        {
            startInfo.Environment[key] = value;
        }

        return startInfo;
    }

    private static async Task WriteInputAsync(StreamWriter stdin, string? input, CancellationToken cancellationToken)
    {
        try
        {
            if (input is not null)
            {
                await stdin.WriteAsync(input.AsMemory(), cancellationToken).ConfigureAwait(false);
                await stdin.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            stdin.Close();
        }
        catch (IOException)
        {
            // The child exited (or closed stdin) before reading everything; its exit code tells the story.
        }
    }

    private static async Task PumpAsync(StreamReader reader, StringBuilder sink)
    {
        var buffer = new char[4096];
        try
        {
            int read;
            while ((read = await reader.ReadAsync(buffer.AsMemory(), CancellationToken.None).ConfigureAwait(false)) > 0)
            {
                lock (sink)
                {
                    sink.Append(buffer, 0, read);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            // The Process was disposed while a grandchild still held the pipe; nothing more to collect.
        }
    }

    private static bool IsClientVariable(string name) =>
        name.StartsWith("PG", StringComparison.Ordinal) || name.StartsWith("MYSQL_", StringComparison.Ordinal) || name.StartsWith("MARIADB_", StringComparison.Ordinal);

    private static string Snapshot(StringBuilder sink)
    {
        lock (sink)
        {
            return sink.ToString();
        }
    }

    private static void KillQuietly(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or Win32Exception or NotSupportedException)
        {
            // Already gone.
        }
    }
}
