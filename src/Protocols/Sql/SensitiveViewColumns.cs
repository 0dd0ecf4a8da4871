namespace Gatehouse.Protocols.Sql;

/// <summary>
/// A database's view columns that show a sensitive value under one session's rules, for strict mode and the
/// store check, by view name (names compared ignoring case: over-inclusive). A statement reads one when it names
/// the column where a column is read and names its view anywhere: whoever wrote a view chose its column names,
/// and a view's <c>id</c> says nothing of another table's <c>id</c>. A view whose columns cannot be told apart
/// (a MySQL definition the gateway cannot read column by column) counts whole: naming it is enough. Built once
/// per catalog state, then only read.
/// </summary>
internal sealed class SensitiveViewColumns
{
    private readonly Dictionary<string, HashSet<string>> _byView = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _columns = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _whole = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Notes that <paramref name="view"/>'s <paramref name="column"/> shows a sensitive value; false when already noted.</summary>
    public bool Add(string view, string column)
    {
        if (!_byView.TryGetValue(view, out var columns))
        {
            _byView[view] = columns = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        }

        _columns.Add(column);
        return columns.Add(column);
    }

    /// <summary>Notes that naming <paramref name="view"/> reads a sensitive value; false when already noted.</summary>
    public bool AddWhole(string view) => _whole.Add(view);

    /// <summary>Whether some view has a column of this name that shows a sensitive value.</summary>
    public bool MayName(string column) => _columns.Contains(column);

    /// <summary>Whether this name is a view with such a column.</summary>
    public bool IsView(string name) => _byView.ContainsKey(name);

    public bool IsWhole(string view) => _whole.Contains(view);

    public bool Shows(string view, string column) => _byView.TryGetValue(view, out var columns) && columns.Contains(column);

    /// <summary>Whether a column named in <paramref name="columns"/> shows a sensitive value in a view named in <paramref name="views"/>.</summary>
    public bool AnyShown(IReadOnlyList<string> columns, IReadOnlyList<string> views)
    {
        foreach (var view in views)
        {
            foreach (var column in columns)
            {
                if (Shows(view, column))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
