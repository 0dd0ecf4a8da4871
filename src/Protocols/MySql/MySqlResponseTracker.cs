using System.Buffers.Binary;
using System.Collections.Concurrent;
using Gatehouse.Protocols.MySql.Masking;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Protocols.MySql;

/// <summary>What shape of answer a command gets (MySQL internals, "Command Phase").</summary>
internal enum ResponseKind : byte
{
    /// <summary>OK, ERR, EOF, or a result set; a result set may be followed by more (SERVER_MORE_RESULTS_EXISTS).</summary>
    ResultSet,
    /// <summary>COM_STMT_PREPARE: a prepare-OK, then parameter and column definitions.</summary>
    Prepare,
    /// <summary>COM_FIELD_LIST: column definitions up to an EOF.</summary>
    FieldList,
    /// <summary>COM_STATISTICS: one string.</summary>
    Statistics,
    /// <summary>COM_STMT_FETCH: rows up to a terminator.</summary>
    Fetch,
}

/// <summary>
/// Follows the server's answers packet by packet so the gateway knows which packet opens a response. Only
/// there does 0xFB mean "send me a local file" (in a row it is a NULL column), including the head of a later
/// result in a multi-result answer, and after any number of sequence-id wraps. Commands are queued by the
/// client direction and answered in order, so pipelined commands are followed too. Rows stream untouched:
/// only heads and terminators, a few bytes each, are read. With a masker, column definitions are read too,
/// and rows whenever the masker has work for them; <see cref="Role"/> tells the rewriter which a packet is.
/// </summary>
/// <param name="onCatalogChange">Without a masker: called on the OK of a statement tagged as one that may change the catalog.</param>
internal sealed class MySqlResponseTracker(bool deprecateEof, MySqlResultMasker? masker = null, Action? onCatalogChange = null)
{
    private const ushort MoreResultsExists = 0x0008;
    private const ushort CursorExists = 0x0040;

    private readonly ConcurrentQueue<(ResponseKind Kind, MySqlMaskedCommand? Command)> _pending = new();
    private State _state;
    private long _remaining;

    /// <summary>What the packet whose header was read last is, for the masker.</summary>
    public PacketRole Role { get; private set; }

    /// <summary>Responses ended so far (a response renumbered after a streamed row ends its renumbering).</summary>
    public long ResponsesDone { get; private set; }

    private enum State : byte
    {
        Head,
        Columns,
        ColumnsEof,
        Rows,
        Definitions,
        FieldList,
    }

    /// <summary>Called by the client direction for each forwarded command that the server answers.</summary>
    public void Expect(ResponseKind kind, MySqlMaskedCommand? command = null) => _pending.Enqueue((kind, command));

    /// <summary>Decides from the header whether the packet's bytes are needed.</summary>
    public FrameInterest OnHeader(in FrameHeader header)
    {
        Role = PacketRole.Other;
        if (header.Continuation)
        {
            return FrameInterest.Pass;
        }

        switch (_state)
        {
            case State.Head:
                if (header.Type == 0x00 && _pending.TryPeek(out var head) && head.Kind == ResponseKind.Fetch)
                {
                    // A cursor's first row is the head of the fetch's answer: a row (the masker reads it as one).
                    masker?.OnFetch(head.Command);
                    _state = State.Rows;
                    Role = PacketRole.Row;
                    return masker is { RowsHaveWork: true } ? FrameInterest.Inspect : FrameInterest.Pass;
                }

                // Heads are small (OK, ERR, a column count, a prepare-OK, a file name); an unsolicited 0xFB is
                // read too, so a file request can never slip through outside a response.
                return _pending.IsEmpty && header.Type != 0xFB ? FrameInterest.Pass : FrameInterest.Inspect;
            case State.Columns:
                Role = _remaining == 1 ? PacketRole.LastColumn : PacketRole.Column;
                if (--_remaining == 0)
                {
                    _state = deprecateEof ? State.Rows : State.ColumnsEof;
                }

                return masker is null ? FrameInterest.Pass : FrameInterest.Inspect;
            case State.Definitions:
                if (--_remaining == 0)
                {
                    Done();
                }

                return FrameInterest.Pass;
            case State.FieldList:
                if (header.Type == 0xFF || (header.Type == 0xFE && header.PayloadLength < 9))
                {
                    Done();
                    return FrameInterest.Pass;
                }

                Role = PacketRole.FieldListColumn;
                return masker is null ? FrameInterest.Pass : FrameInterest.Inspect;
            case State.ColumnsEof:
                return FrameInterest.Inspect;
            default:
                if (IsTerminator(header))
                {
                    return FrameInterest.Inspect;
                }

                Role = PacketRole.Row;
                return masker is { RowsHaveWork: true } ? FrameInterest.Inspect : FrameInterest.Pass;
        }
    }

