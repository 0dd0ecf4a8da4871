using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Gatehouse.Protocols.Masking;
using Gatehouse.Protocols.MySql.Masking;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Policy;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Protocols.MySql;

/// <summary>
/// The MySQL session's own rules on the relay (DESIGN §4):
/// commands that would change who the session is or turn it into something else (COM_CHANGE_USER,
/// replication) are refused with an ERR and the session stays usable; KILL reaches only the caller's own
/// sessions, rewritten to the upstream's thread id; a LOCAL INFILE request from the server ends the session,
/// since the gateway never lets a server read the client's files. With a statement guard, every COM_QUERY and
/// COM_STMT_PREPARE is judged by policy first and a refused one is answered with ERR 1142, never forwarded.
/// With a masker, result rows are masked (<see cref="MySqlResultMasker"/>). Everything else streams untouched.
/// </summary>
internal sealed partial class MySqlSessionRewriter : IFrameRewriter, ISessionActivity
{
    private readonly MySqlConnectionRegistry _connections;
    private readonly string _subject;
    private readonly string _upstream;
    private readonly MySqlResponseTracker _responses;
    private volatile bool _awaitingServer;
    private bool _scanContinuation; // a statement goes on past 16 MiB: its continuations are read for KILL too
    private byte[] _tail = []; // the statement's last bytes so far, for a KILL split between packets
    private readonly StatementGuard? _guard;
    private MySqlLongStatement? _long; // a statement of 16 MiB or more, held until whole for the guard
    private readonly MySqlResultMasker? _masker;
    private CatalogNamesWait _catalogNames;
    private readonly bool _watchCatalog;

    /// <param name="onCatalogChange">Without a masker: told when DDL the session ran succeeded, for the masked sessions' shared catalog.</param>
    public MySqlSessionRewriter(MySqlConnectionRegistry connections, string subject, string upstream, bool deprecateEof = true, StatementGuard? guard = null,
        MySqlResultMasker? masker = null, Action? onCatalogChange = null)
    {
        _guard = guard;
        _masker = masker;
        _watchCatalog = masker is null && onCatalogChange is not null;
        _responses = new MySqlResponseTracker(deprecateEof, masker, onCatalogChange);
        _connections = connections;
        _subject = subject;
        _upstream = upstream;
    }

    public bool IsIdle => !_awaitingServer;

    /// <summary>The client sent COM_QUIT: the server closing next is the client's doing.</summary>
    public bool QuitSeen { get; private set; }

    private bool _lastServerPacketIsRow;

    /// <summary>Result rows (text and binary, a fetch's included, and the continuations of a 16 MiB row).</summary>
    public bool IsResultRow(in FrameHeader header) => header.Continuation ? _lastServerPacketIsRow : _responses.Role == PacketRole.Row;

    public FrameInterest OnHeader(Direction direction, in FrameHeader header)
    {
        if (direction == Direction.UpstreamToClient)
        {
            return OnUpstreamHeader(header);
        }

        if (header.Continuation)
        {
            return _scanContinuation || _long is not null ? FrameInterest.Inspect : FrameInterest.Pass;
        }

        switch ((Command)header.Type)
        {
            case Command.Query or Command.StmtPrepare:
            case Command.ProcessKill or Command.ChangeUser or Command.BinlogDump or Command.BinlogDumpGtid or Command.RegisterSlave
                or Command.TableDump or Command.ConnectOut or Command.Connect or Command.Daemon or Command.DelayedInsert or Command.Sleep
                or Command.Shutdown:
                return FrameInterest.Inspect;
            case Command.Quit:
                QuitSeen = true;
                return FrameInterest.Pass;
            case Command.StmtExecute or Command.StmtFetch or Command.StmtClose or Command.ResetConnection when _masker is not null:
                return FrameInterest.Inspect; // the masker follows prepared statements by id
            case Command.StmtClose or Command.StmtSendLongData:
                return FrameInterest.Pass; // no response follows
            case > Command.ResetConnection:
                return FrameInterest.Inspect; // unknown command
            default:
                Expect((Command)header.Type);
                return FrameInterest.Pass;
        }
    }

