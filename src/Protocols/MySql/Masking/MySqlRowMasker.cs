using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using System.Runtime.CompilerServices;
using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Protocols.MySql.Masking;

/// <summary>
/// Rewrites one result row by its result's plan, in either encoding: text rows (COM_QUERY; each value a
/// length-encoded string or 0xFB for NULL) and binary rows (COM_STMT_EXECUTE and COM_STMT_FETCH; a 0x00
/// header, a NULL bitmap with a 2-bit offset, then each non-NULL value in its type's encoding). Masked
/// values are replaced and the packet length recomputed; every other value is copied as it came. A masked
/// value of a non-string type becomes NULL (in a binary row: its bitmap bit set, its bytes gone). The
/// column count never changes, and a row that needs nothing is left alone so the relay forwards its bytes.
/// </summary>
internal sealed class MySqlRowMasker(MaskingSession masking, MaskingCounter counter)
{
    private const int MaxPayload = MySqlFrameDecoder.MaxPayload;

    /// <summary><see cref="TryMask"/>'s answer for a row whose masked form may need more than one packet.</summary>
    public static readonly string TooLongForOnePacket = "a masked row may not fit in one packet";
    // What masks each value, as a code rather than an action reference: storing a reference per column cost a GC
    // write barrier each (perf on MaskingBenchmarks' MySQL rows, as on the PostgreSQL masker before it).
    private int[] _masks = new int[16]; // 0 = none, Planned, or the ContentKinds a detector found
    private const int Planned = -1;
    private int[] _starts = new int[16];  // where each value's encoding starts in the row (-1 = NULL)
    private int[] _lengths = new int[16]; // the value's bytes, after its length prefix
    private int[] _prefixes = new int[16];

    public MaskingSession Masking => masking;

    public MaskingCounter Counter => counter;

