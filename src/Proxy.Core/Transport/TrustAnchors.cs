using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Proxy.Core.Transport;

/// <summary>
/// The CA certificates an upstream is verified against, read from their PEM file once and again only when the
/// file changes (rotation needs no restart). Reading them per login cost a file parse per session and kept a
/// native certificate alive for every session's life through its validation callback.
/// </summary>
public static class TrustAnchors
{
    private static readonly ConcurrentDictionary<string, Entry> Cache = new(StringComparer.Ordinal);

    private sealed record Entry(DateTime LastWriteUtc, long Length, X509Certificate2Collection Certificates);

    /// <summary>The certificates in <paramref name="pemPath"/>; an <see cref="IOException"/> when the file cannot be read or holds none.</summary>
    public static X509Certificate2Collection For(string pemPath)
    {
        var file = new FileInfo(pemPath);
        if (!file.Exists)
        {
            throw new FileNotFoundException($"the CA certificate file {pemPath} does not exist", pemPath);
        }

        if (Cache.TryGetValue(pemPath, out var cached) && cached.LastWriteUtc == file.LastWriteTimeUtc && cached.Length == file.Length)
        {
            return cached.Certificates;
        }

        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(pemPath);
        }
        catch (CryptographicException ex)
        {
            // An IOException, like a missing file: the login fails naming the file, as for any unreachable upstream.
            throw new IOException($"the CA certificate file {pemPath} cannot be read: {ex.Message}", ex);
        }

        if (certificates.Count == 0)
        {
            throw new IOException($"the CA certificate file {pemPath} holds no certificate");
        }

        // A replaced collection is not disposed: a handshake running right now may still be using it.
        Cache[pemPath] = new Entry(file.LastWriteTimeUtc, file.Length, certificates);
        return certificates;
    }
}
