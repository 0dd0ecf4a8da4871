using Gatehouse.Proxy.Core.Identity;

namespace Gatehouse.Proxy.Core.Sessions;

/// <summary>
/// Clients log in with an OIDC token as their password: the token is validated, its groups become roles,
/// and a role must grant the upstream. A valid token without such a role is "not authorized", not "bad
/// password", so the person sees which of the two to fix.
/// </summary>
public sealed class TokenClientAuthenticator : IClientAuthenticator
{
    private readonly JwtIdentityValidator _validator;
    private RoleMap _roles;

    /// <summary>Creates the authenticator.</summary>
    public TokenClientAuthenticator(JwtIdentityValidator validator, RoleMap roles)
    {
        _validator = validator;
        _roles = roles;
    }

    /// <summary>The roles from a configuration reload, for logins from now on; a live session keeps the roles it logged in with.</summary>
    public void Reload(RoleMap roles) => Volatile.Write(ref _roles, roles);

    /// <inheritdoc />
    public async ValueTask<ClientAuthResult> AuthenticateAsync(string credential, string upstream, CancellationToken cancellationToken)
    {
        var outcome = await _validator.ValidateAsync(credential, cancellationToken).ConfigureAwait(false);
        if (!outcome.Succeeded || outcome.Identity is not { } identity)
        {
            return ClientAuthResult.Refused("token_" + ToLabel(outcome.Reason), "token rejected: " + outcome.Message);
        }

        var map = Volatile.Read(ref _roles); // one map for the whole decision
        var roles = map.RolesFor(identity);
        if (!map.MayUse(roles, upstream))
        {
            return ClientAuthResult.Refused("not_authorized",
                $"\"{identity.Subject}\" has no role that grants upstream \"{upstream}\" (groups: {string.Join(", ", identity.Groups)})", notAuthorized: true);
        }

        return new ClientAuthResult(identity.Subject, identity.Groups, roles);
    }

    private static string ToLabel(TokenRejection reason) => reason.ToString().ToLowerInvariant();
}