    /// <summary>Why a row could not be read, or null when it was read (and written to output if it needed work).</summary>
    public string? TryMask(ReadOnlySpan<byte> payload, byte sequence, MySqlResultShape shape, bool binary, IBufferWriter<byte> output, out bool rewritten)
    {
        rewritten = false;
        var count = shape.Columns.Length;
        if (_masks.Length < count)
        {
            var size = Math.Max(count, _masks.Length * 2);
            _masks = new int[size];
            _starts = new int[size];
            _lengths = new int[size];
            _prefixes = new int[size];
        }

        var valuesAt = binary ? 1 + ((count + 9) / 8) : 0;
        if (binary && (payload.Length < valuesAt || payload[0] != 0))
        {
            return "a binary result row from the upstream is malformed";
        }

        var any = false;
        var grow = 0L;
        var at = valuesAt;
        var columns = shape.Columns;
        for (var i = 0; i < count; i++)
        {
            ref readonly var plan = ref columns[i];
            int prefix, length;
            if (binary ? IsNullInBitmap(payload, i) : at < payload.Length && payload[at] == 0xFB)
            {
                _starts[i] = -1;
                at += binary ? 0 : 1;
                _masks[i] = 0;
                continue;
            }

            if (at < payload.Length && payload[at] < 0xFB && (!binary || IsLengthEncoded(plan.Column.Type)))
            {
                prefix = 1; // the common short value: a one-byte length
                length = payload[at];
                if (payload.Length - at - 1 < length)
                {
                    return "a result row from the upstream is shorter than its values";
                }
            }
            else if (!TryValue(payload[at..], binary ? plan.Column.Type : MySqlType.VarString, out prefix, out length))
            {
                return binary ? $"a binary result row holds a value of type {(byte)plan.Column.Type} the gateway cannot read" : "a text result row from the upstream is malformed";
            }

            _starts[i] = at;
            _prefixes[i] = prefix;
            _lengths[i] = length;
            var mask = plan.HasWork ? MaskOf(plan, payload.Slice(at + prefix, length), binary) : 0;
            at += prefix + length;
            _masks[i] = mask;
            if (mask != 0)
            {
                any = true;
                var action = ActionOf(mask, plan);
                grow += action.Strategy == MaskStrategy.Null || !plan.Column.IsString ? 0 : 9 + ValueMasker.MaxLength(action, length);
            }
        }

        if (at != payload.Length)
        {
            return "a result row from the upstream is longer than its columns";
        }

        if (!any)
        {
            return null;
        }

        if (payload.Length + grow > MaxPayload - 1)
        {
            return TooLongForOnePacket; // the caller streams it (MySqlRowStream), which splits it as the protocol does
        }

        // Bytes between masked values are unchanged: each run is copied at once (a binary row's head and NULL
        // bitmap with the first), and only masked values are written.
        var span = output.GetSpan(4 + payload.Length + (int)grow);
        var written = 4;
        var from = 0; // payload bytes from here on are not written yet
        for (var i = 0; i < count; i++)
        {
            var mask = _masks[i];
            if (mask == 0)
            {
                continue;
            }

            var action = ActionOf(mask, columns[i]);
            var start = _starts[i];
            payload[from..start].CopyTo(span[written..]);
            written += start - from;
            from = start + _prefixes[i] + _lengths[i];
            counter.Masked(action);
            // Written after a 9-byte gap (the longest length prefix), then moved down behind its real prefix.
            var masked = action.Strategy == MaskStrategy.Null || !columns[i].Column.IsString
                ? -1
                : ValueMasker.Write(action, payload[(start + _prefixes[i])..from], masking.TokenKey, span[(written + 9)..]);
            if (masked < 0)
            {
                if (binary)
                {
                    SetNullInBitmap(span[4..], i);
                }
                else
                {
                    span[written++] = 0xFB;
                }

                continue;
            }

            var lengthPrefix = WriteLengthEncoded(span[written..], (ulong)masked);
            span.Slice(written + 9, masked).CopyTo(span[(written + lengthPrefix)..]);
            written += lengthPrefix + masked;
        }

        payload[from..].CopyTo(span[written..]);
        written += payload.Length - from;

        MySqlPacketWriter.Header(span, written - 4, sequence);
        output.Advance(written);
        rewritten = true;
        return null;
    }

    /// <summary>The action for a value: its plan's, what the detectors find in it if the plan scans, or null.</summary>
    internal MaskAction? Decide(in MySqlColumnPlan plan, ReadOnlySpan<byte> value, bool binary)
    {
        var mask = MaskOf(plan, value, binary);
        return mask == 0 ? null : ActionOf(mask, plan);
    }

    private MaskAction ActionOf(int mask, in MySqlColumnPlan plan) => mask == Planned ? plan.Action! : masking.ForDetected((ContentKinds)mask);

    /// <summary>What masks a non-NULL value, as <see cref="TryMask"/> keeps it: <see cref="Planned"/>, a detector's kinds, or 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)] // the planned case is the common one: no call for it
    private int MaskOf(in MySqlColumnPlan plan, ReadOnlySpan<byte> value, bool binary)
        => plan.Action is not null ? Planned : plan.Scan ? Detect(plan.Column, value, binary) : 0;

    /// <summary>The kinds the detectors find in a value of a column the plan scans.</summary>
    private int Detect(in MySqlColumn column, ReadOnlySpan<byte> value, bool binary)
    {
        if (!IsScannable(column, binary))
        {
            return 0; // bytes of a binary string, floats, dates: not text to scan
        }

        ContentKinds kind;
        if (!binary || IsLengthEncoded(column.Type))
        {
            kind = ContentDetector.Detect(value, masking.Detectors); // text rows are text; so are binary rows' strings and decimals
        }
        else
        {
            // A card number can travel as an integer: scan its decimal text.
            Span<byte> text = stackalloc byte[24];
            var number = column.Type == MySqlType.LongLong ? BinaryPrimitives.ReadInt64LittleEndian(value) : BinaryPrimitives.ReadInt32LittleEndian(value);
            kind = Utf8Formatter.TryFormat(number, text, out var n) ? ContentDetector.Detect(text[..n], masking.Detectors) : ContentKinds.None;
        }

        return (int)kind;
    }

