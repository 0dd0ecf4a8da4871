using System.Buffers.Binary;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Protocols.MySql.Masking;

/// <summary>A command the masker follows, queued with the response it expects (see <see cref="MySqlResponseTracker"/>).</summary>
internal sealed record MySqlMaskedCommand(Command Command, byte[] Sql, uint StatementId = 0, bool MayChangeCatalog = false)
{
    /// <summary>Rows of COM_STMT_EXECUTE and COM_STMT_FETCH are binary; all others text.</summary>
    public bool BinaryRows => Command is Command.StmtExecute or Command.StmtFetch;

    public static MySqlMaskedCommand Other { get; } = new(Command.Sleep, []);
}

/// <summary>
/// Masks result rows of one MySQL session (DESIGN §6). The client direction tags each command it forwards
/// (its text, or its prepared statement's id); the response tracker tells which packet of the answer is a
/// column definition and which a row. Each result is planned from its own column definitions (org_table and
/// org_name, which aliases do not change) once the last one has arrived, after the catalog has loaded any
/// relation they name; its rows are then rewritten in text or binary form. Prepared statements keep their
/// text (for strict mode) and their last result plan (for COM_STMT_FETCH of a cursor). A row of 16 MiB or
/// more is masked as its packets stream (<see cref="MySqlRowStream"/>).
/// </summary>
/// <param name="valueLimit">The most a value read whole (partial masking, content detection) of such a row may hold: the relay's inspection limit.</param>
internal sealed class MySqlResultMasker(MySqlColumnPlanner planner, MySqlRowMasker rows, long valueLimit = MySqlFrameDecoder.MaxPayload + 4L)
{
    private readonly Dictionary<uint, byte[]> _prepared = []; // also the lock of _cursors: both directions touch them
    private readonly Dictionary<uint, MySqlResultShape> _cursors = [];
    private readonly List<MySqlColumn> _columns = [];
    private MySqlMaskedCommand _command = MySqlMaskedCommand.Other;
    private MySqlResultShape _shape = MySqlResultShape.None;
    private bool _planned; // _shape is the plan of the rows now arriving
    private bool _holding;
    private MySqlRowStream? _rowStream;
    private int _packetsIn;

    public MaskingSession Masking => planner.Masking;

    /// <summary>The masked session's own check on what a statement stores (<see cref="MySqlColumnPlanner.FindStore"/>).</summary>
    public MySqlColumnPlanner Planner => planner;

    public MaskingCounter Counter => rows.Counter;

    /// <summary>Whether rows of the current result need reading.</summary>
    public bool RowsHaveWork => !_planned || _shape.HasWork;

    // ----- client to upstream -----

    /// <summary>
    /// The tag a COM_QUERY or COM_STMT_PREPARE travels with; <paramref name="mayChangeCatalog"/> as the statement
    /// guard classified the text (<see cref="Proxy.Core.Policy.StatementGuard.MayChangeCatalog"/>).
    /// </summary>
    /// <param name="judged">The text the statement guard judged last, reused when it is this one (<see cref="Proxy.Core.Policy.StatementGuard.TextOf"/>).</param>
    public static MySqlMaskedCommand ForStatement(Command command, ReadOnlySpan<byte> sql, bool mayChangeCatalog, byte[]? judged = null) =>
        new(command, Proxy.Core.Policy.StatementGuard.TextOf(sql, judged), MayChangeCatalog: mayChangeCatalog);

    /// <summary>An exempt session's tag for a statement that may change the catalog: its OK tells masked sessions.</summary>
    public static MySqlMaskedCommand CatalogChange(Command command) => new(command, [], MayChangeCatalog: true);

    /// <summary>The tag of COM_STMT_EXECUTE / COM_STMT_FETCH; null when the packet is too short to name a statement.</summary>
    public static MySqlMaskedCommand? ForStatementId(Command command, ReadOnlySpan<byte> payload) =>
        payload.Length >= 5 ? new(command, [], BinaryPrimitives.ReadUInt32LittleEndian(payload[1..])) : null;

    public void OnClose(ReadOnlySpan<byte> payload)
    {
        if (payload.Length >= 5)
        {
            var id = BinaryPrimitives.ReadUInt32LittleEndian(payload[1..]);
            lock (_prepared)
            {
                _prepared.Remove(id);
                _cursors.Remove(id);
            }
        }
    }

    public void OnResetConnection()
    {
        lock (_prepared)
        {
            _prepared.Clear();
            _cursors.Clear();
        }
    }

    // ----- upstream to client (called by the response tracker and the rewriter, in packet order) -----

    /// <summary>A prepare-OK: the statement's id, whose later executions are planned with this text.</summary>
    public void OnPrepared(MySqlMaskedCommand? command, uint statementId)
    {
        if (command is { Command: Command.StmtPrepare })
        {
            lock (_prepared)
            {
                _prepared[statementId] = command.Sql;
            }
        }
    }

    /// <summary>An OK to a command that may have changed tables or views: plans made from the catalog may be stale.</summary>
    public void OnOk(MySqlMaskedCommand? command)
    {
        if (command is { MayChangeCatalog: true })
        {
            planner.Catalog.Invalidate();
        }
    }

