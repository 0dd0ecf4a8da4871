using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Gatehouse.Protocols.Masking;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// Masks a text or CSV COPY row too large to inspect whole (a document beside a card number) field by field as
/// its parts arrive, giving the bytes <see cref="PgCopyMasker"/> gives for the whole row. Fields carry no
/// length here: each ends where the COPY's syntax says, at a delimiter that is not escaped (text) or not
/// inside quotes (CSV), or at the row's newline. As in <see cref="PgRowStream"/>, output is held until every
/// field that masking can change is read (the CopyData's length leads it); a redacted or tokenised field is
/// not held, and held bytes and a field read whole (partial masking, detectors) share one bound: a field past
/// it is masked whole, and a masked field behind more than the bound of other fields ends the session.
/// </summary>
internal sealed class PgCopyLineStream(PgCopyMasker copy, long holdLimit) : PgMessageStream(holdLimit)
{
    private readonly byte[] _header = new byte[5];
    private IncrementalHash? _hmac;
    private RewriteDecision? _error;

    private State _state;
    private int _headerFilled;
    private bool _headerLine;
    private long _remaining;  // message bytes still to come, the row's newline included
    private long _delta;      // output bytes minus input bytes so far
    private int _column;      // fields ended so far
    private int _lastChanging;

    // The field being read.
    private Syntax _syntax;
    private StreamedValueMode _mode;
    private PgColumnPlan _plan;
    private MaskAction? _action;      // Skip and Token: the action counted at the field's end
    private byte[]? _replacement;     // Skip: the redaction that goes out; null: the COPY's NULL string
    private long _rawLength;
    private bool _quoted;
    private bool _nullSoFar;          // the field's bytes so far begin the COPY's NULL string

    private enum State : byte { Header, Fields, Newline, Whole, Done }

    private enum Syntax : byte { Start, Plain, Escaped, Quoted, QuotedEscaped, QuoteSeen }

    private PgCopyStatement Statement => copy.Statement;

    private bool Csv => Statement.Format == PgCopyFormat.Csv;

    /// <summary>Starts a row; the HEADER line of column names goes out as it came.</summary>
    public void Begin(bool headerLine)
    {
        _headerLine = headerLine;
        _state = State.Header;
        _headerFilled = 0;
        Restart();
        _delta = 0;
        _column = 0;
        _error = null;
        _hmac?.Dispose(); // a row that ended the session mid-token
        _hmac = null;
    }

    protected override bool Done => _state == State.Done;

    protected override string RowKind => "COPY";

    protected override RewriteDecision? Step(ref ReadOnlySpan<byte> span, IBufferWriter<byte> output)
    {
        switch (_state)
        {
            case State.Header:
                var take = Math.Min(5 - _headerFilled, span.Length);
                span[..take].CopyTo(_header.AsSpan(_headerFilled));
                span = span[take..];
                _headerFilled += take;
                if (_headerFilled < 5)
                {
                    return null;
                }

                Declared = BinaryPrimitives.ReadInt32BigEndian(_header.AsSpan(1));
                _remaining = Declared - 4;
                if (_remaining < 0)
                {
                    return Malformed();
                }

                if (_headerLine)
                {
                    _state = _remaining == 0 ? State.Done : State.Whole; // column names, not values
                    return SendHeader(_header[0], Declared, output);
                }

                if (_remaining == 0)
                {
                    return Malformed(); // not even a newline
                }

                _state = State.Fields;
                _lastChanging = LastChanging(copy.Shape);
                return StartField() ?? Settled(output);
            case State.Whole:
                var whole = (int)Math.Min(_remaining, span.Length);
                output.Write(span[..whole]);
                span = span[whole..];
                _remaining -= whole;
                _state = _remaining == 0 ? State.Done : State.Whole;
                return null;
            case State.Fields:
                if (_remaining == 1)
                {
                    return EndRow(output); // the row's last byte is its newline
                }

                var body = span[..(int)Math.Min(span.Length, _remaining - 1)];
                var used = Csv ? ReadCsvField(body, output, out var ended) : ReadTextField(body, output, out ended);
                if (_error is { } error)
                {
                    return error;
                }

                span = span[used..];
                _remaining -= used;
                if (!ended)
                {
                    return null;
                }

                span = span[1..]; // the delimiter
                _remaining--;
                return EndField(output) ?? Emit([Statement.Delimiter], output) ?? StartField();
            case State.Newline:
                if (span[0] != (byte)'\n')
                {
                    return Malformed();
                }

                span = span[1..];
                _remaining = 0;
                _state = State.Done;
                return Emit("\n"u8, output) ?? Settled(output);
            default:
                return Malformed(); // bytes after the row
        }
    }