    /// <summary>Whether the detectors read a value of this column: all of a text row; a binary row's strings, decimals and integers.</summary>
    internal static bool IsScannable(MySqlColumn column, bool binary)
        => !binary || (column.Charset != MySqlColumn.BinaryCharset && IsLengthEncoded(column.Type))
            || column.Type is MySqlType.LongLong or MySqlType.Long or MySqlType.Int24;

    internal static bool IsNullInBitmap(ReadOnlySpan<byte> payload, int column) => (payload[1 + ((column + 2) >> 3)] & (1 << ((column + 2) & 7))) != 0;

    private static void SetNullInBitmap(Span<byte> payload, int column) => payload[1 + ((column + 2) >> 3)] |= (byte)(1 << ((column + 2) & 7));

    internal static bool IsLengthEncoded(MySqlType type) => type is MySqlType.Decimal or MySqlType.NewDecimal or MySqlType.VarChar or MySqlType.Bit
        or MySqlType.Json or MySqlType.Enum or MySqlType.Set or MySqlType.TinyBlob or MySqlType.MediumBlob or MySqlType.LongBlob
        or MySqlType.Blob or MySqlType.VarString or MySqlType.String or MySqlType.Geometry;

    /// <summary>A binary value's fixed length, or -1 when a prefix says it.</summary>
    internal static int FixedLength(MySqlType type) => type switch
    {
        MySqlType.Tiny => 1,
        MySqlType.Short or MySqlType.Year => 2,
        MySqlType.Long or MySqlType.Int24 or MySqlType.Float => 4,
        MySqlType.LongLong or MySqlType.Double => 8,
        MySqlType.Null => 0,
        _ => -1,
    };

    /// <summary>Binary dates and times: one length byte, then that many.</summary>
    internal static bool IsTemporal(MySqlType type) => type is MySqlType.Date or MySqlType.DateTime or MySqlType.Timestamp or MySqlType.Time or MySqlType.NewDate;

    /// <summary>The encoding of one value at the start of <paramref name="data"/>: its length prefix and its length; false if it does not fit or the type is unknown.</summary>
    internal static bool TryValue(ReadOnlySpan<byte> data, MySqlType type, out int prefix, out int length)
    {
        prefix = 0;
        length = FixedLength(type);
        if (length < 0 && IsTemporal(type))
        {
            if (data.IsEmpty)
            {
                return false;
            }

            prefix = 1;
            length = data[0];
        }
        else if (length < 0)
        {
            if (!IsLengthEncoded(type))
            {
                return false;
            }

            var reader = new MySqlPayloadReader(data);
            if (!reader.TryLengthEncoded(out var value) || value > int.MaxValue)
            {
                return false;
            }

            prefix = data.Length - reader.Remaining;
            length = (int)value;
        }

        return data.Length - prefix >= length;
    }

    internal static int WriteLengthEncoded(Span<byte> destination, ulong value)
    {
        switch (value)
        {
            case < 0xFB:
                destination[0] = (byte)value;
                return 1;
            case <= 0xFFFF:
                destination[0] = 0xFC;
                BinaryPrimitives.WriteUInt16LittleEndian(destination[1..], (ushort)value);
                return 3;
            case <= 0xFFFFFF:
                destination[0] = 0xFD;
                destination[1] = (byte)value;
                destination[2] = (byte)(value >> 8);
                destination[3] = (byte)(value >> 16);
                return 4;
            default:
                destination[0] = 0xFE;
                BinaryPrimitives.WriteUInt64LittleEndian(destination[1..], value);
                return 9;
        }
    }
}
