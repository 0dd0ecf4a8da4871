namespace Gatehouse.Proxy.Core.Identity;

/// <summary>Maps an identity's groups to roles, and roles to the upstreams they may use (DESIGN §2).</summary>
public sealed class RoleMap
{
    /// <summary>The upstream entry that grants every upstream.</summary>
    public const string AllUpstreams = "*";

    private readonly Dictionary<string, string[]> _rolesByGroup = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _upstreamsByRole = new(StringComparer.Ordinal);

    /// <summary>Builds the map; throws <see cref="ArgumentException"/> for empty role, group or upstream names.</summary>
    public RoleMap(IReadOnlyDictionary<string, RoleDefinition> roles)
    {
        ArgumentNullException.ThrowIfNull(roles);
        var byGroup = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var (role, definition) in roles)
        {
            if (string.IsNullOrWhiteSpace(role))
            {
                throw new ArgumentException("Role names must not be empty.", nameof(roles));
            }

            ArgumentNullException.ThrowIfNull(definition);
            if (definition.Groups.Any(string.IsNullOrEmpty) || definition.Upstreams.Any(string.IsNullOrEmpty))
            {
                throw new ArgumentException($"Role '{role}' has an empty group or upstream name.", nameof(roles));
            }

            foreach (var group in definition.Groups)
            {
                if (!byGroup.TryGetValue(group, out var set))
                {
                    byGroup[group] = set = new SortedSet<string>(StringComparer.Ordinal);
                }

                set.Add(role);
            }

            _upstreamsByRole[role] = new HashSet<string>(definition.Upstreams, StringComparer.Ordinal);
        }

        foreach (var (group, set) in byGroup)
        {
            _rolesByGroup[group] = [.. set];
        }
    }

    /// <summary>The roles granted to <paramref name="identity"/>, sorted ordinally; empty when none.</summary>
    public IReadOnlyList<string> RolesFor(AuthenticatedIdentity identity)
    {
        ArgumentNullException.ThrowIfNull(identity);
        return RolesFor(identity.Groups);
    }

    /// <summary>The roles granted to members of <paramref name="groups"/>, sorted ordinally; empty when none.</summary>
    public IReadOnlyList<string> RolesFor(IReadOnlyList<string> groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var roles = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var group in groups)
        {
            if (_rolesByGroup.TryGetValue(group, out var granted))
            {
                roles.UnionWith(granted);
            }
        }

        return [.. roles];
    }

    /// <summary>Whether any of <paramref name="roles"/> may use <paramref name="upstreamName"/>; unknown roles grant nothing.</summary>
    public bool MayUse(IReadOnlyList<string> roles, string upstreamName)
    {
        ArgumentNullException.ThrowIfNull(roles);
        foreach (var role in roles)
        {
            if (_upstreamsByRole.TryGetValue(role, out var upstreams)
                && (upstreams.Contains(AllUpstreams) || upstreams.Contains(upstreamName)))
            {
                return true;
            }
        }

        return false;
    }
}
