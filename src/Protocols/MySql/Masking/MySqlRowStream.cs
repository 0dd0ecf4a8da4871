using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Gatehouse.Protocols.Masking;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Protocols.MySql.Masking;

/// <summary>
/// Masks a result row of 16 MiB or more, which MySQL sends as packets of 0xFFFFFF payload bytes and a shorter
/// last one, value by value as the packets' bytes arrive: the same plan and results as
/// <see cref="MySqlRowMasker"/>, for text and binary rows. Every packet but the last must hold exactly 0xFFFFFF
/// bytes, and whether the masked row needs another packet is known only once it has that many: so masked
/// bytes are held one packet at a time (never the whole row) and go out as each packet fills.
/// <para>
/// Masking changes the row's length, so it may take one packet more or fewer than it came in:
/// <see cref="PacketsOut"/> tells the rewriter, which renumbers the rest of the response. A value that must be
/// read whole (partial masking, content detection) is bounded; one past the bound is masked whole (NULL,
/// counted under its rule, or as <c>detector:too-large-to-scan</c>). In a binary row a masked value of a
/// non-string type becomes NULL, a bit in the bitmap at the row's head: a NULL decided by a value's content
/// after the first packet went out cannot be set any more, so that row ends the session.
/// </para>
/// </summary>
internal sealed class MySqlRowStream(MySqlRowMasker rows, long valueLimit)
{
    private const int MaxPayload = MySqlFrameDecoder.MaxPayload;

    private byte[] _out = [];        // the output packet being filled, rented while a row streams
    private int _filled;
    private ArrayBufferWriter<byte> _value = new();
    private byte[] _masked = [];     // a held value's masked text
    private byte[] _head = [];       // a binary row's 0x00 and NULL bitmap, as received
    private readonly byte[] _prefix = new byte[9];
    private int _prefixFilled;
    private int _prefixLength;
    private IncrementalHash? _hmac;

    private MySqlResultShape _shape = MySqlResultShape.None;
    private bool _binary;
    private int _count;
    private int _column;
    private State _state;
    private byte _sequence;
    private bool _headSent;          // the first packet went out: a binary row's bitmap is final
    private long _valueRemaining;
    private StreamedValueMode _mode;
    private MaskAction? _action;

    private enum State : byte { Head, Prefix, Value, Done }

    /// <summary>Packets written for the row so far.</summary>
    public int PacketsOut { get; private set; }

    /// <summary>Starts a row of the given result; its first output packet carries <paramref name="sequence"/>.</summary>
    public void Begin(MySqlResultShape shape, bool binary, byte sequence)
    {
        Release();
        _shape = shape;
        _binary = binary;
        _count = shape.Columns.Length;
        _sequence = sequence;
        _out = ArrayPool<byte>.Shared.Rent(MaxPayload);
        _filled = 0;
        _headSent = false;
        PacketsOut = 0;
        _column = 0;
        _prefixFilled = 0;
        _state = binary ? State.Head : _count == 0 ? State.Done : State.Prefix;
        if (binary)
        {
            _head = new byte[1 + ((_count + 9) / 8)];
        }
    }

    /// <summary>Reads the next bytes of the row's payload (packet headers left out) and writes the packets that filled.</summary>
    public RewriteDecision? Write(ReadOnlySpan<byte> bytes, IBufferWriter<byte> output)
    {
        if (_count == 0)
        {
            return Unplanned();
        }

        while (!bytes.IsEmpty)
        {
            if (Step(ref bytes, output) is { } end)
            {
                return end;
            }
        }

        return null;
    }

    /// <summary>The row's last packet ended: the rest goes out as the last packet (possibly empty).</summary>
    public RewriteDecision? Finish(IBufferWriter<byte> output)
    {
        if (_count == 0)
        {
            return Unplanned();
        }

        while (_state == State.Value && _valueRemaining == 0)
        {
            if (EndValue(output) is { } end)
            {
                return end; // a value of no bytes at the very end (a binary MySQL NULL type, an empty string)
            }
        }

        if (_state != State.Done)
        {
            Release();
            return Malformed();
        }

        WritePacket(output);
        Release();
        return null;
    }

