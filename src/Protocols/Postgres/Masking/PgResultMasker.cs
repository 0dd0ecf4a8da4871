using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// Masks result rows of one PostgreSQL session (DESIGN §6). It follows the conversation both ways: requests
/// are queued as the client sends them, and each server message is matched to the request it answers (55.2),
/// so a DataRow is planned by the RowDescription of its own query, or of the prepared statement behind its
/// portal. Every Parse is followed by a Describe the gateway injects (and whose answer it keeps to itself),
/// so rows of statements the client never described still have a known shape. Rows of an unknown shape are
/// masked whole. COPY TO STDOUT is masked too, in a simple Query or behind an Execute's portal: its columns are
/// those of the equivalent SELECT, described on the gateway's own connection; a COPY that cannot be described
/// there has every value sent as NULL (with a warning), and one whose options the gateway cannot read ends the
/// session, rather than pass data the gateway cannot attribute.
/// </summary>
/// <param name="rowHoldLimit">The relay's inspection limit: a DataRow over it is masked as it streams, holding at most this much.</param>
internal sealed partial class PgResultMasker(PgColumnPlanner planner, PgRowMasker rows, long rowHoldLimit = 16 * 1024 * 1024)
{
    private PgRowStream? _rowStream;
    private PgMessageStream? _parts;
    private readonly Lock _lock = new();
    private readonly Queue<PgPending> _pending = new();
    private readonly Dictionary<string, PgStatementInfo> _statements = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Portal> _portals = new(StringComparer.Ordinal);
    private readonly PgCursors _cursors = new();
    private bool _skippingToSync; // under _lock: an extended error drained the queue, and the server discards until the client's Sync
    private string? _lostTrack; // the server answered what no queued request asks for: answers can no longer be matched
    private PgResultShape? _current;
    private bool _holding;
    private int _completedInQuery; // statements of the current simple Query answered so far: which one a COPY is
    private Task<PgResultShape?>? _copyPlan;
    private PgCopyStatement? _copyStatement;
    private PgCopyMasker? _copy;

    /// <summary>The masked session's own check on what a statement stores (<see cref="PgColumnPlanner.FindStore"/>).</summary>
    public PgColumnPlanner Planner => planner;

    /// <summary>The session's masked-value counts: flushed to the shared metrics as each response ends, and by the session at its end.</summary>
    public MaskingCounter Counter => rows.Counter;

    // ----- client to upstream -----

    public static bool InspectsRequest(byte type) => type is (byte)FrontendCode.Query or (byte)FrontendCode.Parse or (byte)FrontendCode.Bind
        or (byte)FrontendCode.Describe or (byte)FrontendCode.Execute or (byte)FrontendCode.Close;

    /// <summary>Requests without a body worth reading are queued from the header alone.</summary>
    public void OnRequestHeader(byte type)
    {
        if (type == (byte)FrontendCode.Sync)
        {
            Enqueue(new PgPending(PgPendingKind.Sync));
        }
        else if (type is (byte)FrontendCode.CopyData or (byte)FrontendCode.CopyDone or (byte)FrontendCode.CopyFail)
        {
            NoteCopyInput(type);
        }
        else if (type == (byte)FrontendCode.FunctionCall)
        {
            Enqueue(new PgPending(PgPendingKind.FunctionCall));
        }
    }

