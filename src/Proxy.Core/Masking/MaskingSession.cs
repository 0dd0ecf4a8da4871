namespace Gatehouse.Proxy.Core.Masking;

/// <summary>
/// The rules that apply to one session (its roles and upstream), and the questions the protocol maskers ask
/// of them. Not thread-safe: it belongs to the session's upstream-to-client direction.
/// </summary>
public sealed class MaskingSession
{
    private readonly MaskingRule[] _rules;
    private readonly MaskAction _strict = MaskAction.Whole("strict");

    internal MaskingSession(MaskingPolicy policy, MaskingRule[] rules)
    {
        Policy = policy;
        _rules = rules;
    }

    public MaskingPolicy Policy { get; }

    /// <summary>Whether any column rule applies (detectors alone need no catalog).</summary>
    public bool HasColumnRules => _rules.Length > 0;

    /// <summary>The action strict mode takes on a derived column it cannot attribute.</summary>
    public MaskAction StrictAction => _strict;

    /// <summary>The action for a column known by catalog identity; null = not sensitive.</summary>
    public MaskAction? ForColumn(string schema, string table, string column)
    {
        foreach (var rule in _rules)
        {
            foreach (var pattern in rule.Columns)
            {
                if (pattern.Matches(schema, table, column))
                {
                    return rule.Action;
                }
            }
        }

        return null;
    }

    /// <summary>The action for a derived column by its result name alone: column-only patterns (<c>ssn</c>, <c>*card*</c>).</summary>
    public MaskAction? ForResultName(string name)
    {
        foreach (var rule in _rules)
        {
            foreach (var pattern in rule.Columns)
            {
                if (pattern.MatchesName(name))
                {
                    return rule.Action;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// Whether an identifier in statement text may name a sensitive column: any rule pattern's column part
    /// (strict mode's signal that a derived column may carry the value).
    /// </summary>
    public bool NamesSensitiveColumn(string identifier) => AnyPattern(identifier, static (pattern, name) => pattern.MatchesColumnName(name));

    /// <summary>Whether an identifier in statement text may name a table or schema a rule names (see <see cref="ColumnPattern.MayNameRelation"/>).</summary>
    public bool NamesSensitiveRelation(string identifier) => AnyPattern(identifier, static (pattern, name) => pattern.MayNameRelation(name));

    private bool AnyPattern(string identifier, Func<ColumnPattern, string, bool> test)
    {
        foreach (var rule in _rules)
        {
            foreach (var pattern in rule.Columns)
            {
                if (test(pattern, identifier))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>The detector kinds that apply, and what each does.</summary>
    public ContentKinds Detectors => Policy.Detectors;

    public DetectorScope Scope => Policy.Scope;

    public bool Strict => Policy.Strict;

    public ReadOnlySpan<byte> TokenKey => Policy.TokenKey;

    public MaskAction ForDetected(ContentKinds kind) => Policy.DetectorActions[kind];
}
