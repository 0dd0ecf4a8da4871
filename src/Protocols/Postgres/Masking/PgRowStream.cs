using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Gatehouse.Protocols.Masking;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// Masks a DataRow too large to hold whole (a document or image beside a card number) column by column as its
/// parts arrive, with the same plan and results as <see cref="PgRowMasker"/>; a binary COPY tuple too (a
/// DataRow body in a CopyData, the first one behind the file header). The row's length leads the
/// message, so output is held only until every column that masking can change has been read (a masked value
/// is skipped, not held; a token is hashed as it streams); from there on each part goes out as it comes.
/// <para>
/// Held bytes and a value that must be read whole (partial masking, content detection) share one bound. A
/// value past it is masked whole (NULL, counted under its rule, or <c>detector:too-large-to-scan</c>); a row
/// whose held part passes it (a huge unmasked column before a masked one) ends the session: the gateway can
/// neither hold it nor forward it unmasked.
/// </para>
/// </summary>
internal sealed class PgRowStream(PgRowMasker rows, long holdLimit) : PgMessageStream(holdLimit)
{
    private readonly byte[] _small = new byte[19];
    private IncrementalHash? _hmac;

    private PgResultShape _shape = PgResultShape.Unknown;
    private State _state;
    private int _smallFilled;
    private int _count;
    private int _column;
    private int _lastChanging;   // the last column whose output length may differ from its input's
    private int _settledThrough; // the last column whose output length is known
    private bool _whole;
    private bool _copyTuple;     // a binary COPY tuple, not a DataRow
    private bool _fileHeader;    // a binary COPY's first tuple, behind the file header
    private byte _type;
    private long _remaining;     // body bytes still to come after what was read
    private long _delta;         // output bytes minus input bytes so far
    private long _valueRemaining;
    private StreamedValueMode _mode;
    private MaskAction? _action;
    private PgColumnPlan _plan;

    private enum State : byte { Header, FileHeader, Extension, Count, Length, Value, Done }

    /// <summary>Starts a row of the given result shape.</summary>
    public void Begin(PgResultShape shape) => Begin(shape, copyTuple: false, fileHeader: false);

    /// <summary>Starts a binary COPY tuple; the first one comes behind the file header, which goes out as it came.</summary>
    public void BeginCopyTuple(PgResultShape shape, bool fileHeader) => Begin(shape, copyTuple: true, fileHeader);

    private void Begin(PgResultShape shape, bool copyTuple, bool fileHeader)
    {
        _shape = shape;
        _copyTuple = copyTuple;
        _fileHeader = fileHeader;
        _hmac?.Dispose(); // a row that ended the session mid-token
        _hmac = null;
        _state = State.Header;
        _smallFilled = 0;
        _delta = 0;
        Restart();
    }

    protected override bool Done => _state == State.Done;

    protected override string RowKind => _copyTuple ? "COPY" : "result";