    /// <summary>Queues an inspected request; a Parse gets the gateway's own Describe appended (returns true when it wrote the frame).</summary>
    /// <param name="judged">The text the statement gate judged last, reused when it is this request's (<see cref="Proxy.Core.Policy.StatementGuard.TextOf"/>).</param>
    public bool OnRequest(byte type, ReadOnlySpan<byte> body, in ReadOnlySequence<byte> frame, RewriteContext context, bool replaced, byte[]? judged = null)
    {
        var reader = new PgSpanReader(body);
        switch (type)
        {
            case (byte)FrontendCode.Query:
                var queryEnd = body.IndexOf((byte)0); // the server reads a C string
                Enqueue(new PgPending(PgPendingKind.Query, Sql: Proxy.Core.Policy.StatementGuard.TextOf(queryEnd < 0 ? body : body[..queryEnd], judged)));
                return false;
            case (byte)FrontendCode.Parse when reader.TryReadCString(out var name):
                var sqlEnd = reader.Rest.IndexOf((byte)0);
                var sql = Proxy.Core.Policy.StatementGuard.TextOf(sqlEnd < 0 ? reader.Rest : reader.Rest[..sqlEnd], judged);
                Enqueue(new PgPending(PgPendingKind.Parse, name, Sql: sql));
                Enqueue(new PgPending(PgPendingKind.DescribeStatement, name, Injected: true));
                if (!replaced)
                {
                    foreach (var segment in frame)
                    {
                        context.Forward.Write(segment.Span);
                    }
                }

                PgWriter.Describe(context.Forward, (byte)'S', name);
                return true;
            case (byte)FrontendCode.Bind when reader.TryReadCString(out var portal) && reader.TryReadCString(out var statement):
                Enqueue(new PgPending(PgPendingKind.Bind, portal, statement, Formats: ResultFormats(reader.Rest)));
                return false;
            case (byte)FrontendCode.Describe when reader.TryReadByte(out var target) && reader.TryReadCString(out var described):
                Enqueue(new PgPending(target == (byte)'S' ? PgPendingKind.DescribeStatement : PgPendingKind.DescribePortal, described));
                return false;
            case (byte)FrontendCode.Execute when reader.TryReadCString(out var executed):
                Enqueue(new PgPending(PgPendingKind.Execute, executed));
                return false;
            case (byte)FrontendCode.Close when reader.TryReadByte(out var closeTarget) && reader.TryReadCString(out var closed):
                Enqueue(new PgPending(PgPendingKind.Close, closed, Target: closeTarget));
                return false;
            default:
                return false; // malformed: the server rejects it with an error, which drains the queue to Sync
        }
    }

    // ----- upstream to client -----

    public FrameInterest OnResponseHeader(byte type)
    {
        switch (type)
        {
            case (byte)BackendCode.DataRow:
                return CurrentShape().HasWork ? FrameInterest.Inspect : FrameInterest.Pass;
            case (byte)BackendCode.CopyData:
                return _copy is { HasWork: true } ? FrameInterest.Inspect : FrameInterest.Pass;
            case (byte)BackendCode.RowDescription or (byte)BackendCode.ParameterDescription or (byte)BackendCode.NoData
                or (byte)BackendCode.CommandComplete or (byte)BackendCode.CopyOutResponse or (byte)BackendCode.CopyBothResponse:
                return FrameInterest.Inspect;
            case (byte)BackendCode.ParseComplete:
                if (!TryDequeue(PgPendingKind.Parse, out var parse))
                {
                    return LoseTrack("a ParseComplete");
                }

                _statements[parse.Name] = new PgStatementInfo(parse.Sql!);
                break;
            case (byte)BackendCode.BindComplete:
                if (!TryDequeue(PgPendingKind.Bind, out var bind))
                {
                    return LoseTrack("a BindComplete");
                }

                _portals[bind.Name] = _statements.TryGetValue(bind.Statement, out var s) ? Bound(s, bind.Formats ?? [], bind.Name) : new Portal(PgResultShape.Unknown, null);
                break;
            case (byte)BackendCode.CloseComplete:
                if (!TryDequeue(PgPendingKind.Close, out var close))
                {
                    return LoseTrack("a CloseComplete");
                }

                _ = close.Target == (byte)'S' ? _statements.Remove(close.Name) : _portals.Remove(close.Name);
                break;
            case (byte)BackendCode.PortalSuspended or (byte)BackendCode.EmptyQueryResponse:
                _current = null;
                TryDequeue(PgPendingKind.Execute, out _);
                break;
            case (byte)BackendCode.NoticeResponse:
                NoteMessageStatement();
                break;
            case (byte)BackendCode.CopyInResponse:
                OnCopyInResponse();
                break;
            case (byte)BackendCode.ErrorResponse:
                CopyInEnded();
                NoteMessageStatement(); // before the drain below forgets what it answers
                _current = null;
                _copy = null;
                _completedInQuery++;
                DrainAfterError();
                break;
            case (byte)BackendCode.ReadyForQuery:
                if (!Peek(out var ready) || !ready.EndsAtReady)
                {
                    return LoseTrack("a ReadyForQuery"); // every request before a Sync is answered (or discarded) before its ReadyForQuery
                }

                _cursors.Changed(); // a cursor may have closed with the transaction, and another opened under its name
                _current = null;
                _copy = null;
                _completedInQuery = 0;
                DequeueThroughReady();
                rows.Counter.Flush();
                break;
        }

        return FrameInterest.Pass;
    }

