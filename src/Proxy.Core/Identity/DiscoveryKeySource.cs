using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Proxy.Core.Identity;

/// <summary>Fetches the OIDC discovery document, then its <c>jwks_uri</c>.</summary>
internal sealed class DiscoveryKeySource(Uri url, string issuer, HttpClient http, bool requireHttps) : ISigningKeySource
{
    private readonly HttpDocumentRetriever _documents = new(http) { RequireHttps = requireHttps };

    public async Task<JsonWebKeySet> FetchAsync(CancellationToken cancellationToken)
    {
        var configuration = await OpenIdConnectConfigurationRetriever
            .GetAsync(url.AbsoluteUri, _documents, cancellationToken)
            .ConfigureAwait(false);

        // OpenID Connect Discovery 1.0 §4.3: the document's issuer must equal the issuer it was fetched for;
        // otherwise keys of one tenant could be trusted for another.
        if (!string.Equals(configuration.Issuer, issuer, StringComparison.Ordinal))
        {
            throw new InvalidDataException("The discovery document's issuer does not match the configured Issuer.");
        }

        return configuration.JsonWebKeySet
            ?? throw new InvalidDataException("The discovery document has no usable jwks_uri.");
    }

    public void Dispose() => http.Dispose();
}
