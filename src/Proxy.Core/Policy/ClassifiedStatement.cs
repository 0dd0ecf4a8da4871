namespace Gatehouse.Proxy.Core.Policy;

/// <summary>
/// One statement of a (possibly multi-statement) SQL text: its byte range in the text, what it does, its risks,
/// and the range of its objects in <see cref="SqlClassification.Objects"/>. SQL-level prepared statements
/// (PREPARE / EXECUTE / DEALLOCATE) carry their normalised name, so the session's guard can judge an EXECUTE
/// by what was prepared under that name.
/// </summary>
public readonly record struct ClassifiedStatement(
    int Start,
    int Length,
    StatementKind Kind,
    StatementRisk Risks,
    int FirstObject,
    int ObjectCount,
    string? Note = null,
    PreparedAction Prepared = PreparedAction.None,
    string? PreparedName = null);

/// <summary>What a statement does to the session's SQL-level prepared statements.</summary>
public enum PreparedAction : byte
{
    None,
    /// <summary>PREPARE name AS|FROM ...: Kind and Risks are the inner statement's (plus DynamicSql).</summary>
    Prepare,
    /// <summary>EXECUTE name: classified Unknown by the classifier; the guard substitutes what was prepared.</summary>
    Execute,
    /// <summary>DEALLOCATE name; a null name means all (DEALLOCATE ALL, DISCARD ALL).</summary>
    Deallocate,
}