    /// <summary>Whether a message too large to inspect whole can be masked as it streams: a DataRow and a COPY row can.</summary>
    public bool BeginParts(byte type)
    {
        if (type == (byte)BackendCode.DataRow)
        {
            (_rowStream ??= new PgRowStream(rows, rowHoldLimit)).Begin(CurrentShape());
            _parts = _rowStream;
            return true;
        }

        if (type == (byte)BackendCode.CopyData && _copy is not null)
        {
            _parts = _copy.BeginStream(rowHoldLimit);
            return true;
        }

        return false;
    }

    public RewriteDecision OnResponsePart(in ReadOnlySequence<byte> part, bool final, RewriteContext context)
        => _parts!.Write(part, final, context.Forward);

    /// <summary>A whole DataRow frame, header included (the common case, in one segment, without slicing the sequence).</summary>
    public RewriteDecision OnDataRow(in ReadOnlySequence<byte> frame, int headerLength, RewriteContext context)
    {
        if (frame.IsSingleSegment)
        {
            return MaskRow(frame.FirstSpan[headerLength..], context);
        }

        using var body = new ContiguousFrame(frame.Slice(headerLength));
        return MaskRow(body.Span, context);
    }

    private RewriteDecision MaskRow(ReadOnlySpan<byte> body, RewriteContext context)
    {
        if (rows.TryMask(body, CurrentShape(), context.Forward, out var malformed))
        {
            return RewriteDecision.Replace;
        }

        return malformed ? RewriteDecision.End(SessionEndReason.ProtocolViolation, "malformed DataRow from the upstream") : RewriteDecision.Pass;
    }

    public RewriteDecision OnResponse(byte type, ReadOnlySpan<byte> body, RewriteContext context)
    {
        if (_lostTrack is { } lost)
        {
            return RewriteDecision.End(SessionEndReason.ProtocolViolation, lost);
        }

        switch (type)
        {
            case (byte)BackendCode.DataRow:
                return MaskRow(body, context);
            case (byte)BackendCode.RowDescription:
                return OnRowDescription(body);
            case (byte)BackendCode.ParameterDescription:
                return Peek(out var head) && head is { Kind: PgPendingKind.DescribeStatement, Injected: true } ? RewriteDecision.Drop : RewriteDecision.Pass;
            case (byte)BackendCode.NoData:
                if (Peek(out var described) && described.Kind is PgPendingKind.DescribeStatement or PgPendingKind.DescribePortal)
                {
                    Dequeue();
                    if (described.Kind == PgPendingKind.DescribeStatement && _statements.TryGetValue(described.Name, out var st))
                    {
                        // No rows, as described at Parse; rows that come anyway (a FETCH from a cursor opened
                        // later) are masked whole rather than passed under a plan of no columns.
                        st.Shape = PgResultShape.Unknown;
                    }

                    return described.Injected ? RewriteDecision.Drop : RewriteDecision.Pass;
                }

                return RewriteDecision.Pass;
            case (byte)BackendCode.CommandComplete:
                if (!Peek(out var completed) || completed.Kind is not (PgPendingKind.Query or PgPendingKind.Execute))
                {
                    LoseTrack("a CommandComplete");
                    return RewriteDecision.End(SessionEndReason.ProtocolViolation, _lostTrack!);
                }

                OnCommandComplete(body);
                return RewriteDecision.Pass;
            case (byte)BackendCode.ReadyForQuery:
                if (body is [(byte)'I'])
                {
                    // Out of any transaction: its portals and cursors are gone, but for cursors declared WITH HOLD.
                    _cursors.TransactionEnded();
                    _portals.Clear();
                }

                return RewriteDecision.Pass;
            case (byte)BackendCode.CopyData:
                return _copy!.TryMask(body, context.Forward)
                    ? RewriteDecision.Replace
                    : RewriteDecision.End(SessionEndReason.ProtocolViolation, "a COPY row from the upstream does not parse as its COPY statement says");
            case (byte)BackendCode.CopyOutResponse:
                return OnCopyOut(body, context.Forward);
            default: // CopyBothResponse: replication streams are no result the gateway can attribute
                return RewriteDecision.End(SessionEndReason.Enforced, "COPY BOTH (replication) is not available in a masked session");
        }
    }

