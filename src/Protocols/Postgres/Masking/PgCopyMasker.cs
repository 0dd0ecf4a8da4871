using System.Buffers;
using System.Buffers.Binary;
using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// Masks the CopyData rows of one <c>COPY ... TO STDOUT</c> by the plan of the equivalent SELECT. PostgreSQL
/// sends each row as its own CopyData (copyto.c), which is what is read here: text rows are split at the
/// delimiter (backslash escapes respected), CSV rows at the delimiter outside quotes, binary tuples are
/// DataRow bodies in all but name. A value is masked where it stands, in the row's own syntax: NULL as the
/// COPY's NULL string, replacements escaped or quoted as the format needs. A row that does not parse is
/// refused (the caller ends the session), never passed.
/// </summary>
internal sealed class PgCopyMasker(PgCopyStatement copy, PgResultShape shape, MaskingSession masking, PgRowMasker rows, MaskingCounter counter)
{
    internal static readonly byte[] BinarySignature = [(byte)'P', (byte)'G', (byte)'C', (byte)'O', (byte)'P', (byte)'Y', (byte)'\n', 0xFF, (byte)'\r', (byte)'\n', 0];

    private readonly ArrayBufferWriter<byte> _row = new(256);
    private PgRowStream? _tupleStream;
    private PgCopyLineStream? _lineStream;
    private readonly ArrayBufferWriter<byte> _tuple = new(256);
    private byte[] _value = new byte[256];
    private bool _headerSeen;

    public bool HasWork => shape.HasWork;

    public PgCopyStatement Statement => copy;

    public PgResultShape Shape => shape;

    public MaskingSession Masking => masking;

    public MaskingCounter Counter => counter;

    /// <summary>Starts a row too large to inspect whole; it is masked as it streams, with this masker's results.</summary>
    public PgMessageStream BeginStream(long holdLimit)
    {
        var header = !_headerSeen;
        _headerSeen = true;
        if (copy.Format == PgCopyFormat.Binary)
        {
            (_tupleStream ??= new PgRowStream(rows, holdLimit)).BeginCopyTuple(shape, header);
            return _tupleStream;
        }

        (_lineStream ??= new PgCopyLineStream(this, holdLimit)).Begin(headerLine: header && copy.Header);
        return _lineStream;
    }

