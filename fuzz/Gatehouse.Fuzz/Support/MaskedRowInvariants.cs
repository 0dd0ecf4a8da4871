using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Fuzz.Support;

/// <summary>
/// What every row-masking target checks of a rewritten row, whatever its protocol: the masking session both
/// use (every detector, redact), the rule actions (each strategy, keep 3, replacement "[x]"), and the
/// per-column verdicts — NULL stays NULL, a rule's column is masked (NULL when it must be), a column without
/// a rule is byte-identical unless a detector matched it.
/// </summary>
internal static class MaskedRowInvariants
{
    public static MaskingSession Session { get; } = new MaskingPolicy([], ContentKinds.All,
        DetectorActions.RedactEach(),
        DetectorScope.Derived, strict: true, tokenKey: "fuzzing key of 32 bytes, please"u8.ToArray()).ForSession([], "db")!;

    public static MaskAction[] Actions { get; } = [.. Enum.GetValues<MaskStrategy>().Select(s => new MaskAction("rule", s, keep: 3, replacement: "[x]"))];

    /// <summary>Checks one column of a rewritten row; <paramref name="typeCanHoldText"/> false means a masked value must be NULL.</summary>
    public static void CheckColumn(string target, int column, byte[]? before, byte[]? after, MaskAction? action, bool scanned, bool typeCanHoldText)
    {
        if (before is null)
        {
            if (after is not null)
            {
                throw new FuzzInvariantException($"NULL in column {column} became a value");
            }

            return;
        }

        if (action is not null)
        {
            var mustBeNull = action.Strategy == MaskStrategy.Null || !typeCanHoldText;
            if (mustBeNull != after is null)
            {
                throw new FuzzInvariantException($"column {column} ({action.Strategy}) masked to {(after is null ? "NULL" : "a value")}");
            }

            if (action.Strategy == MaskStrategy.Redact && after is not null && !after.AsSpan().SequenceEqual("[x]"u8))
            {
                throw new FuzzInvariantException($"column {column} redacted to something other than the replacement");
            }

            FuzzCounters.Hit($"{target}.{action.Strategy}".ToLowerInvariant());
        }
        else if (after is null || !after.AsSpan().SequenceEqual(before))
        {
            if (!scanned || after is not null && !after.AsSpan().SequenceEqual("[redacted]"u8))
            {
                throw new FuzzInvariantException($"column {column} has no rule but changed");
            }

            FuzzCounters.Hit($"{target}.detected");
        }
    }
}
