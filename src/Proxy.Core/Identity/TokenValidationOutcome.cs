namespace Gatehouse.Proxy.Core.Identity;

/// <summary>The result of validating a token: an identity, or a reason and a message safe to show the client.</summary>
/// <param name="Identity">The caller, when accepted.</param>
/// <param name="Reason"><see cref="TokenRejection.None"/> when accepted.</param>
/// <param name="Message">Human-readable; never contains the token or values copied from it.</param>
public readonly record struct TokenValidationOutcome(AuthenticatedIdentity? Identity, TokenRejection Reason, string Message)
{
    /// <summary>Whether the token was accepted.</summary>
    public bool Succeeded => Identity is not null && Reason == TokenRejection.None;
}
