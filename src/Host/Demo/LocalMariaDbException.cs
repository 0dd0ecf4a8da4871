namespace Gatehouse.Host.Demo;

/// <summary>A step of setting up, running or querying <see cref="LocalMariaDb"/> failed; the message carries the tool's output or the error log tail.</summary>
public sealed class LocalMariaDbException : Exception
{
    public LocalMariaDbException()
    {
    }

    public LocalMariaDbException(string message)
        : base(message)
    {
    }

    public LocalMariaDbException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