    /// <summary>Writes the masked CopyData to <paramref name="output"/>; false when the data is not a row this COPY can produce.</summary>
    public bool TryMask(ReadOnlySpan<byte> data, IBufferWriter<byte> output)
    {
        _row.ResetWrittenCount();
        var ok = copy.Format switch
        {
            PgCopyFormat.Binary => MaskBinary(data),
            _ when copy.Header && !_headerSeen => CopyHeaderLine(data),
            PgCopyFormat.Csv => MaskDelimited(data, csv: true),
            _ => MaskDelimited(data, csv: false),
        };
        if (!ok)
        {
            return false;
        }

        var span = output.GetSpan(5 + _row.WrittenCount);
        span[0] = (byte)BackendCode.CopyData;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], 4 + _row.WrittenCount);
        _row.WrittenSpan.CopyTo(span[5..]);
        output.Advance(5 + _row.WrittenCount);
        return true;
    }

    private bool CopyHeaderLine(ReadOnlySpan<byte> data)
    {
        _headerSeen = true;
        _row.Write(data); // column names, not values
        return true;
    }

    private bool MaskBinary(ReadOnlySpan<byte> data)
    {
        if (!_headerSeen)
        {
            // 11-byte signature, int32 flags, int32 header-extension length and the extension (sql-copy.html).
            if (data.Length < 19 || !data[..11].SequenceEqual(BinarySignature))
            {
                return false;
            }

            var extension = BinaryPrimitives.ReadInt32BigEndian(data[15..]);
            if (extension < 0 || extension > data.Length - 19)
            {
                return false;
            }

            _headerSeen = true;
            _row.Write(data[..(19 + extension)]);
            data = data[(19 + extension)..];
            if (data.IsEmpty)
            {
                return true;
            }
        }

        if (data.Length == 2 && BinaryPrimitives.ReadInt16BigEndian(data) == -1)
        {
            _row.Write(data); // the trailer
            return true;
        }

        _tuple.ResetWrittenCount();
        if (rows.TryMask(data, shape, _tuple, out var malformed))
        {
            _row.Write(_tuple.WrittenSpan[5..]); // a DataRow's body is a binary COPY tuple
            return true;
        }

        if (malformed)
        {
            return false;
        }

        _row.Write(data);
        return true;
    }

    private bool MaskDelimited(ReadOnlySpan<byte> line, bool csv)
    {
        if (line.IsEmpty || line[^1] != (byte)'\n')
        {
            return false;
        }

        var body = line[..^1];
        var column = 0;
        var at = 0;
        while (true)
        {
            var end = csv ? CsvFieldEnd(body, at) : TextFieldEnd(body, at);
            if (end < 0 || column >= shape.Columns.Length)
            {
                return false;
            }

            WriteField(body[at..end], shape.Columns[column], csv, _row);
            column++;
            if (end == body.Length)
            {
                break;
            }

            _row.Write([copy.Delimiter]);
            at = end + 1;
        }

        _row.Write("\n"u8);
        return column == shape.Columns.Length;
    }

    /// <summary>Writes one field of a row as it goes out: as it came, or masked in the COPY's own syntax.</summary>
    internal void WriteField(ReadOnlySpan<byte> field, in PgColumnPlan plan, bool csv, IBufferWriter<byte> to)
    {
        var quoted = csv && field.Length >= 2 && field[0] == copy.Quote;
        var isNull = !quoted && field.SequenceEqual(copy.Null);
        var value = quoted ? field[1..^1] : field;
        var action = plan.Action;
        if (action is null && plan.Scan && !isNull && ContentDetector.Detect(value, masking.Detectors) is var kind && kind != ContentKinds.None)
        {
            action = masking.ForDetected(kind);
        }

        if (action is null || isNull)
        {
            to.Write(field);
            return;
        }

        counter.Masked(action);
        if (action.Strategy == MaskStrategy.Null || !PgField.IsText(plan.Type))
        {
            to.Write(copy.Null);
            return;
        }

        var needed = ValueMasker.MaxLength(action, value.Length);
        if (_value.Length < needed)
        {
            _value = new byte[Math.Max(needed, _value.Length * 2)];
        }

        var length = ValueMasker.Write(action, value, masking.TokenKey, _value);
        var text = _value.AsSpan(0, Math.Max(length, 0));
        if (action.Strategy == MaskStrategy.Partial)
        {
            // Only letters and digits became '*': escapes, quotes and delimiters stand where they stood.
            WriteQuoted(to, quoted, text, raw: true);
        }
        else
        {
            WriteQuoted(to, csv, text, raw: false);
        }
    }

    /// <summary>Writes a replacement (a redaction, a token) as a field: escaped, and quoted in CSV.</summary>
    internal void WriteReplacement(ReadOnlySpan<byte> text, bool csv, IBufferWriter<byte> to) => WriteQuoted(to, csv, text, raw: false);

    private void WriteQuoted(IBufferWriter<byte> to, bool quote, ReadOnlySpan<byte> text, bool raw)
    {
        if (quote)
        {
            to.Write([copy.Quote]);
        }

        if (raw)
        {
            to.Write(text);
        }
        else
        {
            foreach (var b in text)
            {
                if (quote && (b == copy.Quote || b == copy.Escape))
                {
                    to.Write([copy.Escape, b]);
                }
                else if (!quote && (b is (byte)'\\' or (byte)'\n' or (byte)'\r' || b == copy.Delimiter))
                {
                    to.Write(b switch { (byte)'\n' => "\\n"u8, (byte)'\r' => "\\r"u8, _ => [(byte)'\\', b] });
                }
                else
                {
                    to.Write([b]);
                }
            }
        }

        if (quote)
        {
            to.Write([copy.Quote]);
        }
    }

    private int TextFieldEnd(ReadOnlySpan<byte> body, int at)
    {
        for (var i = at; i < body.Length; i++)
        {
            if (body[i] == (byte)'\\')
            {
                i++;
            }
            else if (body[i] == copy.Delimiter)
            {
                return i;
            }
        }

        return body.Length;
    }

    private int CsvFieldEnd(ReadOnlySpan<byte> body, int at)
    {
        if (at >= body.Length || body[at] != copy.Quote)
        {
            var next = body[at..].IndexOf(copy.Delimiter);
            return next < 0 ? body.Length : at + next;
        }

        for (var i = at + 1; i < body.Length; i++)
        {
            if (body[i] == copy.Escape && copy.Escape != copy.Quote && i + 1 < body.Length)
            {
                i++;
            }
            else if (body[i] == copy.Quote)
            {
                if (copy.Escape == copy.Quote && i + 1 < body.Length && body[i + 1] == copy.Quote)
                {
                    i++;
                    continue;
                }

                return i + 1 == body.Length || body[i + 1] == copy.Delimiter ? i + 1 : -1;
            }
        }

        return -1; // the quote never closes: PostgreSQL sends a whole row, newlines in quoted values included, in one CopyData
    }
}