    protected override RewriteDecision? Step(ref ReadOnlySpan<byte> span, IBufferWriter<byte> output)
    {
        switch (_state)
        {
            case State.Header:
                if (!Fill(ref span, 5))
                {
                    return null;
                }

                _type = _small[0];
                Declared = BinaryPrimitives.ReadInt32BigEndian(_small.AsSpan(1));
                _remaining = Declared - 4;
                _state = _fileHeader ? State.FileHeader : State.Count;
                return _remaining < 0 ? Malformed() : null;
            case State.FileHeader:
                // 11-byte signature, int32 flags, int32 header-extension length, the extension (sql-copy.html)
                if (!Fill(ref span, 19))
                {
                    return null;
                }

                _valueRemaining = BinaryPrimitives.ReadInt32BigEndian(_small.AsSpan(15));
                _remaining -= 19;
                if (!_small.AsSpan(0, 11).SequenceEqual(PgCopyMasker.BinarySignature) || _valueRemaining < 0 || _valueRemaining > _remaining)
                {
                    return Malformed();
                }

                _state = _valueRemaining == 0 ? State.Count : State.Extension;
                return Emit(_small.AsSpan(0, 19), output) ?? HeaderOnly(output);
            case State.Extension:
                var extension = (int)Math.Min(_valueRemaining, span.Length);
                _valueRemaining -= extension;
                _remaining -= extension;
                var extensionBytes = span[..extension];
                span = span[extension..];
                if (_valueRemaining == 0)
                {
                    _state = State.Count;
                }

                return Emit(extensionBytes, output) ?? HeaderOnly(output);
            case State.Count:
                if (!Fill(ref span, 2))
                {
                    return null;
                }

                _count = BinaryPrimitives.ReadInt16BigEndian(_small);
                _remaining -= 2;
                if (_count == -1 && _remaining == 0 && _copyTuple)
                {
                    _state = State.Done; // the file trailer
                    _lastChanging = -1;
                    return Emit(_small.AsSpan(0, 2), output) ?? Settled(output);
                }

                if (_count < 0 || _remaining < 0)
                {
                    return Malformed();
                }

                _whole = _shape.IsUnknown || _count != _shape.Columns.Length;
                _lastChanging = _whole ? _count - 1 : LastChanging(_shape);
                _column = 0;
                _settledThrough = -1;
                _state = _count == 0 ? State.Done : State.Length;
                return Emit(_small.AsSpan(0, 2), output) ?? Settled(output);
            case State.Length:
                if (!Fill(ref span, 4))
                {
                    return null;
                }

                _remaining -= 4;
                var length = BinaryPrimitives.ReadInt32BigEndian(_small);
                if (length < -1 || length > _remaining)
                {
                    return Malformed();
                }

                return StartValue(length, output);
            case State.Value:
                var take = (int)Math.Min(_valueRemaining, span.Length);
                var bytes = span[..take];
                span = span[take..];
                _valueRemaining -= take;
                _remaining -= take;
                switch (_mode)
                {
                    case StreamedValueMode.Copy:
                        if (Emit(bytes, output) is { } held)
                        {
                            return held;
                        }

                        break;
                    case StreamedValueMode.Token:
                        _hmac!.AppendData(bytes);
                        break;
                    case StreamedValueMode.Buffer:
                        Buffered.Write(bytes);
                        break;
                }

                return _valueRemaining == 0 ? EndValue(output) : null;
            default:
                return Malformed(); // bytes after the last column
        }
    }

    /// <summary>Decides a column once its length is known; what goes out first is its new length word.</summary>
    private RewriteDecision? StartValue(int length, IBufferWriter<byte> output)
    {
        _valueRemaining = Math.Max(length, 0);
        _action = null;
        _mode = StreamedValueMode.Copy;
        var outLength = length;
        if (length >= 0)
        {
            _plan = _whole ? default : _shape.Columns[_column];
            var action = _whole ? rows.Counter.Unattributed : _plan.Action;
            if (action is not null)
            {
                var rewritable = !_whole && PgField.IsText(_plan.Type);
                var strategy = rewritable ? action.Strategy : MaskStrategy.Null;
                if (strategy == MaskStrategy.Partial && !FitsHeld(length))
                {
                    strategy = MaskStrategy.Null; // too large to read whole: replaced whole
                }

                _action = action;
                rows.Counter.Masked(action);
                switch (strategy)
                {
                    case MaskStrategy.Partial:
                        _mode = StreamedValueMode.Buffer;
                        return ReadValue(output); // its length is known once it is read
                    case MaskStrategy.Token:
                        _mode = StreamedValueMode.Token;
                        _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, rows.Masking.TokenKey);
                        outLength = ValueMasker.TokenLength;
                        break;
                    default:
                        _mode = StreamedValueMode.Skip;
                        outLength = strategy == MaskStrategy.Redact ? action.Replacement.Length : -1;
                        break;
                }
            }
            else if (_plan.Scan && (_plan.Format == 0 || PgField.IsText(_plan.Type)))
            {
                if (FitsHeld(length))
                {
                    _mode = StreamedValueMode.Buffer;
                    return ReadValue(output);
                }

                _action = StreamedValue.TooLargeToScan;
                rows.Counter.Masked(StreamedValue.TooLargeToScan);
                _mode = StreamedValueMode.Skip;
                outLength = -1;
            }
        }

