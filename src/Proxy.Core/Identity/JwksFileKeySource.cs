using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Proxy.Core.Identity;

/// <summary>Reads a JWKS JSON file; re-read on each refresh so a rotated file needs no restart.</summary>
internal sealed class JwksFileKeySource(string path) : ISigningKeySource
{
    // A JWKS with a handful of keys is a few KiB; refuse anything absurd rather than buffer it.
    private const long MaxFileBytes = 1024 * 1024;

    public async Task<JsonWebKeySet> FetchAsync(CancellationToken cancellationToken)
    {
        var length = new FileInfo(path).Length;
        if (length > MaxFileBytes)
        {
            throw new InvalidDataException($"JWKS file is {length} bytes; the limit is {MaxFileBytes}.");
        }

        var json = await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false);
        return new JsonWebKeySet(json);
    }

    public void Dispose()
    {
    }
}
