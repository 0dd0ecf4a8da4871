namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// Reads where each column of a view comes from out of its <c>_RETURN</c> rule (<c>pg_rewrite.ev_action</c>,
/// the server's own node-tree text). The top-level query's TARGETENTRY nodes carry <c>resorigtbl</c> and
/// <c>resorigcol</c>: the origin PostgreSQL itself computed when the view was created, the same fields it
/// reports in RowDescription. No name matching, so an alias inside the view cannot hide a column. Anything
/// this reader does not understand yields null, and the caller masks the view's columns whole.
/// </summary>
internal static class PgViewOrigins
{
    public static PgColumnRef[]? Parse(string nodeTree, int columnCount)
    {
        var origins = new PgColumnRef[columnCount + 1];
        int braces = 0, at = 0;
        var inTargetList = false;
        var sawQuery = false;
        short resno = 0;
        uint table = 0;
        short column = 0;
        var junk = false;
        while (at < nodeTree.Length)
        {
            var c = nodeTree[at];
            switch (c)
            {
                case '{':
                    braces++;
                    at++;
                    if (braces == 1)
                    {
                        if (sawQuery)
                        {
                            return origins; // a second top-level query (rules with several actions): the first is the view's
                        }

                        sawQuery = true;
                    }

                    if (inTargetList && braces == 2)
                    {
                        (resno, table, column, junk) = (0, 0, 0, false);
                    }

                    continue;
                case '}':
                    if (inTargetList && braces == 2 && !junk)
                    {
                        if (resno < 1 || resno > columnCount)
                        {
                            return null;
                        }

                        origins[resno] = new PgColumnRef(table, column);
                    }

                    braces--;
                    at++;
                    continue;
                case '\\':
                    at += 2; // outToken escapes the node syntax characters
                    continue;
                case ':':
                    var name = Token(nodeTree, ref at);
                    if (braces == 1)
                    {
                        inTargetList = name == ":targetList";
                    }
                    else if (inTargetList && braces == 2)
                    {
                        var value = Value(nodeTree, ref at);
                        switch (name)
                        {
                            case ":resno" when short.TryParse(value, out var r):
                                resno = r;
                                break;
                            case ":resorigtbl" when uint.TryParse(value, out var t):
                                table = t;
                                break;
                            case ":resorigcol" when short.TryParse(value, out var a):
                                column = a;
                                break;
                            case ":resjunk":
                                junk = value == "true";
                                break;
                            case ":resno" or ":resorigtbl" or ":resorigcol":
                                return null;
                        }
                    }

                    continue;
                default:
                    at++;
                    continue;
            }
        }

        return braces == 0 && sawQuery ? origins : null;
    }

    private static string Token(string text, ref int at)
    {
        var start = at;
        while (at < text.Length && !char.IsWhiteSpace(text[at]) && text[at] is not ('{' or '}' or '(' or ')'))
        {
            at += text[at] == '\\' ? 2 : 1;
        }

        return text[start..Math.Min(at, text.Length)];
    }

    private static string Value(string text, ref int at)
    {
        while (at < text.Length && text[at] == ' ')
        {
            at++;
        }

        return at < text.Length && text[at] is '{' or '(' or ':' ? "" : Token(text, ref at);
    }
}