    private RewriteDecision? Step(ref ReadOnlySpan<byte> bytes, IBufferWriter<byte> output)
    {
        switch (_state)
        {
            case State.Head:
                if (!Fill(ref bytes, _head, _head.Length))
                {
                    return null;
                }

                if (_head[0] != 0)
                {
                    return Malformed();
                }

                Emit(_head, output);
                SetStaticNulls(); // in the copy at the head of the first packet; _head keeps what came
                return NextColumn(output);
            case State.Prefix:
                return ReadPrefix(ref bytes, output);
            case State.Value:
                var take = (int)Math.Min(_valueRemaining, bytes.Length); // 0 for a value of no bytes: it ends here
                var part = bytes[..take];
                bytes = bytes[take..];
                _valueRemaining -= take;
                switch (_mode)
                {
                    case StreamedValueMode.Copy:
                        Emit(part, output);
                        break;
                    case StreamedValueMode.Token:
                        _hmac!.AppendData(part);
                        break;
                    case StreamedValueMode.Buffer:
                        _value.Write(part);
                        break;
                }

                return _valueRemaining == 0 ? EndValue(output) : null;
            default:
                return RewriteDecision.End(SessionEndReason.ProtocolViolation, "a result row from the upstream is longer than its columns");
        }
    }

    /// <summary>
    /// Moves to the next column that has bytes (a binary row's NULLs have none). A binary value of fixed size
    /// has no prefix: it starts at once (a value of no bytes ends in the next step, not here, so a row of many
    /// such columns never recurses).
    /// </summary>
    private RewriteDecision? NextColumn(IBufferWriter<byte> output)
    {
        while (_column < _count && _binary && MySqlRowMasker.IsNullInBitmap(_head, _column))
        {
            _column++;
        }

        _state = _column == _count ? State.Done : State.Prefix;
        _prefixFilled = 0;
        if (_state == State.Prefix && _binary && MySqlRowMasker.FixedLength(_shape.Columns[_column].Column.Type) is var fixedLength and >= 0)
        {
            _prefixLength = 0;
            return StartValue(fixedLength, output);
        }

        return null;
    }

    /// <summary>A value's length prefix, byte by byte: it may straddle packets and parts.</summary>
    private RewriteDecision? ReadPrefix(ref ReadOnlySpan<byte> bytes, IBufferWriter<byte> output)
    {
        _prefix[_prefixFilled++] = bytes[0];
        bytes = bytes[1..];
        var first = _prefix[0];
        var type = _shape.Columns[_column].Column.Type;
        if (_binary && MySqlRowMasker.IsTemporal(type))
        {
            _prefixLength = 1; // dates and times: one length byte
            return StartValue(first, output);
        }

        if (_binary && !MySqlRowMasker.IsLengthEncoded(type))
        {
            return RewriteDecision.End(SessionEndReason.ProtocolViolation, $"a binary result row holds a value of type {(byte)type} the gateway cannot read");
        }

        if (first == 0xFB && !_binary)
        {
            Emit([0xFB], output); // a text row's NULL
            _column++;
            return NextColumn(output);
        }

        var needed = first switch
        {
            < 0xFB => 1,
            0xFC => 3,
            0xFD => 4,
            0xFE => 9,
            _ => -1,
        };
        if (needed < 0)
        {
            return Malformed();
        }

        if (_prefixFilled < needed)
        {
            return null;
        }

        _prefixLength = needed;
        var length = needed switch
        {
            1 => first,
            3 => BinaryPrimitives.ReadUInt16LittleEndian(_prefix.AsSpan(1)),
            4 => _prefix[1] | (_prefix[2] << 8) | (_prefix[3] << 16),
            _ => BinaryPrimitives.ReadInt64LittleEndian(_prefix.AsSpan(1)),
        };
        return length < 0 ? Malformed() : StartValue(length, output);
    }