    /// <summary>A column count: the definitions of a new result follow.</summary>
    public void OnResultHead(MySqlMaskedCommand? command)
    {
        _command = command ?? MySqlMaskedCommand.Other;
        _columns.Clear();
        _shape = MySqlResultShape.None;
        _planned = false;
        _holding = false;
    }

    /// <summary>Rows of a cursor: planned as the execution that opened it was.</summary>
    public void OnFetch(MySqlMaskedCommand? command)
    {
        _command = command ?? MySqlMaskedCommand.Other;
        _columns.Clear();
        lock (_prepared)
        {
            MySqlResultShape? shape = null;
            _planned = command is not null && _cursors.TryGetValue(command.StatementId, out shape);
            _shape = shape ?? MySqlResultShape.None; // no plan: the first row ends the session
        }
    }

    private async Task LoadAsync(List<(string Schema, string Name)>? relations, bool functions)
    {
        if (relations is not null)
        {
            await planner.Catalog.LoadAsync(relations).ConfigureAwait(false);
        }

        if (functions)
        {
            await planner.Catalog.LoadFunctionsAsync().ConfigureAwait(false);
        }
    }

    public RewriteDecision OnColumn(ReadOnlySpan<byte> payload, bool last)
    {
        if (!_holding)
        {
            if (MySqlColumn.Parse(payload) is not { } column)
            {
                return RewriteDecision.End(SessionEndReason.ProtocolViolation, "malformed column definition from the upstream");
            }

            _columns.Add(column);
            if (!last)
            {
                return RewriteDecision.Pass;
            }

            var missing = planner.Missing(_columns);
            if (missing is not null || planner.NeedsFunctions)
            {
                _holding = true; // asked again when the catalog answered; the second answer is final whatever it holds
                return RewriteDecision.Hold(LoadAsync(missing, planner.NeedsFunctions));
            }
        }

        _holding = false;
        _shape = planner.Plan(_columns, StatementText());
        _planned = true;
        if (_command.Command == Command.StmtExecute)
        {
            lock (_prepared)
            {
                _cursors[_command.StatementId] = _shape; // a cursor's rows come later, through COM_STMT_FETCH
            }
        }

        return RewriteDecision.Pass;
    }

    public RewriteDecision OnRow(in FrameHeader header, ReadOnlySpan<byte> payload, RewriteContext context)
    {
        if (!_planned)
        {
            return RewriteDecision.End(SessionEndReason.Enforced, "result rows arrived whose columns the gateway does not know, so it does not pass them");
        }

        var error = rows.TryMask(payload, header.Sequence, _shape, _command.BinaryRows, context.Forward, out var rewritten);
        if (ReferenceEquals(error, MySqlRowMasker.TooLongForOnePacket))
        {
            BeginRowStream(header.Sequence); // masking makes it longer than one packet holds: split as a server would
            var streamed = StreamRowBytes(payload, context);
            return streamed.Action == RewriteAction.End ? streamed : EndRowPacket(last: true, context);
        }

        if (error is not null)
        {
            return RewriteDecision.End(SessionEndReason.ProtocolViolation, error);
        }

        return rewritten ? RewriteDecision.Replace : RewriteDecision.Pass;
    }

    /// <summary>A row of 16 MiB or more is being masked: the continuations of its first packet belong to it.</summary>
    public bool StreamingRow { get; private set; }

    private int _rowSequenceShift;

    /// <summary>How many packets more (or fewer, negative) streamed rows went out in than they came in, since last asked.</summary>
    public int TakeRowSequenceShift()
    {
        var shift = _rowSequenceShift;
        _rowSequenceShift = 0;
        return shift;
    }

    /// <summary>The first packet of a row of 16 MiB or more: its masked packets start at <paramref name="sequence"/>.</summary>
    public void BeginRowStream(byte sequence)
    {
        (_rowStream ??= new MySqlRowStream(rows, valueLimit)).Begin(_planned ? _shape : MySqlResultShape.None, _command.BinaryRows, sequence);
        StreamingRow = true;
        _packetsIn = 0;
    }

    /// <summary>The next payload bytes of the streaming row (packet headers left out).</summary>
    public RewriteDecision StreamRowBytes(ReadOnlySpan<byte> bytes, RewriteContext context)
    {
        var end = _rowStream!.Write(bytes, context.Forward);
        if (end is not null)
        {
            StreamingRow = false;
        }

        return end ?? RewriteDecision.Replace;
    }

    /// <summary>One of the row's packets ended; after the last (shorter than 0xFFFFFF), the rest of the row goes out.</summary>
    public RewriteDecision EndRowPacket(bool last, RewriteContext context)
    {
        _packetsIn++;
        if (!last)
        {
            return RewriteDecision.Replace;
        }

        StreamingRow = false;
        var end = _rowStream!.Finish(context.Forward);
        _rowSequenceShift += _rowStream.PacketsOut - _packetsIn;
        return end ?? RewriteDecision.Replace;
    }

    private byte[] StatementText()
    {
        if (_command.Command is Command.StmtExecute or Command.StmtFetch)
        {
            lock (_prepared)
            {
                // A statement the gateway did not see prepared reads as unreadable text: strict mode masks its derived columns.
                return _prepared.TryGetValue(_command.StatementId, out var sql) ? sql : "/*"u8.ToArray();
            }
        }

        return _command.Sql;
    }
}
