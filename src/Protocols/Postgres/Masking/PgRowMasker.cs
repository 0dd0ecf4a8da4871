using System.Buffers;
using System.Buffers.Binary;
using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// Rewrites one DataRow (55.7) by its result's plan: masked values replaced, lengths recomputed, every other
/// value copied as it came. The column count never changes, and a row that needs nothing is left alone so
/// the relay forwards the original bytes.
/// </summary>
internal sealed class PgRowMasker(MaskingSession masking, MaskingCounter counter)
{
    private MaskAction?[] _actions = new MaskAction?[16];
    private int[] _starts = new int[16]; // where each column's length word starts in the body

    public MaskingSession Masking => masking;

    public MaskingCounter Counter => counter;

    /// <summary>True when the row was rewritten into <paramref name="output"/>; false = forward it untouched. Malformed rows end the session.</summary>
    public bool TryMask(ReadOnlySpan<byte> body, PgResultShape shape, IBufferWriter<byte> output, out bool malformed)
    {
        malformed = false;
        if (body.Length < 2)
        {
            malformed = true;
            return false;
        }

        var count = BinaryPrimitives.ReadInt16BigEndian(body);
        if (count < 0)
        {
            malformed = true;
            return false;
        }

        if (_actions.Length < count)
        {
            _actions = new MaskAction?[Math.Max(count, _actions.Length * 2)];
            _starts = new int[_actions.Length];
        }

        var whole = shape.IsUnknown || count != shape.Columns.Length;
        var any = false;
        var grow = 0;
        var at = 2;
        for (var i = 0; i < count; i++)
        {
            if (body.Length - at < 4)
            {
                malformed = true;
                return false;
            }

            _starts[i] = at;
            var length = BinaryPrimitives.ReadInt32BigEndian(body[at..]);
            at += 4;
            if (length < -1 || length > body.Length - at)
            {
                malformed = true;
                return false;
            }

            var value = length < 0 ? default : body.Slice(at, length);
            at += Math.Max(length, 0);
            var action = whole ? counter.Unattributed : Decide(shape.Columns[i], value, length < 0);
            _actions[i] = action;
            if (action is not null && length >= 0)
            {
                any = true;
                grow += Math.Max(0, ValueMasker.MaxLength(action, length) - length);
            }
        }

        if (at != body.Length)
        {
            malformed = true;
            return false;
        }

        if (!any)
        {
            return false;
        }

        var span = output.GetSpan(1 + 4 + body.Length + grow);
        span[0] = (byte)BackendCode.DataRow;
        BinaryPrimitives.WriteInt16BigEndian(span[5..], count);
        // Bytes between masked values are unchanged: each run (length words and values) is copied at once.
        var written = 7;
        var from = 2; // body bytes from here on are not written yet
        for (var i = 0; i < count; i++)
        {
            var action = _actions[i];
            if (action is null)
            {
                continue;
            }

            _actions[i] = null;
            var start = _starts[i];
            var length = BinaryPrimitives.ReadInt32BigEndian(body[start..]);
            if (length < 0)
            {
                continue; // NULL stays NULL, in the run
            }

            body[from..start].CopyTo(span[written..]);
            written += start - from;
            from = start + 4 + length;
            var rewritable = !whole && PgField.IsText(shape.Columns[i].Type);
            var masked = rewritable ? ValueMasker.Write(action, body.Slice(start + 4, length), masking.TokenKey, span[(written + 4)..]) : -1;
            counter.Masked(action);
            BinaryPrimitives.WriteInt32BigEndian(span[written..], masked);
            written += 4 + Math.Max(masked, 0);
        }

        body[from..].CopyTo(span[written..]);
        written += body.Length - from;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], written - 1);
        output.Advance(written);
        return true;
    }

    internal MaskAction? Decide(in PgColumnPlan plan, ReadOnlySpan<byte> value, bool isNull)
    {
        if (plan.Action is { } action || isNull || !plan.Scan)
        {
            return plan.Action;
        }

        // Binary values of non-text types are not text to scan; only text-format values and text types are.
        if (plan.Format != 0 && !PgField.IsText(plan.Type))
        {
            return null;
        }

        var kind = ContentDetector.Detect(value, masking.Detectors);
        return kind == ContentKinds.None ? null : masking.ForDetected(kind);
    }
}