    /// <summary>Text format: a backslash escapes the byte after it; an unescaped delimiter ends the field.</summary>
    private int ReadTextField(ReadOnlySpan<byte> body, IBufferWriter<byte> output, out bool ended)
    {
        ended = false;
        var i = 0;
        if (_syntax == Syntax.Escaped)
        {
            i = 1;
            _syntax = Syntax.Plain;
        }

        while (true)
        {
            var next = body[i..].IndexOfAny((byte)'\\', Statement.Delimiter);
            if (next < 0)
            {
                Take(body, body, output);
                return body.Length;
            }

            i += next;
            if (body[i] == Statement.Delimiter)
            {
                Take(body[..i], body[..i], output);
                ended = true;
                return i;
            }

            if (i + 1 == body.Length)
            {
                _syntax = Syntax.Escaped; // the escaped byte comes in the next part
                Take(body, body, output);
                return body.Length;
            }

            i += 2;
        }
    }

    /// <summary>
    /// CSV: a field that opens with the quote runs to its closing quote, in which a doubled quote (or the
    /// ESCAPE byte before one) is data; the closing quote must be followed by the delimiter or the row's end.
    /// The quotes around a field are not its value (a token is of the value); every byte is the field's.
    /// </summary>
    private int ReadCsvField(ReadOnlySpan<byte> body, IBufferWriter<byte> output, out bool ended)
    {
        ended = false;
        var quote = Statement.Quote;
        var escape = Statement.Escape;
        var from = 0; // bytes before it are taken
        var i = 0;
        switch (_syntax)
        {
            case Syntax.Start when body[0] == quote:
                _quoted = true;
                Take(body[..1], [], output);
                from = i = 1;
                _syntax = Syntax.Quoted;
                break;
            case Syntax.Start:
                _syntax = Syntax.Plain;
                break;
            case Syntax.QuotedEscaped:
                i = 1;
                _syntax = Syntax.Quoted;
                break;
        }

        while (true)
        {
            if (_syntax == Syntax.Plain)
            {
                var delimiter = body[i..].IndexOf(Statement.Delimiter);
                var end = delimiter < 0 ? body.Length : i + delimiter;
                Take(body[from..end], body[from..end], output);
                ended = delimiter >= 0;
                return end;
            }

            if (_syntax == Syntax.QuoteSeen)
            {
                if (i == body.Length)
                {
                    return i;
                }

                if (body[i] == quote && escape == quote)
                {
                    Take([], [quote], output); // the quote seen was the first of a doubled one
                    Take(body[i..(i + 1)], body[i..(i + 1)], output);
                    from = ++i;
                    _syntax = Syntax.Quoted;
                    continue;
                }

                if (body[i] != Statement.Delimiter)
                {
                    _error = Malformed(); // data after a closing quote
                    return i;
                }

                ended = true;
                return i;
            }

            var special = escape == quote ? body[i..].IndexOf(quote) : body[i..].IndexOfAny(quote, escape);
            if (special < 0)
            {
                Take(body[from..], body[from..], output);
                return body.Length;
            }

            var at = i + special;
            if (body[at] != quote)
            {
                if (at + 1 < body.Length)
                {
                    i = at + 2; // the escape and the byte it escapes
                    continue;
                }

                _syntax = Syntax.QuotedEscaped;
                Take(body[from..], body[from..], output);
                return body.Length;
            }

            // A closing quote, or the first of a doubled one: the next byte tells.
            Take(body[from..at], body[from..at], output);
            Take(body[at..(at + 1)], [], output);
            from = i = at + 1;
            _syntax = Syntax.QuoteSeen;
        }
    }