    private RewriteDecision OnCopyOut(ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        if (_copyPlan is null)
        {
            // A simple Query's statement at hand, or the statement behind an Execute's portal (extended protocol).
            var statement = !Peek(out var head) ? default
                : head.Kind == PgPendingKind.Query ? StatementAt(head.Sql, _completedInQuery)
                : head.Kind == PgPendingKind.Execute && _portals.TryGetValue(head.Name, out var bound) && bound.Sql is { } sql ? sql
                : default;
            if (statement.IsEmpty || PgCopyStatement.TryRead(statement) is not { } copy)
            {
                return RewriteDecision.End(SessionEndReason.Enforced,
                    "this COPY TO STDOUT cannot be masked (only COPY with options the gateway reads is): the gateway does not pass data it cannot attribute");
            }

            _copyStatement = copy;
            _copyPlan = PlanCopyAsync(copy, statement.ToArray());
            return RewriteDecision.Hold(_copyPlan);
        }

        var shape = _copyPlan.IsCompletedSuccessfully ? _copyPlan.Result : null;
        _copyPlan = null;
        var columns = body.Length >= 3 ? BinaryPrimitives.ReadInt16BigEndian(body[1..]) : (short)-1;
        if (columns < 0)
        {
            return RewriteDecision.End(SessionEndReason.ProtocolViolation, "malformed CopyOutResponse from the upstream");
        }

        if (shape is null || shape.IsUnknown || columns != shape.Columns.Length)
        {
            // Not described on the gateway's connection (a table this session created in its open transaction, a
            // temporary table, a changed search_path): every value goes as the COPY's NULL, and the client is told.
            _copy = new PgCopyMasker(_copyStatement!, Unattributable(columns), rows.Masking, rows, rows.Counter);
            PgWriter.NoticeResponse(output, "WARNING", "01000",
                "gatehouse: the columns of this COPY could not be learned on the gateway's own connection, so every value is sent as NULL",
                hint: "a temporary table, or a table created in this session's open transaction, cannot be described there");
            PgWriter.Message(output, (byte)BackendCode.CopyOutResponse, body);
            return RewriteDecision.Replace;
        }

        _copy = new PgCopyMasker(_copyStatement!, shape, rows.Masking, rows, rows.Counter);
        return RewriteDecision.Pass;
    }

    /// <summary>A plan that masks every one of <paramref name="columns"/> values whole (counted as unattributed).</summary>
    private PgResultShape Unattributable(int columns)
    {
        var format = _copyStatement!.Format == PgCopyFormat.Binary ? (short)1 : (short)0;
        return new PgResultShape(Enumerable.Repeat(new PgColumnPlan(rows.Counter.Unattributed, false, 0, format), columns).ToArray());
    }

    private async Task<PgResultShape?> PlanCopyAsync(PgCopyStatement copy, byte[] statement)
    {
        if (await planner.Catalog.DescribeAsync(copy.DescribeSql).ConfigureAwait(false) is not { } fields)
        {
            return null;
        }

        if (planner.Missing(fields) is { } missing)
        {
            await planner.Catalog.LoadAsync(missing).ConfigureAwait(false);
        }

        if (planner.NeedsFunctions(fields))
        {
            await planner.Catalog.LoadFunctionsAsync().ConfigureAwait(false);
        }

        return planner.Plan(fields, statement).WithFormats([copy.Format == PgCopyFormat.Binary ? (short)1 : (short)0]);
    }

    /// <summary>
    /// The <paramref name="index"/>-th non-empty statement of a simple Query (empty ones get no answer). A ';'
    /// inside parentheses (a rule's actions) splits nothing, as for the server; one in a BEGIN ATOMIC body is
    /// taken as a split (such bodies are not read here), so a COPY after one is looked for in the wrong place,
    /// where text that is no COPY ends the session.
    /// </summary>
    private static ReadOnlySpan<byte> StatementAt(ReadOnlySpan<byte> sql, int index)
    {
        var lexer = new Sql.PgLexer(sql);
        var start = 0;
        var empty = true;
        var depth = 0;
        for (var t = lexer.Next(); ; t = lexer.Next())
        {
            depth += t.IsPunct('(') ? 1 : t.IsPunct(')') && depth > 0 ? -1 : 0;
            if (t.Kind is Sql.SqlTokenKind.End or Sql.SqlTokenKind.Error || (t.IsPunct(';') && depth == 0))
            {
                var end = t.Kind == Sql.SqlTokenKind.End ? sql.Length : t.Start;
                if (!empty && index-- == 0)
                {
                    return sql[start..end];
                }

                if (t.Kind is Sql.SqlTokenKind.End or Sql.SqlTokenKind.Error)
                {
                    return [];
                }

                start = t.End;
                empty = true;
                continue;
            }

            empty = false;
        }
    }

