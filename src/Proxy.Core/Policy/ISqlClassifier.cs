namespace Gatehouse.Proxy.Core.Policy;

/// <summary>
/// Splits a SQL text (UTF-8, as it travels on the wire) into statements and classifies each. An implementation
/// is exact about its dialect's lexical rules; whatever it cannot read fully is <see cref="StatementKind.Unknown"/>.
/// Empty statements (only whitespace, comments or semicolons) produce no entry.
/// </summary>
public interface ISqlClassifier
{
    void Classify(ReadOnlySpan<byte> sql, SqlClassification result);
}
