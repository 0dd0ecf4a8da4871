using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// Rewrites one DataRow (55.7) by its result's plan: masked values replaced, lengths recomputed, every other
/// value copied as it came. The column count never changes, and a row that needs nothing is left alone so
/// the relay forwards the original bytes.
/// </summary>
internal sealed class PgRowMasker(MaskingSession masking, MaskingCounter counter)
{
    // Per column of the row being masked: where its length word starts in the body, and what masks it. Codes, not
    // actions: storing a reference per column cost a GC write barrier each (perf), for what the plan already holds.
    private int[] _starts = new int[16];
    private int[] _masks = new int[16]; // 0 = none, Planned, Unattributed, or the ContentKinds a detector found
    private const int Planned = -1;
    private const int Unattributed = -2;

    public MaskingSession Masking => masking;

    public MaskingCounter Counter => counter;

    /// <summary>True when the row was rewritten into <paramref name="output"/>; false = forward it untouched. Malformed rows end the session.</summary>
    /// <remarks>
    /// Never inlined: a caller that took it in (a benchmark's, under dynamic PGO) ran out of the JIT's inlining
    /// budget, and span slicing and big-endian reads became calls (MaskingBenchmarks, perf).
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
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

        if (_masks.Length < count)
        {
            _masks = new int[Math.Max(count, _masks.Length * 2)];
            _starts = new int[_masks.Length];
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
            var mask = length < 0 ? 0 : whole ? Unattributed : MaskOf(shape.Columns[i], value); // NULL stays NULL
            _masks[i] = mask;
            if (mask != 0)
            {
                any = true;
                grow += Math.Max(0, ValueMasker.MaxLength(ActionOf(mask, whole ? default : shape.Columns[i]), length) - length);
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
            var mask = _masks[i];
            if (mask == 0)
            {
                continue; // untouched or NULL: in the run
            }

            var action = ActionOf(mask, whole ? default : shape.Columns[i]);
            var start = _starts[i];
            var length = BinaryPrimitives.ReadInt32BigEndian(body[start..]);

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

    /// <summary>What masks a non-NULL value: its plan's action, what a detector found in it, or nothing (0).</summary>
    private int MaskOf(in PgColumnPlan plan, ReadOnlySpan<byte> value)
    {
        if (plan.Action is not null)
        {
            return Planned;
        }

        if (!plan.Scan || (plan.Format != 0 && !PgField.IsText(plan.Type)))
        {
            return 0; // binary values of non-text types are not text to scan; only text-format values and text types are
        }

        return (int)ContentDetector.Detect(value, masking.Detectors);
    }

    private MaskAction ActionOf(int mask, in PgColumnPlan plan) => mask switch
    {
        Planned => plan.Action!,
        Unattributed => counter.Unattributed,
        _ => masking.ForDetected((ContentKinds)mask),
    };

    /// <summary>The action for one value of a row streamed column by column (<see cref="PgRowStream"/>): as <see cref="TryMask"/> decides.</summary>
    internal MaskAction? Decide(in PgColumnPlan plan, ReadOnlySpan<byte> value, bool isNull)
    {
        if (plan.Action is not null || isNull)
        {
            return plan.Action;
        }

        var mask = MaskOf(plan, value);
        return mask == 0 ? null : ActionOf(mask, plan);
    }
}
