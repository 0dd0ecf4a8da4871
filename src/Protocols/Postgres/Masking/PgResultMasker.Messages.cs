namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>Which statement an ErrorResponse or NoticeResponse answers, for <see cref="PgServerMessageMasker"/>.</summary>
internal sealed partial class PgResultMasker
{
    private byte[]? _messageSql;
    private bool _messageUnseen; // it answers an Execute of a cursor whose text the gateway did not see
    private byte[]? _judgedSql; // the statement last judged, and the catalog state then: a notice storm reads its statement once
    private int _judgedGeneration;
    private bool _judgedMayShow;
    private bool _judgedFetches; // that statement FETCHes: judged again at every message

    /// <summary>
    /// Whether the statement the last error or notice answers may compute a sensitive value (strict mode's
    /// reading). A message the server composed as that statement ran can then quote one: <c>type
    /// "x4111111111111111" does not exist</c> from <c>('x' || replace(card, ' ', ''))::regtype</c>. False when no
    /// statement was at hand (a message between statements, from the server itself). A simple Query is judged
    /// whole, as its results are: where its ';'s split it is the server's reading (a rule's actions, a BEGIN
    /// ATOMIC body), and a statement taken for another would be judged wrongly.
    /// </summary>
    public bool MessageStatementMayShowValues()
    {
        if (_messageUnseen)
        {
            return planner.MayComputeSensitive([], PgCursorReads.Unseen);
        }

        if (_messageSql is null)
        {
            return false;
        }

        // Kept per statement and catalog state, so a notice storm reads its statement once; not for a FETCH,
        // whose cursor may be another at the next message.
        var generation = planner.Catalog.Generation;
        if (!ReferenceEquals(_messageSql, _judgedSql) || generation != _judgedGeneration || _judgedFetches)
        {
            var cursors = CursorReads(_messageSql);
            _judgedMayShow = planner.MayComputeSensitive(_messageSql, cursors);
            (_judgedSql, _judgedGeneration, _judgedFetches) = (_messageSql, generation, cursors != default);
        }

        return _judgedMayShow;
    }

    /// <summary>Notes the statement of the request at the head of the queue (an Execute's through its portal).</summary>
    private void NoteMessageStatement()
    {
        _messageSql = null;
        _messageUnseen = false;
        if (!Peek(out var head))
        {
            return;
        }

        switch (head.Kind)
        {
            case PgPendingKind.Query or PgPendingKind.Parse:
                _messageSql = head.Sql;
                break;
            case PgPendingKind.Bind:
                _messageSql = _statements.TryGetValue(head.Statement, out var bound) ? bound.Sql : null;
                break;
            case PgPendingKind.DescribeStatement:
                _messageSql = _statements.TryGetValue(head.Name, out var described) ? described.Sql : null;
                break;
            case PgPendingKind.Execute or PgPendingKind.DescribePortal when _portals.TryGetValue(head.Name, out var portal):
                _messageSql = portal.Sql;
                break;
            case PgPendingKind.Execute or PgPendingKind.DescribePortal:
                _messageSql = _cursors.TextOf(head.Name); // a cursor DECLARE opened, run through the protocol
                _messageUnseen = _messageSql is null;
                break;
        }
    }
}
