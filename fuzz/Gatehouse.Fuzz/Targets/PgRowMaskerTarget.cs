using System.Buffers;
using System.Buffers.Binary;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.Postgres.Masking;
using Gatehouse.Proxy.Core.Masking;

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
    private static readonly MaskingSession Session = new MaskingPolicy([], ContentKinds.All,
        Enum.GetValues<ContentKinds>().Where(k => k is not (ContentKinds.None or ContentKinds.All))
            .ToDictionary(k => k, k => new MaskAction("detector:" + ContentKindNames.Name(k), MaskStrategy.Redact)),
        DetectorScope.Derived, strict: true, tokenKey: "fuzzing key of 32 bytes, please"u8.ToArray()).ForSession([], "db")!;

    private static readonly MaskAction[] Actions = [.. Enum.GetValues<MaskStrategy>().Select(s => new MaskAction("rule", s, keep: 3, replacement: "[x]"))];

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
            var action = (b & 3) is 1 or 3 ? Actions[(b >> 2) & 3] : null;
            plans[i] = new PgColumnPlan(action, (b & 3) == 2, (b & 3) == 3 ? 23u : 25u, (short)((b >> 4) & 1));
        }

        var body = input[(1 + planned)..];
        var shape = new PgResultShape(plans);
        var output = new ArrayBufferWriter<byte>();
        var masker = new PgRowMasker(Session, new MaskingCounter(null));
        var rewritten = masker.TryMask(body, shape, output, out var malformed);
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
            if (before is null)
            {
                if (after is not null)
                {
                    throw new FuzzInvariantException($"NULL in column {i} became a value");
                }

                continue;
            }

            if (whole)
            {
                if (after is not null)
                {
                    throw new FuzzInvariantException($"column {i} of a row of unknown shape kept a value");
                }

                continue;
            }

            var plan = plans[i];
            if (plan.Action is { } action)
            {
                var mustBeNull = action.Strategy == MaskStrategy.Null || plan.Type != 25;
                if (mustBeNull != after is null)
                {
                    throw new FuzzInvariantException($"column {i} ({action.Strategy}, type {plan.Type}) masked to {(after is null ? "NULL" : "a value")}");
                }

                if (action.Strategy == MaskStrategy.Redact && after is not null && !after.AsSpan().SequenceEqual("[x]"u8))
                {
                    throw new FuzzInvariantException($"column {i} redacted to something other than the replacement");
                }

                FuzzCounters.Hit($"{Name}.{action.Strategy}".ToLowerInvariant());
            }
            else if (after is null || !after.AsSpan().SequenceEqual(before))
            {
                if (!plan.Scan || after is not null && !after.AsSpan().SequenceEqual("[redacted]"u8))
                {
                    throw new FuzzInvariantException($"column {i} has no rule but changed");
                }

                FuzzCounters.Hit($"{Name}.detected");
            }
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
