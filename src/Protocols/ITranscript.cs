namespace Gatehouse.Protocols;

/// <summary>A protocol's reading of a recorded session: fed its client and server bytes in order, it keeps lines a person reads.</summary>
public interface ITranscript
{
    IReadOnlyList<string> Lines { get; }

    /// <summary>Every SQL text the client sent, in order.</summary>
    List<string> Statements { get; }

    /// <summary>
    /// How many of the client bytes fed so far belong to a message (or command) not yet whole: a reader that
    /// starts later on the same stream (the next segment's index) must be fed these first.
    /// </summary>
    int UnfinishedClientBytes { get; }

    void Client(ReadOnlySpan<byte> bytes);

    void Server(ReadOnlySpan<byte> bytes);

    /// <summary>A line from the recording itself (a decision, the session's end).</summary>
    void Note(string line);
}
