namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>Which statement an ErrorResponse or NoticeResponse answers, for <see cref="PgServerMessageMasker"/>.</summary>
internal sealed partial class PgResultMasker
{
    private byte[]? _messageSql;
    private int _messageIndex = -1; // the statement's place in a simple Query; -1 when the text is one statement

    /// <summary>
    /// Whether the statement the last error or notice answers may compute a sensitive value (strict mode's
    /// reading). A message the server composed as that statement ran can then quote one: <c>type
    /// "x4111111111111111" does not exist</c> from <c>('x' || replace(card, ' ', ''))::regtype</c>. False when no
    /// statement was at hand (a message between statements, from the server itself).
    /// </summary>
    public bool MessageStatementMayShowValues()
    {
        if (_messageSql is null)
        {
            return false;
        }

        var statement = _messageIndex >= 0 ? StatementAt(_messageSql, _messageIndex) : _messageSql;
        return planner.MayComputeSensitive(statement);
    }

    /// <summary>Notes the statement of the request at the head of the queue (an Execute's through its portal).</summary>
    private void NoteMessageStatement()
    {
        _messageIndex = -1;
        _messageSql = null;
        if (!Peek(out var head))
        {
            return;
        }

        switch (head.Kind)
        {
            case PgPendingKind.Query:
                _messageSql = head.Sql;
                _messageIndex = _completedInQuery;
                break;
            case PgPendingKind.Parse:
                _messageSql = head.Sql;
                break;
            case PgPendingKind.Bind:
                _messageSql = _statements.TryGetValue(head.Statement, out var bound) ? bound.Sql : null;
                break;
            case PgPendingKind.DescribeStatement:
                _messageSql = _statements.TryGetValue(head.Name, out var described) ? described.Sql : null;
                break;
            case PgPendingKind.Execute or PgPendingKind.DescribePortal:
                _messageSql = _portals.TryGetValue(head.Name, out var portal) ? portal.Sql : null;
                break;
        }
    }
}
