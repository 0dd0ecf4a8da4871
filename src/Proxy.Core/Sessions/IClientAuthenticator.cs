namespace Gatehouse.Proxy.Core.Sessions;

/// <summary>Turns what a client sent as its password into an identity allowed to use one upstream.</summary>
public interface IClientAuthenticator
{
    /// <summary>Never throws for bad credentials: the result says why they were refused.</summary>
    ValueTask<ClientAuthResult> AuthenticateAsync(string credential, string upstream, CancellationToken cancellationToken);
}

/// <summary>The outcome of a client login.</summary>
/// <param name="Subject">Who the client is (the token's <c>sub</c>); empty when refused.</param>
/// <param name="Groups">The identity's groups.</param>
/// <param name="Roles">The gateway roles those groups map to.</param>
/// <param name="Failure">Null on success; otherwise a reason a person understands, never containing the credential.</param>
/// <param name="FailureKind">Metric label for the refusal.</param>
/// <param name="NotAuthorized">True when the identity is valid but no role grants this upstream.</param>
public sealed record ClientAuthResult(string Subject, IReadOnlyList<string> Groups, IReadOnlyList<string> Roles,
    string? Failure = null, string FailureKind = "", bool NotAuthorized = false)
{
    /// <summary>Whether the login succeeded.</summary>
    public bool Succeeded => Failure is null;

    /// <summary>A refusal.</summary>
    public static ClientAuthResult Refused(string kind, string reason, bool notAuthorized = false)
        => new(string.Empty, [], [], reason, kind, notAuthorized);
}