    /// <summary>Decides a value once its length is known; what goes out first is its new length prefix.</summary>
    private RewriteDecision? StartValue(long length, IBufferWriter<byte> output)
    {
        _valueRemaining = length;
        _mode = StreamedValueMode.Copy;
        var plan = _shape.Columns[_column];
        _action = plan.Action;
        if (_action is { } action)
        {
            rows.Counter.Masked(action);
            var strategy = action.Strategy == MaskStrategy.Null || !plan.Column.IsString ? MaskStrategy.Null : action.Strategy;
            if (strategy == MaskStrategy.Partial && length > valueLimit)
            {
                strategy = MaskStrategy.Null; // too large to read whole: replaced whole
            }

            switch (strategy)
            {
                case MaskStrategy.Partial:
                    _mode = StreamedValueMode.Buffer;
                    break;
                case MaskStrategy.Token:
                    _mode = StreamedValueMode.Token;
                    _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, rows.Masking.TokenKey);
                    break;
                case MaskStrategy.Redact:
                    _mode = StreamedValueMode.Skip;
                    EmitValue(action.Replacement, output);
                    break;
                default:
                    _mode = StreamedValueMode.Skip;
                    if (EmitNull(output) is { } endNull)
                    {
                        return endNull;
                    }

                    break;
            }
        }
        else if (plan.Scan && MySqlRowMasker.IsScannable(plan.Column, _binary))
        {
            if (length <= valueLimit)
            {
                _mode = StreamedValueMode.Buffer;
            }
            else
            {
                _action = StreamedValue.TooLargeToScan;
                rows.Counter.Masked(StreamedValue.TooLargeToScan);
                _mode = StreamedValueMode.Skip;
                if (EmitNull(output) is { } end)
                {
                    return end;
                }
            }
        }
        else
        {
            Emit(_prefix.AsSpan(0, _prefixLength), output);
        }