    /// <summary>Reads an inspected packet; false when it asks for a local file.</summary>
    public bool OnPacket(ReadOnlySpan<byte> payload)
    {
        var first = payload.IsEmpty ? (byte)0 : payload[0];
        switch (_state)
        {
            case State.Head:
                if (first == 0xFB)
                {
                    return false;
                }

                if (!_pending.TryPeek(out var pending))
                {
                    return true;
                }

                OnHead(pending.Kind, pending.Command, first, payload);
                return true;
            case State.ColumnsEof:
                if (first == 0xFF)
                {
                    Done();
                }
                else
                {
                    // Columns then EOF; with a cursor open, rows come later through COM_STMT_FETCH.
                    var status = payload.Length >= 5 ? BinaryPrimitives.ReadUInt16LittleEndian(payload[3..]) : (ushort)0;
                    if ((status & CursorExists) != 0)
                    {
                        Done();
                    }
                    else
                    {
                        _state = State.Rows;
                    }
                }

                return true;
            default:
                OnTerminator(first, payload);
                return true;
        }
    }

    private void OnHead(ResponseKind kind, MySqlMaskedCommand? command, byte first, ReadOnlySpan<byte> payload)
    {
        if (first == 0xFF)
        {
            Done();
            return;
        }

        switch (kind)
        {
            case ResponseKind.Statistics:
                Done();
                return;
            case ResponseKind.Prepare:
                if (payload.Length >= 5)
                {
                    masker?.OnPrepared(command, BinaryPrimitives.ReadUInt32LittleEndian(payload[1..]));
                }

                var columns = payload.Length >= 9 ? BinaryPrimitives.ReadUInt16LittleEndian(payload[5..]) : 0;
                var parameters = payload.Length >= 9 ? BinaryPrimitives.ReadUInt16LittleEndian(payload[7..]) : 0;
                _remaining = parameters + columns + (deprecateEof ? 0 : (parameters > 0 ? 1 : 0) + (columns > 0 ? 1 : 0));
                if (_remaining == 0)
                {
                    Done();
                }
                else
                {
                    _state = State.Definitions;
                }

                return;
            case ResponseKind.FieldList:
                if (first == 0xFE)
                {
                    Done();
                }
                else
                {
                    _state = State.FieldList; // this packet was the first column definition
                    Role = PacketRole.FieldListColumn;
                }

                return;
            case ResponseKind.Fetch:
                if (first == 0xFE && payload.Length < MySqlFrameDecoder.MaxPayload)
                {
                    OnTerminator(first, payload);
                }
                else
                {
                    _state = State.Rows;
                }

                return;
        }

        if (first == 0x00)
        {
            masker?.OnOk(command);
            if (masker is null && command is { MayChangeCatalog: true })
            {
                onCatalogChange?.Invoke();
            }

            MoreOrDone(OkStatus(payload));
            return;
        }

        if (first == 0xFE)
        {
            MoreOrDone(payload.Length >= 5 ? BinaryPrimitives.ReadUInt16LittleEndian(payload[3..]) : (ushort)0);
            return;
        }

        // A column count: that many definitions follow.
        var reader = new MySqlPayloadReader(payload);
        if (reader.TryLengthEncoded(out var count) && count > 0)
        {
            _remaining = (long)Math.Min(count, int.MaxValue);
            _state = State.Columns;
            masker?.OnResultHead(command);
        }
        else
        {
            Done();
        }
    }

    private void OnTerminator(byte first, ReadOnlySpan<byte> payload)
    {
        if (first == 0xFF)
        {
            Done();
            return;
        }

        // EOF: 0xFE, warnings, status. With DEPRECATE_EOF an OK packet with a 0xFE header takes its place.
        var status = deprecateEof ? OkStatus(payload) : payload.Length >= 5 ? BinaryPrimitives.ReadUInt16LittleEndian(payload[3..]) : (ushort)0;
        MoreOrDone(status);
    }

    private void MoreOrDone(ushort status)
    {
        if ((status & MoreResultsExists) != 0)
        {
            _state = State.Head; // the same command's next result: its head is read like the first
        }
        else
        {
            Done();
        }
    }

    private static ushort OkStatus(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload);
        return reader.TrySkip(1) && reader.TryLengthEncoded(out _) && reader.TryLengthEncoded(out _) && reader.TryUInt16(out var status) ? status : (ushort)0;
    }

    private bool IsTerminator(in FrameHeader header)
        => header.Type == 0xFF || (header.Type == 0xFE && (deprecateEof ? header.PayloadLength < MySqlFrameDecoder.MaxPayload : header.PayloadLength < 9));

    private void Done()
    {
        ResponsesDone++;
        _pending.TryDequeue(out _);
        _state = State.Head;
        masker?.Counter.Flush();
    }
}

/// <summary>What one packet of an answer is, as far as the masker cares.</summary>
internal enum PacketRole : byte
{
    Other,
    Column,
    /// <summary>The last column definition of a result: its rows can be planned now.</summary>
    LastColumn,
    Row,
    /// <summary>A column definition answering COM_FIELD_LIST, its default value last.</summary>
    FieldListColumn,
}
