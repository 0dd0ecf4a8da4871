namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// Cursors and portals (<see cref="PgCursors"/>): which statement a FETCH's rows come from, which portal plans a
/// DECLARE or CLOSE makes stale, and the portal a Bind makes.
/// </summary>
internal sealed partial class PgResultMasker
{
    /// <summary>
    /// Whether ReadyForQuery's transaction status matters (<see cref="OnResponse"/>): only while a cursor or a named
    /// portal is known, which a transaction's end closes. Otherwise the frame passes uninspected.
    /// </summary>
    public bool NeedsReadyStatus => _cursors.Any || _portals.Count > (_portals.ContainsKey("") ? 1 : 0);

    /// <summary>A CommandComplete: a ROLLBACK, DECLARE CURSOR or CLOSE changes which cursors are known.</summary>
    private void OnCursorCommand(ReadOnlySpan<byte> tag)
    {
        if (tag.StartsWith("ROLLBACK"u8))
        {
            _cursors.Clear(); // a rolled-back transaction takes the WITH HOLD cursors it declared with it
            return;
        }

        if (!tag.StartsWith("DECLARE CURSOR"u8) && !tag.StartsWith("CLOSE CURSOR"u8))
        {
            return;
        }

        // A portal plan made by a Describe of the cursor's name is stale once the name is closed or declared anew.
        if (_cursors.Completed(tag, CompletedStatement()) is { } name)
        {
            _portals.Remove(name);
            return;
        }

        var executing = Peek(out var running) && running.Kind == PgPendingKind.Execute ? running.Name : null;
        foreach (var portal in _portals.Keys)
        {
            if (portal != executing)
            {
                _portals.Remove(portal);
            }
        }
    }

    /// <summary>The statement a CommandComplete answers: the simple Query's current one, or the text behind an Execute's portal.</summary>
    private ReadOnlySpan<byte> CompletedStatement()
        => !Peek(out var head) ? default
            : head.Kind == PgPendingKind.Query ? StatementAt(head.Sql, _completedInQuery)
            : head.Kind == PgPendingKind.Execute && _portals.TryGetValue(head.Name, out var portal) ? portal.Sql
            : default;

    /// <summary>
    /// The texts behind the cursors and portals a statement's FETCHes read (<see cref="PgCursors"/>), for strict
    /// mode to judge with it; unseen when one has no text the gateway knows.
    /// </summary>
    private PgCursorReads CursorReads(ReadOnlySpan<byte> statement)
    {
        if (PgCursors.FetchedNames(statement) is not { } names)
        {
            return default;
        }

        var texts = new List<byte[]>(names.Count);
        foreach (var name in names)
        {
            if ((_portals.TryGetValue(name, out var portal) ? portal.Sql : _cursors.TextOf(name)) is not { } text)
            {
                return PgCursorReads.Unseen;
            }

            texts.Add(text);
        }

        return new PgCursorReads(texts);
    }

    /// <summary>
    /// A bound portal: the shape of its rows, and the statement it runs (a COPY behind an Execute is read from it).
    /// A portal that reads cursors (a FETCH, or a cursor itself) has the cursors' <see cref="PgCursors.Stamp"/>
    /// when planned: its plan holds only while that is current.
    /// </summary>
    private readonly record struct Portal(PgResultShape Shape, byte[]? Sql, long? FetchStamp = null);

    /// <summary>The portal a Bind of a known statement made; a FETCH's plan only while its cursors are as when it was described.</summary>
    private Portal Bound(PgStatementInfo statement, short[] formats, string name)
    {
        var shape = statement.FetchStamp is { } stamp && stamp != _cursors.Stamp ? PgResultShape.Unknown : statement.ShapeFor(formats) ?? PgResultShape.Unknown;
        if (name.Length > 0)
        {
            _cursors.Forget(name); // the name is a portal's now: no cursor had it, or the Bind would have failed
            _cursors.Changed(); // and a FETCH of that name reads this portal now
        }

        return new Portal(shape, statement.Sql, statement.FetchStamp is null ? null : _cursors.Stamp);
    }
}