        _state = State.Value; // a value of no bytes ends in the next step: no recursion however many columns
        return null;
    }

    /// <summary>A value's bytes are all read: a token goes out, a held value is masked or scanned.</summary>
    private RewriteDecision? EndValue(IBufferWriter<byte> output)
    {
        RewriteDecision? end = null;
        if (_mode == StreamedValueMode.Token)
        {
            Span<byte> token = stackalloc byte[ValueMasker.TokenLength];
            StreamedValue.FinishToken(ref _hmac, token);
            EmitValue(token, output);
        }
        else if (_mode == StreamedValueMode.Buffer)
        {
            end = EndHeldValue(output);
        }

        _column++;
        return end ?? NextColumn(output);
    }

    private RewriteDecision? EndHeldValue(IBufferWriter<byte> output)
    {
        var value = _value.WrittenSpan;
        var plan = _shape.Columns[_column];
        var action = _action ?? rows.Decide(plan, value, _binary);
        if (action is not null && _action is null)
        {
            rows.Counter.Masked(action);
        }

        RewriteDecision? end;
        if (action is null)
        {
            Emit(_prefix.AsSpan(0, _prefixLength), output);
            Emit(value, output);
            end = null;
        }
        else if (action.Strategy == MaskStrategy.Null || !plan.Column.IsString)
        {
            end = EmitNull(output);
        }
        else
        {
            var most = ValueMasker.MaxLength(action, value.Length);
            _masked = _masked.Length >= most ? _masked : new byte[most];
            var written = ValueMasker.Write(action, value, rows.Masking.TokenKey, _masked);
            end = written < 0 ? EmitNull(output) : null;
            if (written >= 0)
            {
                EmitValue(_masked.AsSpan(0, written), output);
            }
        }

        _value.ResetWrittenCount();
        return end;
    }

    /// <summary>Masked values that become NULL whatever they hold get their bit before the head goes out.</summary>
    private void SetStaticNulls()
    {
        for (var i = 0; i < _count; i++)
        {
            var plan = _shape.Columns[i];
            if (plan.Action is { } action && (action.Strategy == MaskStrategy.Null || !plan.Column.IsString))
            {
                _out[1 + ((i + 2) >> 3)] |= (byte)(1 << ((i + 2) & 7));
                _nullSet ??= new bool[_count];
                _nullSet[i] = true;
            }
        }
    }

    private bool[]? _nullSet; // binary: columns whose NULL bit this row's head already carries (their bytes still follow)

    /// <summary>A masked value that is NULL: a text row says so in place, a binary row in its head.</summary>
    private RewriteDecision? EmitNull(IBufferWriter<byte> output)
    {
        if (!_binary)
        {
            Emit([0xFB], output);
            return null;
        }

        if (_nullSet is { } set && set[_column])
        {
            return null;
        }

        if (_headSent)
        {
            return RewriteDecision.End(SessionEndReason.Enforced,
                "a binary result row of 16 MiB or more whose content made a value NULL after its first packet went out cannot be masked, so the gateway does not pass it");
        }

        _out[1 + ((_column + 2) >> 3)] |= (byte)(1 << ((_column + 2) & 7)); // the head is at the start of the first packet
        return null;
    }

    /// <summary>A string value with its length prefix.</summary>
    private void EmitValue(ReadOnlySpan<byte> value, IBufferWriter<byte> output)
    {
        Span<byte> prefix = stackalloc byte[9];
        var length = MySqlRowMasker.WriteLengthEncoded(prefix, (ulong)value.Length);
        Emit(prefix[..length], output);
        Emit(value, output);
    }

    /// <summary>Appends to the packet being filled; a packet that fills goes out at once.</summary>
    private void Emit(ReadOnlySpan<byte> bytes, IBufferWriter<byte> output)
    {
        while (!bytes.IsEmpty)
        {
            var take = Math.Min(bytes.Length, MaxPayload - _filled);
            bytes[..take].CopyTo(_out.AsSpan(_filled));
            _filled += take;
            bytes = bytes[take..];
            if (_filled == MaxPayload)
            {
                WritePacket(output);
            }
        }
    }

    private void WritePacket(IBufferWriter<byte> output)
    {
        var span = output.GetSpan(4 + _filled);
        MySqlPacketWriter.Header(span, _filled, _sequence++);
        _out.AsSpan(0, _filled).CopyTo(span[4..]);
        output.Advance(4 + _filled);
        _filled = 0;
        _headSent = true;
        PacketsOut++;
    }

    private bool Fill(ref ReadOnlySpan<byte> bytes, byte[] target, int needed)
    {
        var take = Math.Min(needed - _prefixFilled, bytes.Length);
        bytes[..take].CopyTo(target.AsSpan(_prefixFilled));
        bytes = bytes[take..];
        _prefixFilled += take;
        if (_prefixFilled < needed)
        {
            return false;
        }

        _prefixFilled = 0;
        return true;
    }

    /// <summary>Gives back the packet buffer and what a large held value took, so an idle session keeps no big buffer.</summary>
    private void Release()
    {
        if (_out.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_out);
            _out = [];
        }

        _hmac?.Dispose(); // a row that ended the session mid-token
        _hmac = null;
        _nullSet = null;
        _value = _value.Capacity > 64 * 1024 ? new ArrayBufferWriter<byte>() : _value;
        _masked = _masked.Length > 64 * 1024 ? [] : _masked;
        _value.ResetWrittenCount();
    }

    private static RewriteDecision Unplanned()
        => RewriteDecision.End(SessionEndReason.Enforced, "result rows arrived whose columns the gateway does not know, so it does not pass them");

    private static RewriteDecision Malformed() => RewriteDecision.End(SessionEndReason.ProtocolViolation, "a result row from the upstream is malformed");
}