    private async Task LoadBothAsync(List<uint> relations)
    {
        await planner.Catalog.LoadAsync(relations).ConfigureAwait(false);
        await planner.Catalog.LoadFunctionsAsync().ConfigureAwait(false);
    }

    private RewriteDecision OnRowDescription(ReadOnlySpan<byte> body)
    {
        if (PgField.ParseRowDescription(body) is not { } fields)
        {
            return RewriteDecision.End(SessionEndReason.ProtocolViolation, "malformed RowDescription from the upstream");
        }

        var missing = _holding ? null : planner.Missing(fields);
        var functions = !_holding && planner.NeedsFunctions(fields);
        if (missing is not null || functions)
        {
            _holding = true; // asked again when the catalog answered; the second answer is final whatever it holds
            return RewriteDecision.Hold(missing is null ? planner.Catalog.LoadFunctionsAsync()
                : functions ? LoadBothAsync(missing) : planner.Catalog.LoadAsync(missing));
        }

        _holding = false;
        Peek(out var head);
        switch (head.Kind)
        {
            case PgPendingKind.Query:
                _current = planner.Plan(fields, head.Sql!, CursorReads(head.Sql));
                return RewriteDecision.Pass;
            case PgPendingKind.DescribeStatement:
                Dequeue();
                if (_statements.TryGetValue(head.Name, out var statement))
                {
                    var cursors = CursorReads(statement.Sql);
                    statement.Shape = planner.Plan(fields, statement.Sql, cursors);
                    statement.FetchStamp = cursors == default ? null : _cursors.Stamp; // a FETCH's plan holds while its cursors do
                }

                return head.Injected ? RewriteDecision.Drop : RewriteDecision.Pass;
            case PgPendingKind.DescribePortal:
                Dequeue();
                if (!_portals.TryGetValue(head.Name, out var known))
                {
                    // A cursor DECLARE opened (or a function's refcursor), read through the protocol: planned by its
                    // DECLARE's text, and if the gateway saw none, as reading a sensitive value; held while it is the same cursor.
                    var declared = _cursors.TextOf(head.Name);
                    var plan = planner.Plan(fields, declared ?? [], declared is null ? PgCursorReads.Unseen : default);
                    _portals[head.Name] = new Portal(plan, declared, _cursors.Stamp);
                }
                else if (known.Shape.IsUnknown && known.Sql is { } sql && PgCursors.FetchedNames(sql) is null)
                {
                    _portals[head.Name] = new Portal(planner.Plan(fields, sql), sql); // formats are the portal's own here
                }

                return RewriteDecision.Pass;
            default:
                _current = PgResultShape.Unknown;
                return RewriteDecision.Pass;
        }
    }

    /// <summary>
    /// A CommandComplete tag after which names the catalog resolved may be wrong: DDL (an EXECUTE'd statement reports
    /// its own tag), IMPORT FOREIGN SCHEMA, and DO and CALL, whose code may have run any DDL.
    /// </summary>
    public static bool IsDdl(ReadOnlySpan<byte> tag)
    {
        tag = tag.TrimEnd((byte)0);
        return tag.StartsWith("CREATE"u8) || tag.StartsWith("ALTER"u8) || tag.StartsWith("DROP"u8) || tag.StartsWith("IMPORT FOREIGN SCHEMA"u8)
            || tag.SequenceEqual("DO"u8) || tag.SequenceEqual("CALL"u8);
    }

    private void OnCommandComplete(ReadOnlySpan<byte> body)
    {
        CopyInEnded();
        _current = null;
        _copy = null;
        _cursors.Changed(); // any statement may have run code (a function, a trigger) that closed or opened a cursor
        OnCursorCommand(body);

        _completedInQuery++;
        if (IsDdl(body))
        {
            planner.Catalog.Invalidate(); // a view redefined or a column renamed: names resolved before may be wrong now
        }

        if (Peek(out var head) && head.Kind == PgPendingKind.Execute)
        {
            Dequeue();
        }
    }

