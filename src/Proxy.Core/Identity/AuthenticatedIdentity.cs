namespace Gatehouse.Proxy.Core.Identity;

/// <summary>Who a validated token says the caller is.</summary>
/// <param name="Subject">The token's <c>sub</c>.</param>
/// <param name="Groups">Values of the groups claim, in token order, without duplicates.</param>
/// <param name="ExpiresAt">The token's <c>exp</c>; session lifetime is a separate policy (DESIGN §2).</param>
/// <param name="Issuer">The token's <c>iss</c>.</param>
public sealed record AuthenticatedIdentity(string Subject, IReadOnlyList<string> Groups, DateTimeOffset ExpiresAt, string Issuer);