    private void Expect(Command command, MySqlMaskedCommand? tag = null)
    {
        _responses.Expect(command switch
        {
            Command.StmtPrepare => ResponseKind.Prepare,
            Command.FieldList => ResponseKind.FieldList,
            Command.Statistics => ResponseKind.Statistics,
            Command.StmtFetch => ResponseKind.Fetch,
            _ => ResponseKind.ResultSet,
        }, tag);
        _awaitingServer = true;
    }

    public RewriteDecision OnFrame(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context)
    {
        if (direction == Direction.UpstreamToClient)
        {
            if (_streamFrame)
            {
                return OnRowStreamPacket(header, frame, context);
            }

            var shift = _shift;
            if (_renumberOnly)
            {
                Resequence(frame, shift, context.Forward);
                return RewriteDecision.Replace;
            }

            var decision = OnUpstreamFrame(shift == 0 ? header : header with { Sequence = (byte)(header.Sequence + shift) }, frame, context);
            TakeShift(); // a one-packet row that masking made too long for one packet
            if (shift != 0 && decision.Action == RewriteAction.Pass)
            {
                Resequence(frame, shift, context.Forward);
                return RewriteDecision.Replace;
            }

            return decision;
        }

        if (header.Continuation && _long is not null)
        {
            return OnLongStatementPart(header, frame, context);
        }

        if (!header.Continuation && header.PayloadLength == MySqlFrameDecoder.MaxPayload && _guard is not null
            && (Command)header.Type is Command.Query or Command.StmtPrepare)
        {
            _long = new MySqlLongStatement(header.Type);
            _long.Add(frame, textOffset: 1);
            return RewriteDecision.Drop;
        }

        // Every statement is read here; copied (into a pooled array) only when the packet straddles buffer segments.
        using var body = new ContiguousFrame(frame.Slice(4));
        var payload = body.Span;

        if (header.Continuation)
        {
            // Only a statement that goes on past 16 MiB gets here. What went before is forwarded and cannot be
            // taken back, so a KILL in the rest ends the session.
            byte[] text = [.. _tail, .. payload];
            _scanContinuation = header.PayloadLength == MySqlFrameDecoder.MaxPayload;
            _tail = text[Math.Max(0, text.Length - 4)..];
            return ContainsKillWord(text)
                ? RewriteDecision.End(SessionEndReason.Enforced, "KILL in a statement of 16 MiB or more is not allowed through the gateway")
                : RewriteDecision.Pass;
        }

        if (header.PayloadLength == MySqlFrameDecoder.MaxPayload)
        {
            // The command continues in packets the gateway cannot take back: only an untouched statement may.
            if ((Command)header.Type is not (Command.Query or Command.StmtPrepare) || ContainsKillWord(payload[1..]))
            {
                return RewriteDecision.End(SessionEndReason.Enforced, $"command 0x{header.Type:X2} of 16 MiB or more is not allowed through the gateway");
            }

            _scanContinuation = true;
            _tail = payload[^4..].ToArray();
            Expect((Command)header.Type, Unread((Command)header.Type));
            return RewriteDecision.Pass;
        }

        switch ((Command)header.Type)
        {
            case Command.Query or Command.StmtPrepare:
                return OnStatement(payload, prepared: header.Type == (byte)Command.StmtPrepare, context);
            case Command.ProcessKill:
                return payload.Length == 5 ? Kill(BinaryPrimitives.ReadUInt32LittleEndian(payload[1..]), query: false, context) : Refuse(context, MySqlError.UnknownCommand, "08S01", "malformed COM_PROCESS_KILL");
            case Command.ChangeUser:
                return Refuse(context, MySqlError.NotSupportedYet, "42000", "COM_CHANGE_USER is not allowed through the gateway: reconnect with the identity you need");
            case Command.StmtExecute or Command.StmtFetch when _masker is not null:
                Expect((Command)header.Type, MySqlResultMasker.ForStatementId((Command)header.Type, payload));
                return RewriteDecision.Pass;
            case Command.StmtClose when _masker is not null:
                _masker.OnClose(payload);
                return RewriteDecision.Pass;
            case Command.ResetConnection when _masker is not null:
                _masker.OnResetConnection();
                Expect(Command.ResetConnection);
                return RewriteDecision.Pass;
            default:
                return Refuse(context, MySqlError.UnknownCommand, "08S01", $"command 0x{header.Type:X2} is not allowed through the gateway");
        }
    }

