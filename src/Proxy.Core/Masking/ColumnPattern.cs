using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Proxy.Core.Masking;

/// <summary>
/// A <c>[schema.][table.]column</c> glob; missing leading parts match anything, so <c>customers.card</c>
/// covers that table in every schema and a bare <c>ssn</c> any column of that name. Matching is against the
/// catalog's names for the column, never an alias.
/// </summary>
public sealed class ColumnPattern
{
    private readonly ObjectPattern? _schema;
    private readonly ObjectPattern? _table;
    private readonly ObjectPattern _column;

    private ColumnPattern(string text, ObjectPattern? schema, ObjectPattern? table, ObjectPattern column)
    {
        Text = text;
        _schema = schema;
        _table = table;
        _column = column;
    }

    public string Text { get; }

    /// <summary>Whether an identifier in statement text may name this pattern's column (strict mode).</summary>
    public bool MatchesColumnName(string name) => _column.Matches(name, loose: false);

    public static bool TryParse(string text, out ColumnPattern pattern)
    {
        pattern = null!;
        var parts = text.Split('.');
        if (parts.Length > 3 || parts.Any(p => p.Length == 0 || p.Any(char.IsWhiteSpace)))
        {
            return false;
        }

        var column = new ObjectPattern(parts[^1]);
        var table = parts.Length >= 2 ? new ObjectPattern(parts[^2]) : null;
        var schema = parts.Length == 3 ? new ObjectPattern(parts[0]) : null;
        pattern = new ColumnPattern(text, schema, table, column);
        return true;
    }

    public bool Matches(string schema, string table, string column) =>
        _column.Matches(column, loose: false)
        && (_table is null || _table.Matches(table, loose: false))
        && (_schema is null || _schema.Matches(schema, loose: false));

    /// <summary>
    /// Whether an identifier may name the table or schema this pattern names (not a wildcard): renamed, that
    /// relation's columns would leave the pattern.
    /// </summary>
    public bool MayNameRelation(string name) =>
        (_table is { Pattern: not "*" } && _table.Matches(name, loose: false)) || (_schema is { Pattern: not "*" } && _schema.Matches(name, loose: false));

    /// <summary>Whether a result column's own name (a derived column's alias) matches: column-only patterns.</summary>
    public bool MatchesName(string column) => _table is null && _column.Matches(column, loose: false);
}
