using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Proxy.Core.Identity;

/// <summary>Fetches a JWKS document over HTTP(S).</summary>
internal sealed class JwksUrlKeySource(Uri url, HttpClient http, bool requireHttps) : ISigningKeySource
{
    // HttpDocumentRetriever enforces https when asked and reports status failures uniformly.
    private readonly HttpDocumentRetriever _documents = new(http) { RequireHttps = requireHttps };

    public async Task<JsonWebKeySet> FetchAsync(CancellationToken cancellationToken)
    {
        var json = await _documents.GetDocumentAsync(url.AbsoluteUri, cancellationToken).ConfigureAwait(false);
        return new JsonWebKeySet(json);
    }

    public void Dispose() => http.Dispose();
}
