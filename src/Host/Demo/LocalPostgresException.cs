namespace Gatehouse.Host.Demo;

/// <summary>A step of setting up, running or querying <see cref="LocalPostgres"/> failed; the message carries the tool's output or the server log tail.</summary>
public sealed class LocalPostgresException : Exception
{
    public LocalPostgresException()
    {
    }

    public LocalPostgresException(string message)
        : base(message)
    {
    }

    public LocalPostgresException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
