using Gatehouse.Proxy.Core.Identity;

namespace Gatehouse.Tests.Identity;

public sealed class RoleMapTests
{
    private static readonly RoleMap Map = new(new Dictionary<string, RoleDefinition>
    {
        ["admin"] = new(["platform-admins"], ["*"]),
        ["analyst"] = new(["data", "finance"], ["reporting", "warehouse"]),
        ["support"] = new(["support"], ["orders"]),
        ["nobody"] = new([], ["orders"]),
    });

    private static AuthenticatedIdentity Identity(params string[] groups) =>
        new("alice", groups, DateTimeOffset.UnixEpoch, "https://idp");

    [Fact]
    public void A_role_is_granted_by_any_of_its_groups()
    {
        Assert.Equal(["analyst"], Map.RolesFor(Identity("finance")));
        Assert.Equal(["analyst", "support"], Map.RolesFor(Identity("support", "data", "finance")));
        Assert.Empty(Map.RolesFor(Identity("unrelated")));
        Assert.Empty(Map.RolesFor(Identity()));
    }

    [Fact]
    public void Group_names_are_case_sensitive()
    {
        Assert.Empty(Map.RolesFor(Identity("Finance")));
    }

    [Fact]
    public void Upstreams_are_limited_to_the_roles_lists()
    {
        var roles = Map.RolesFor(Identity("data"));
        Assert.True(Map.MayUse(roles, "reporting"));
        Assert.True(Map.MayUse(roles, "warehouse"));
        Assert.False(Map.MayUse(roles, "orders"));
        Assert.False(Map.MayUse([], "reporting"));
    }

    [Fact]
    public void Star_means_every_upstream()
    {
        var roles = Map.RolesFor(Identity("platform-admins"));
        Assert.Equal(["admin"], roles);
        Assert.True(Map.MayUse(roles, "orders"));
        Assert.True(Map.MayUse(roles, "anything-at-all"));
    }

    [Fact]
    public void Unknown_role_names_grant_nothing()
    {
        Assert.False(Map.MayUse(["root"], "orders"));
    }

    [Fact]
    public void Empty_names_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new RoleMap(new Dictionary<string, RoleDefinition> { [""] = new(["g"], ["u"]) }));
        Assert.Throws<ArgumentException>(() => new RoleMap(new Dictionary<string, RoleDefinition> { ["r"] = new([""], ["u"]) }));
        Assert.Throws<ArgumentException>(() => new RoleMap(new Dictionary<string, RoleDefinition> { ["r"] = new(["g"], [""]) }));
    }
}
