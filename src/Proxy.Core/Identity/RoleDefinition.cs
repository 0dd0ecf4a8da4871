namespace Gatehouse.Proxy.Core.Identity;

/// <summary>A role: granted to members of any of <paramref name="Groups"/>, allowing <paramref name="Upstreams"/>.</summary>
/// <param name="Groups">Group names as they appear in the groups claim (compared ordinally).</param>
/// <param name="Upstreams">Upstream names the role may use; <c>"*"</c> means all.</param>
public sealed record RoleDefinition(IReadOnlyList<string> Groups, IReadOnlyList<string> Upstreams);
