using System.Text;
using Gatehouse.Protocols.Sql;

namespace Gatehouse.Protocols.MySql.Masking;

/// <summary>Where one view column's value comes from: a plain column of another relation, or (all null) an expression.</summary>
internal readonly record struct MySqlViewColumn(string? Schema, string? Table, string? Column)
{
    public bool IsPlainColumn => Column is not null;
}

/// <summary>
/// Reads the select list of a view definition as information_schema.VIEWS gives it: the server's canonical
/// text, <c>select `db`.`t`.`c` AS `alias`,`v`.`x` AS `x`,upper(`db`.`t`.`e`) AS `e` from `db`.`t` join `db`.`v`</c>.
/// Each item ends with <c>AS `alias`</c>. An item that is exactly a column name — three parts, or two whose
/// first is a relation the FROM clause names as <c>`db`.`t` [`alias`]</c> — is a plain column of that
/// relation; anything else (a derived table's column included) an expression. A definition it cannot read so
/// (a UNION, an unterminated token) gives null, and the planner then judges every column of the view by the
/// whole definition.
/// </summary>
internal static class MySqlViewDefinition
{
    public static Dictionary<string, MySqlViewColumn>? Parse(byte[] definition)
    {
        var tokens = new List<SqlToken>();
        var lexer = new MySqlLexer(definition);
        for (var t = lexer.Next(); t.Kind != SqlTokenKind.End; t = lexer.Next())
        {
            if (t.Kind == SqlTokenKind.Error)
            {
                return null;
            }

            tokens.Add(t);
        }

        if (tokens.Count == 0 || !tokens[0].Is(Keyword.Select) || tokens.Exists(t => t.Is(Keyword.Union) || t.Is(Keyword.Except) || t.Is(Keyword.Intersect)))
        {
            return null; // each branch of a set operation names its own columns: which feeds which alias is not read here
        }

        var items = new List<(string Alias, int Start, int End)>();
        var depth = 0;
        var itemStart = 1;
        var listEnd = tokens.Count;
        for (var i = 1; i <= tokens.Count; i++)
        {
            var atEnd = i == tokens.Count;
            var t = atEnd ? default : tokens[i];
            depth += t.IsPunct('(') ? 1 : t.IsPunct(')') ? -1 : 0;
            if (!atEnd && (depth != 0 || !(t.IsPunct(',') || t.Is(Keyword.From))))
            {
                continue;
            }

            if (i - itemStart < 3 || !tokens[i - 2].Is(Keyword.As) || Name(definition, tokens[i - 1]) is not { } alias)
            {
                return null;
            }

            items.Add((alias, itemStart, i - 2));
            itemStart = i + 1;
            if (atEnd || t.Is(Keyword.From))
            {
                listEnd = i;
                break;
            }
        }

        var relations = FromRelations(definition, tokens, listEnd);
        var columns = new Dictionary<string, MySqlViewColumn>(StringComparer.OrdinalIgnoreCase);
        foreach (var (alias, start, end) in items)
        {
            columns[alias] = Column(definition, tokens, start, end, relations);
        }

        return columns;
    }

    private static MySqlViewColumn Column(byte[] sql, List<SqlToken> tokens, int start, int end, Dictionary<string, (string Schema, string Table)> relations)
    {
        if (end - start == 5 && tokens[start + 1].IsPunct('.') && tokens[start + 3].IsPunct('.')
            && Name(sql, tokens[start]) is { } schema && Name(sql, tokens[start + 2]) is { } table && Name(sql, tokens[start + 4]) is { } column)
        {
            return new MySqlViewColumn(schema, table, column);
        }

        if (end - start == 3 && tokens[start + 1].IsPunct('.') && Name(sql, tokens[start]) is { } qualifier
            && relations.TryGetValue(qualifier, out var relation) && Name(sql, tokens[start + 2]) is { } name)
        {
            return new MySqlViewColumn(relation.Schema, relation.Table, name);
        }

        return default;
    }

    /// <summary>Relations the FROM clause names as <c>`db`.`t`</c>, by their alias (or their own name when they have none).</summary>
    private static Dictionary<string, (string Schema, string Table)> FromRelations(byte[] sql, List<SqlToken> tokens, int from)
    {
        var relations = new Dictionary<string, (string, string)>(StringComparer.OrdinalIgnoreCase);
        for (var i = from + 1; i + 2 < tokens.Count; i++)
        {
            if (!tokens[i + 1].IsPunct('.') || Name(sql, tokens[i]) is not { } schema || Name(sql, tokens[i + 2]) is not { } table
                || (i + 3 < tokens.Count && tokens[i + 3].IsPunct('.')))
            {
                continue; // not db.t, or a column reference db.t.c
            }

            var next = i + 3 < tokens.Count && tokens[i + 3].Is(Keyword.As) ? i + 4 : i + 3;
            var alias = next < tokens.Count && tokens[next].Kind == SqlTokenKind.QuotedName ? Name(sql, tokens[next]) : null;
            relations[alias ?? table] = (schema, table);
            i += 2;
        }

        return relations;
    }

    private static string? Name(byte[] sql, in SqlToken token)
    {
        if (token.Kind is not (SqlTokenKind.QuotedName or SqlTokenKind.Word))
        {
            return null;
        }

        var buffer = new byte[Math.Max(token.ValueLength, 1)];
        var written = MySqlLexer.Decode(sql, token, buffer);
        return Encoding.UTF8.GetString(buffer, 0, written);
    }
}