    /// <summary>
    /// The server answered something no queued request asks for: the model of the conversation no longer holds,
    /// so no later result could be matched to its statement, and the session ends (fail closed) at this frame.
    /// </summary>
    private FrameInterest LoseTrack(string answer)
    {
        _lostTrack ??= $"{answer} from the upstream answers no request the gateway forwarded: it can no longer tell which statement each result belongs to";
        return FrameInterest.Inspect;
    }

    private PgResultShape CurrentShape()
    {
        if (_current is { } shape)
        {
            return shape;
        }

        _current = Peek(out var head) && head.Kind == PgPendingKind.Execute && _portals.TryGetValue(head.Name, out var portal)
                && (portal.FetchStamp is not { } stamp || stamp == _cursors.Stamp)
            ? portal.Shape
            : PgResultShape.Unknown; // unknown, or reading a cursor that may have changed since its plan
        return _current;
    }

    private void DrainAfterError()
    {
        lock (_lock)
        {
            // In a simple Query (or a FunctionCall) the error ends only the statement. In the extended protocol
            // the server discards every message up to Sync (55.2.3), a Query or FunctionCall among them, so its
            // answers skip them too: stopping at such a Query left it queued, and until 2026-12-07 the next
            // Query's rows were planned by that discarded text (a masked session got reverse(card) past strict
            // mode by sending Parse of bad SQL, then a harmless Query, then Sync).
            if (_pending.TryPeek(out var first) && first.Kind is PgPendingKind.Query or PgPendingKind.FunctionCall)
            {
                return;
            }

            while (_pending.TryPeek(out var head) && head.Kind != PgPendingKind.Sync)
            {
                _pending.Dequeue();
                _copyInsInRequest = 0;
            }

            _skippingToSync = _pending.Count == 0; // what the client sends before its Sync is discarded too
        }
    }

    private void DequeueThroughReady()
    {
        lock (_lock)
        {
            while (_pending.TryDequeue(out var head) && !head.EndsAtReady)
            {
            }

            _copyInsInRequest = 0;
        }
    }

    /// <summary>Queues a request the client sent (client direction), with its place among the client's COPY input.</summary>
    private void Enqueue(in PgPending request)
    {
        var pending = request with { CopyEnds = _copyEndsSent };
        lock (_lock)
        {
            if (_skippingToSync)
            {
                _skippingToSync = pending.Kind != PgPendingKind.Sync;
                if (_skippingToSync)
                {
                    return; // after an extended error the server discards all but Sync
                }
            }

            if (!SwallowedByCopy(pending))
            {
                _pending.Enqueue(pending);
            }
        }
    }

    private bool Peek(out PgPending head)
    {
        lock (_lock)
        {
            return _pending.TryPeek(out head);
        }
    }

    private void Dequeue()
    {
        lock (_lock)
        {
            _pending.TryDequeue(out _);
            _copyInsInRequest = 0;
        }
    }

    private bool TryDequeue(PgPendingKind kind, out PgPending pending)
    {
        lock (_lock)
        {
            if (_pending.TryPeek(out pending) && pending.Kind == kind)
            {
                _pending.Dequeue();
                _copyInsInRequest = 0;
                return true;
            }

            return false;
        }
    }

    private static short[] ResultFormats(ReadOnlySpan<byte> rest)
    {
        // Bind after the names: parameter formats, parameter values, then the result formats (55.7).
        if (rest.Length < 2)
        {
            return [];
        }

        var at = 2 + (2 * BinaryPrimitives.ReadInt16BigEndian(rest));
        if (rest.Length < at + 2)
        {
            return [];
        }

        var parameters = BinaryPrimitives.ReadInt16BigEndian(rest[at..]);
        at += 2;
        for (var i = 0; i < parameters && rest.Length >= at + 4; i++)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(rest[at..]);
            at += 4 + Math.Max(length, 0);
        }

        if (rest.Length < at + 2)
        {
            return [];
        }

        var count = BinaryPrimitives.ReadInt16BigEndian(rest[at..]);
        at += 2;
        var formats = new short[Math.Max((int)count, 0)];
        for (var i = 0; i < formats.Length && rest.Length >= at + 2; i++, at += 2)
        {
            formats[i] = BinaryPrimitives.ReadInt16BigEndian(rest[at..]);
        }

        return formats;
    }
}
