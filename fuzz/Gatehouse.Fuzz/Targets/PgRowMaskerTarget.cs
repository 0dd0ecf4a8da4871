using System.Buffers;
using System.Buffers.Binary;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.Postgres.Masking;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Fuzz.Targets;

/// <summary>
/// <see cref="PgRowMasker"/> over a DataRow body from the upstream. Input: a plan count N (first byte, mod 9),
/// N plan bytes (bits 0-1: 0 nothing, 1 masked by rule, 2 scanned by the detectors, 3 masked with a non-text
/// type; bits 2-3: the strategy; bit 4: binary format), then the body. A malformed body must be refused with
/// nothing written; a rewritten row must be a well-formed DataRow with the same column count, every column
/// without a rule byte-identical unless a detector matched it, rule columns of non-text types or the null
/// strategy NULL, and NULLs still NULL; a row left alone must have had nothing to mask.
/// </summary>
internal sealed class PgRowMaskerTarget : IFuzzTarget
{
    public static string Name => "pg-row-masker";

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return;
        }

        var planned = Math.Min(input[0] % 9, input.Length - 1);
        var plans = new PgColumnPlan[planned];
        for (var i = 0; i < planned; i++)
        {
            var b = input[1 + i];
            var action = (b & 3) is 1 or 3 ? MaskedRowInvariants.Actions[(b >> 2) & 3] : null;
            plans[i] = new PgColumnPlan(action, (b & 3) == 2, (b & 3) == 3 ? 23u : 25u, (short)((b >> 4) & 1));
        }

        var body = input[(1 + planned)..];
        var shape = new PgResultShape(plans);
        var output = new ArrayBufferWriter<byte>();
        var masker = new PgRowMasker(MaskedRowInvariants.Session, new MaskingCounter(null));
        var rewritten = masker.TryMask(body, shape, output, out var malformed);
        CheckStreamingAgrees(body, shape, malformed, rewritten ? output.WrittenSpan : default);
        if (malformed)
        {
            FuzzCounters.Hit($"{Name}.malformed");
            if (rewritten || output.WrittenCount != 0)
            {
                throw new FuzzInvariantException("a malformed row was rewritten");
            }

            return;
        }

        var original = Columns(body) ?? throw new FuzzInvariantException("a row the masker accepted does not parse");
        var whole = original.Count != plans.Length;
        if (!rewritten)
        {
            FuzzCounters.Hit($"{Name}.pass");
            for (var i = 0; i < original.Count; i++)
            {
                if (original[i] is not null && (whole || plans[i].Action is not null))
                {
                    throw new FuzzInvariantException($"column {i} needed masking but the row was passed");
                }
            }

            return;
        }

        FuzzCounters.Hit(whole ? $"{Name}.unknown-shape" : $"{Name}.rewritten");
        var frame = output.WrittenSpan;
        if (frame.Length < 5 || frame[0] != (byte)'D' || BinaryPrimitives.ReadInt32BigEndian(frame[1..]) != frame.Length - 1)
        {
            throw new FuzzInvariantException("the rewritten row is not one DataRow frame");
        }

        var masked = Columns(frame[5..]) ?? throw new FuzzInvariantException("the rewritten row does not parse");
        if (masked.Count != original.Count)
        {
            throw new FuzzInvariantException($"{original.Count} columns became {masked.Count}");
        }

        for (var i = 0; i < original.Count; i++)
        {
            var before = original[i];
            var after = masked[i];
            if (whole)
            {
                if (after is not null)
                {
                    throw new FuzzInvariantException($"column {i} of a row of unknown shape kept a value");
                }

                continue;
            }

            MaskedRowInvariants.CheckColumn(Name, i, before, after, plans[i].Action, plans[i].Scan, typeCanHoldText: plans[i].Type == 25);
        }
    }

    /// <summary>
    /// <see cref="PgRowStream"/>, which masks rows too large to hold, fed the same row in parts of a size the
    /// input picks: within its hold limit it must give exactly what the whole-row masker gives, and refuse
    /// exactly what it refuses.
    /// </summary>
    private static void CheckStreamingAgrees(ReadOnlySpan<byte> body, PgResultShape shape, bool malformed, ReadOnlySpan<byte> rewritten)
    {
        var frame = new byte[5 + body.Length];
        frame[0] = (byte)'D';
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), frame.Length - 1);
        body.CopyTo(frame.AsSpan(5));
        var stream = new PgRowStream(new PgRowMasker(MaskedRowInvariants.Session, new MaskingCounter(null)), holdLimit: 1 << 20);
        stream.Begin(shape);
        var output = new ArrayBufferWriter<byte>();
        var partSize = 1 + (body.Length % 7);
        var decision = RewriteDecision.Replace;
        for (var at = 0; at < frame.Length && decision.Action == RewriteAction.Replace; at += partSize)
        {
            var part = new ReadOnlySequence<byte>(frame, at, Math.Min(partSize, frame.Length - at));
            decision = stream.Write(part, final: at + partSize >= frame.Length, output);
        }

        if (malformed != (decision.Action == RewriteAction.End))
        {
            throw new FuzzInvariantException($"the whole-row masker said malformed={malformed}, streaming said {decision.Action} ({decision.Message})");
        }

        if (!malformed && !output.WrittenSpan.SequenceEqual(rewritten.IsEmpty ? frame : rewritten))
        {
            throw new FuzzInvariantException("streaming wrote other bytes than the whole-row masker");
        }
    }

    /// <summary>The values of a DataRow body (null = SQL NULL), or null when it does not parse exactly.</summary>
    private static List<byte[]?>? Columns(ReadOnlySpan<byte> body)
    {
        if (body.Length < 2 || BinaryPrimitives.ReadInt16BigEndian(body) is var count && count < 0)
        {
            return null;
        }

        var values = new List<byte[]?>();
        var at = 2;
        for (var i = 0; i < count; i++)
        {
            if (body.Length - at < 4)
            {
                return null;
            }

            var length = BinaryPrimitives.ReadInt32BigEndian(body[at..]);
            at += 4;
            if (length < -1 || length > body.Length - at)
            {
                return null;
            }

            values.Add(length < 0 ? null : body.Slice(at, length).ToArray());
            at += Math.Max(length, 0);
        }

        return at == body.Length ? values : null;
    }
}
