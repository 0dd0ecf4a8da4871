namespace Gatehouse.Proxy.Core.Masking;

/// <summary>One configured rule: which columns are sensitive, how they are masked, and who sees them unmasked.</summary>
public sealed class MaskingRule
{
    public required string Name { get; init; }

    /// <summary>Columns by catalog identity (<c>[schema.][table.]column</c> globs).</summary>
    public required IReadOnlyList<ColumnPattern> Columns { get; init; }

    public required MaskAction Action { get; init; }

    /// <summary>Roles that see this rule's columns unmasked.</summary>
    public IReadOnlySet<string> ExemptRoles { get; init; } = new HashSet<string>();

    /// <summary>Upstreams the rule applies to; empty = all.</summary>
    public IReadOnlySet<string> Upstreams { get; init; } = new HashSet<string>();
}