    /// <param name="header">The packet's header, its sequence id already as the client must see it.</param>
    private RewriteDecision OnUpstreamFrame(in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context)
    {
        using var packet = new ContiguousFrame(frame.Slice(4));
        var response = packet.Span;
        switch (_responses.Role)
        {
            case PacketRole.Column or PacketRole.LastColumn:
                return _masker!.OnColumn(response, last: _responses.Role == PacketRole.LastColumn);
            case PacketRole.Row:
                return _masker!.OnRow(header, response, context);
            case PacketRole.FieldListColumn:
                return MySqlFieldListDefaults.Strip(header.Sequence, response, context, _masker!.Counter);
        }

        if (!_responses.OnPacket(response))
        {
            return RewriteDecision.End(SessionEndReason.Enforced, "the upstream asked to read a file from the client (LOAD DATA LOCAL); the gateway does not allow it");
        }

        if (_masker is not null && response.Length > 0 && response[0] == 0xFF)
        {
            return Masking.MySqlErrorMasker.Mask(header.Sequence, response, context.Forward); // an error may quote a value
        }

        return _responses.Role == PacketRole.FieldListColumn && _masker is not null
            ? MySqlFieldListDefaults.Strip(header.Sequence, response, context, _masker.Counter)
            : RewriteDecision.Pass; // the head of a COM_FIELD_LIST answer is its first column definition
    }