    /// <summary>Decides a field as it starts: what is known of it is its column's plan.</summary>
    private RewriteDecision? StartField()
    {
        if (_column >= copy.Shape.Columns.Length)
        {
            return Malformed();
        }

        _plan = copy.Shape.Columns[_column];
        _syntax = Syntax.Start;
        _rawLength = 0;
        _quoted = false;
        _nullSoFar = true;
        _action = _plan.Action;
        _replacement = null;
        _mode = StreamedValueMode.Copy;
        if (_action is null)
        {
            _mode = _plan.Scan ? StreamedValueMode.Buffer : StreamedValueMode.Copy;
        }
        else if (_action.Strategy == MaskStrategy.Null || !PgField.IsText(_plan.Type))
        {
            _mode = StreamedValueMode.Skip;
        }
        else if (_action.Strategy == MaskStrategy.Partial)
        {
            _mode = StreamedValueMode.Buffer;
        }
        else if (_action.Strategy == MaskStrategy.Token)
        {
            _mode = StreamedValueMode.Token;
            _hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, copy.Masking.TokenKey);
        }
        else
        {
            _mode = StreamedValueMode.Skip;
            _replacement = _action.Replacement;
        }

        return null;
    }

    /// <summary>Takes the field's next bytes: <paramref name="raw"/> as they came, <paramref name="value"/> those that are its value.</summary>
    private void Take(ReadOnlySpan<byte> raw, ReadOnlySpan<byte> value, IBufferWriter<byte> output)
    {
        if (!raw.IsEmpty)
        {
            var nullString = Statement.Null;
            _nullSoFar = _nullSoFar && _rawLength + raw.Length <= nullString.Length && raw.SequenceEqual(nullString.AsSpan((int)_rawLength, raw.Length));
            _rawLength += raw.Length;
            switch (_mode)
            {
                case StreamedValueMode.Copy:
                    _error ??= Emit(raw, output);
                    break;
                case StreamedValueMode.Buffer when Held.WrittenCount + Buffered.WrittenCount + raw.Length > HoldLimit:
                    // Too large to read whole: replaced whole, counted under its rule or as too large to scan.
                    _mode = StreamedValueMode.Skip;
                    _action ??= StreamedValue.TooLargeToScan;
                    Buffered.ResetWrittenCount();
                    break;
                case StreamedValueMode.Buffer:
                    Buffered.Write(raw);
                    break;
            }
        }

        if (_mode == StreamedValueMode.Token && !value.IsEmpty)
        {
            _hmac!.AppendData(value);
        }
    }

    /// <summary>A field is read: what replaces it goes out (held until the row's length is known).</summary>
    private RewriteDecision? EndField(IBufferWriter<byte> output)
    {
        if (_mode != StreamedValueMode.Copy)
        {
            // Only fields up to the last that can change are not copied, and their output is held.
            var before = Held.WrittenCount;
            if (_mode == StreamedValueMode.Buffer)
            {
                copy.WriteField(Buffered.WrittenSpan, _plan, Csv, Held);
                Buffered.ResetWrittenCount();
            }
            else if (!_quoted && _nullSoFar && _rawLength == Statement.Null.Length)
            {
                Held.Write(Statement.Null); // NULL stays NULL
                _hmac?.Dispose();
                _hmac = null;
            }
            else
            {
                copy.Counter.Masked(_action!);
                if (_mode == StreamedValueMode.Token)
                {
                    Span<byte> token = stackalloc byte[ValueMasker.TokenLength];
                    StreamedValue.FinishToken(ref _hmac, token);
                    copy.WriteReplacement(token, Csv, Held);
                }
                else if (_replacement is not null)
                {
                    copy.WriteReplacement(_replacement, Csv, Held);
                }
                else
                {
                    Held.Write(Statement.Null);
                }
            }

            if (Held.WrittenCount > HoldLimit)
            {
                return HeldTooMuch();
            }

            _delta += Held.WrittenCount - before - _rawLength;
        }

        _column++;
        return Settled(output);
    }

    private RewriteDecision? EndRow(IBufferWriter<byte> output)
    {
        if (_syntax is Syntax.Quoted or Syntax.QuotedEscaped)
        {
            return Malformed(); // a quote never closed
        }

        if (EndField(output) is { } error)
        {
            return error;
        }

        if (_column != copy.Shape.Columns.Length)
        {
            return Malformed();
        }

        _state = State.Newline;
        return null;
    }

    /// <summary>Once every field that can change is read, the row's new length is known: it goes out, then what was held.</summary>
    private RewriteDecision? Settled(IBufferWriter<byte> output)
    {
        if (HeaderSent || (_state != State.Done && _column <= _lastChanging))
        {
            return null;
        }

        return SendHeader(_header[0], Declared + _delta, output);
    }

    protected override RewriteDecision Malformed() => RewriteDecision.End(SessionEndReason.ProtocolViolation,
        "a COPY row from the upstream does not parse as its COPY statement says");
}
