namespace Gatehouse.Host.Demo;

/// <summary>One external program invocation for <see cref="ProcessRunner"/>. Secrets go in Environment or StandardInput, never in Arguments, so ToString is safe to log.</summary>
internal sealed record ProcessCommand(string FileName, IReadOnlyList<string> Arguments)
{
    private static readonly IReadOnlyDictionary<string, string> NoEnvironment = new Dictionary<string, string>(StringComparer.Ordinal);

    public string? WorkingDirectory { get; init; }

    /// <summary>Variables added to the inherited environment, from which PG*, MYSQL_* and MARIADB_* have been removed.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; init; } = NoEnvironment;

    /// <summary>Written to the child's stdin, which is then closed; null closes stdin at once so nothing waits for input.</summary>
    public string? StandardInput { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    public override string ToString() => Arguments.Count == 0 ? FileName : FileName + " " + string.Join(' ', Arguments);
}