    /// <summary>
    /// Every session shares the gateway's database account, so a KILL the server ran as written could name
    /// anyone's thread. Any statement with the word KILL anywhere (after a comment, in a multi-statement, in an
    /// executable comment) must be exactly <c>KILL [QUERY|CONNECTION] id</c>; anything else is refused.
    /// </summary>
    private RewriteDecision OnStatement(ReadOnlySpan<byte> payload, bool prepared, RewriteContext context)
    {
        if (_guard is not null && _catalogNames.Before(_masker?.Planner.CatalogNamesLoading()) is { } hold)
        {
            return hold;
        }

        if (_guard is not null && _guard.Judge(payload[1..]) is { Allowed: false } verdict)
        {
            RefuseByPolicy(context, 1, verdict);
            return RewriteDecision.Drop;
        }

        if (!ContainsKillWord(payload[1..]))
        {
            var command = prepared ? Command.StmtPrepare : Command.Query;
            Expect(command, Tag(command, payload[1..]));
            return RewriteDecision.Pass;
        }

        var text = Encoding.UTF8.GetString(payload[1..]);
        var kill = KillStatement().Match(text);
        if (prepared)
        {
            return Refuse(context, MySqlError.SpecificAccessDenied, "42000", "KILL cannot be prepared through the gateway");
        }

        if (!kill.Success || !uint.TryParse(kill.Groups["id"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            return Refuse(context, MySqlError.SpecificAccessDenied, "42000", "only KILL [QUERY|CONNECTION] <id> of your own sessions is allowed through the gateway");
        }

        return Kill(id, query: kill.Groups["what"].Value.Equals("QUERY", StringComparison.OrdinalIgnoreCase), context);
    }

    /// <summary>Rewrites a KILL of one of the caller's own sessions to the upstream's thread id.</summary>
    private RewriteDecision Kill(uint id, bool query, RewriteContext context)
    {
        if (!_connections.TryResolve(id, _subject, _upstream, out var thread))
        {
            return Refuse(context, MySqlError.UnknownThread, "HY000", $"Unknown thread id: {id}");
        }

        new MySqlPacketWriter().Byte((byte)Command.Query).String(string.Create(CultureInfo.InvariantCulture, $"KILL {(query ? "QUERY" : "CONNECTION")} {thread}"))
            .WriteTo(context.Forward, 0);
        Expect(Command.Query);
        return RewriteDecision.Replace;
    }

    /// <summary>The next packet of a held long statement; after the last one, the whole is judged and forwarded or refused.</summary>
    private RewriteDecision OnLongStatementPart(in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context)
    {
        var statement = _long!;
        statement.Add(frame, textOffset: 0);
        if (header.PayloadLength == MySqlFrameDecoder.MaxPayload)
        {
            return RewriteDecision.Drop;
        }

        _long = null;
        var reply = (byte)(header.Sequence + 1); // the server answers after the client's last packet
        var verdict = statement.TooLarge
            ? _guard!.RefuseUnreadable($"statements over {MySqlLongStatement.MaxBytes / (1024 * 1024)} MiB are not judged, so not forwarded")
            : _guard!.Judge(statement.Text);
        if (!verdict.Allowed)
        {
            RefuseByPolicy(context, reply, verdict);
            return RewriteDecision.Drop;
        }

        if (ContainsKillWord(statement.Text))
        {
            MySqlPacketWriter.Error(context.Reply, reply, MySqlError.SpecificAccessDenied, "42000", "KILL in a statement of 16 MiB or more is not allowed through the gateway");
            return RewriteDecision.Drop;
        }

        context.Forward.Write(statement.Frames);
        Expect((Command)statement.Command, Tag((Command)statement.Command, statement.Text));
        return RewriteDecision.Replace;
    }

    /// <summary>
    /// What a judged statement travels with: for a masked session its text and whether it may change the catalog
    /// (as the guard classified it); for an exempt one only the latter, so masked sessions hear of its DDL.
    /// </summary>
    private MySqlMaskedCommand? Tag(Command command, ReadOnlySpan<byte> sql)
    {
        if (_masker is not null)
        {
            return MySqlResultMasker.ForStatement(command, sql, _guard?.MayChangeCatalog ?? true, _guard?.LastText); // no guard: assume it may
        }

        return _watchCatalog && (_guard?.MayChangeCatalog ?? true) ? MySqlResultMasker.CatalogChange(command) : null;
    }

    /// <summary>A statement forwarded before the gateway could read it whole: strict mode reads it as unreadable text.</summary>
    private MySqlMaskedCommand? Unread(Command command) => _masker is null ? null : MySqlResultMasker.ForStatement(command, "/*"u8, mayChangeCatalog: true);

    /// <summary>ERR 1142 with the rule and reason, as a server refuses a statement the account may not run.</summary>
    private static void RefuseByPolicy(RewriteContext context, byte sequence, in PolicyVerdict verdict) =>
        MySqlPacketWriter.Error(context.Reply, sequence, MySqlError.TableAccessDenied, "42000", StatementGuard.Message(verdict));

    private static RewriteDecision Refuse(RewriteContext context, ushort code, string sqlState, string message)
    {
        MySqlPacketWriter.Error(context.Reply, 1, code, sqlState, message);
        return RewriteDecision.Drop;
    }

    /// <summary>The word KILL, in any case, not part of a longer identifier.</summary>
    internal static bool ContainsKillWord(ReadOnlySpan<byte> text)
    {
        var at = 0;
        while (true)
        {
            var i = text[at..].IndexOfAny((byte)'k', (byte)'K');
            if (i < 0)
            {
                return false;
            }

            i += at;
            if (i + 4 <= text.Length && Ascii.EqualsIgnoreCase(text.Slice(i, 4), "kill"u8)
                && (i == 0 || !IsIdentifierByte(text[i - 1])) && (i + 4 == text.Length || !IsIdentifierByte(text[i + 4])))
            {
                return true;
            }

            at = i + 1;
        }
    }

    private static bool IsIdentifierByte(byte b) => b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9') or (byte)'_' or (byte)'$' or >= 0x80;

    [GeneratedRegex(@"^\s*KILL\s+(?:(?<what>QUERY|CONNECTION)\s+)?(?<id>[0-9]{1,10})\s*;?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex KillStatement();
}
