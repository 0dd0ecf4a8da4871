using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Proxy.Core.Identity;

/// <summary>Where remote (non-development) signing keys come from: a JWKS file, a JWKS URL or OIDC discovery.</summary>
internal interface ISigningKeySource : IDisposable
{
    /// <summary>Fetches the current key set; throws when it cannot (the store keeps the last good set).</summary>
    Task<JsonWebKeySet> FetchAsync(CancellationToken cancellationToken);
}
