namespace Gatehouse.Proxy.Core.Policy;

/// <summary>
/// The result of classifying one SQL text, reused across calls by one session so steady-state classification
/// does not allocate. Objects are the relations and routines a statement names, normalised the way the server
/// resolves them: unquoted identifiers lower-cased (PostgreSQL) or as written (MySQL), quotes removed, a schema
/// prefix kept when written (<c>public.accounts</c>).
/// </summary>
public sealed class SqlClassification
{
    public List<ClassifiedStatement> Statements { get; } = new(4);

    public List<string> Objects { get; } = new(8);

    public void Clear()
    {
        Statements.Clear();
        Objects.Clear();
    }

    /// <summary>The objects of one statement.</summary>
    public IEnumerable<string> ObjectsOf(in ClassifiedStatement statement) =>
        Objects.Skip(statement.FirstObject).Take(statement.ObjectCount);
}
