namespace Gatehouse.Proxy.Core.Masking;

/// <summary>
/// The configured masking: column rules, content detectors and strict mode (DESIGN §6). Immutable and shared;
/// each session takes the part that applies to it with <see cref="ForSession"/>.
/// </summary>
public sealed class MaskingPolicy
{
    /// <summary>No rules and no detectors: sessions relay results untouched.</summary>
    public static MaskingPolicy None { get; } = new([], ContentKinds.None, new Dictionary<ContentKinds, MaskAction>(), DetectorScope.Derived, strict: true, tokenKey: []);

    public MaskingPolicy(IReadOnlyList<MaskingRule> rules, ContentKinds detectors, IReadOnlyDictionary<ContentKinds, MaskAction> detectorActions,
        DetectorScope scope, bool strict, byte[] tokenKey, IReadOnlySet<string>? exemptRoles = null)
    {
        Rules = rules;
        Detectors = detectors;
        DetectorActions = detectorActions;
        Scope = scope;
        Strict = strict;
        TokenKey = tokenKey;
        ExemptRoles = exemptRoles ?? new HashSet<string>();
        if (rules.Any(r => r.Action.Strategy == MaskStrategy.Token) && tokenKey.Length < 16)
        {
            throw new ArgumentException("token masking needs a key of at least 16 bytes", nameof(tokenKey));
        }
    }

    public IReadOnlyList<MaskingRule> Rules { get; }

    public ContentKinds Detectors { get; }

    /// <summary>The action per single detector kind.</summary>
    public IReadOnlyDictionary<ContentKinds, MaskAction> DetectorActions { get; }

    public DetectorScope Scope { get; }

    /// <summary>Derived columns of a statement that references a sensitive column are masked whole.</summary>
    public bool Strict { get; }

    /// <summary>The HMAC key of <see cref="MaskStrategy.Token"/>.</summary>
    public byte[] TokenKey { get; }

    /// <summary>Roles that see everything unmasked (detectors included).</summary>
    public IReadOnlySet<string> ExemptRoles { get; }

    /// <summary>The masking one session is under; null when nothing applies, so the relay does no work for it.</summary>
    public MaskingSession? ForSession(IReadOnlyCollection<string> roles, string upstream)
    {
        if (roles.Any(ExemptRoles.Contains))
        {
            return null;
        }

        var rules = Rules
            .Where(r => (r.Upstreams.Count == 0 || r.Upstreams.Contains(upstream)) && !roles.Any(r.ExemptRoles.Contains))
            .ToArray();
        return rules.Length == 0 && Detectors == ContentKinds.None ? null : new MaskingSession(this, rules);
    }
}