        _delta += Math.Max(outLength, 0) - Math.Max(length, 0);
        _settledThrough = _column;
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, outLength);
        if (Emit(word, output) is { } held)
        {
            return held;
        }

        if (_mode == StreamedValueMode.Skip && outLength > 0 && Emit(_action!.Replacement, output) is { } heldReplacement)
        {
            return heldReplacement;
        }

        return Settled(output) ?? ReadValue(output);
    }

    /// <summary>A CopyData that holds the file header and nothing after it goes out as it came.</summary>
    private RewriteDecision? HeaderOnly(IBufferWriter<byte> output)
    {
        if (_state != State.Count || _remaining != 0)
        {
            return null;
        }

        _state = State.Done;
        _lastChanging = -1;
        return Settled(output);
    }

    private RewriteDecision? ReadValue(IBufferWriter<byte> output)
    {
        if (_valueRemaining == 0)
        {
            return EndValue(output);
        }

        _state = State.Value;
        return null;
    }

    /// <summary>A column's bytes are all read: a held value is masked or scanned, a token written.</summary>
    private RewriteDecision? EndValue(IBufferWriter<byte> output)
    {
        if (_mode == StreamedValueMode.Token)
        {
            Span<byte> token = stackalloc byte[ValueMasker.TokenLength];
            StreamedValue.FinishToken(ref _hmac, token);
            if (Emit(token, output) is { } held)
            {
                return held;
            }
        }
        else if (_mode == StreamedValueMode.Buffer)
        {
            var value = Buffered.WrittenSpan;
            var action = _action ?? rows.Decide(_plan, value, isNull: false);
            if (action is not null && _action is null)
            {
                rows.Counter.Masked(action);
            }

            // Written straight where it goes: held until the row's length is known, else out.
            var most = 4 + (action is null ? value.Length : ValueMasker.MaxLength(action, value.Length));
            if (!HeaderSent && Held.WrittenCount + most > HoldLimit)
            {
                return HeldTooMuch();
            }

            var target = HeaderSent ? output : Held;
            var span = target.GetSpan(most);
            var written = action is null ? value.Length : ValueMasker.Write(action, value, rows.Masking.TokenKey, span[4..]);
            if (action is null)
            {
                value.CopyTo(span[4..]);
            }

            BinaryPrimitives.WriteInt32BigEndian(span, written);
            target.Advance(4 + Math.Max(written, 0));
            _delta += Math.Max(written, 0) - value.Length;
            _settledThrough = _column;
            Buffered.ResetWrittenCount();

            if (Settled(output) is { } error)
            {
                return error;
            }
        }

        _column++;
        _state = _column == _count ? State.Done : State.Length;
        if (_state == State.Done && _remaining != 0)
        {
            return Malformed();
        }

        return null;
    }

    /// <summary>Once every column that can change length is read, the row's new length is known: it goes out, then what was held.</summary>
    private RewriteDecision? Settled(IBufferWriter<byte> output)
    {
        if (HeaderSent || (_state != State.Done && _settledThrough < _lastChanging))
        {
            return null;
        }

        return SendHeader(_type, Declared + _delta, output);
    }

    private bool FitsHeld(long length) => Held.WrittenCount + length <= HoldLimit;

    private bool Fill(ref ReadOnlySpan<byte> span, int needed)
    {
        var take = Math.Min(needed - _smallFilled, span.Length);
        span[..take].CopyTo(_small.AsSpan(_smallFilled));
        span = span[take..];
        _smallFilled += take;
        if (_smallFilled < needed)
        {
            return false;
        }

        _smallFilled = 0;
        return true;
    }

    protected override RewriteDecision Malformed() => RewriteDecision.End(SessionEndReason.ProtocolViolation,
        _copyTuple ? "a COPY row from the upstream does not parse as its COPY statement says" : "malformed DataRow from the upstream");
}
