using System.IO.Pipelines;
using Gatehouse.Proxy.Core.Transport;

namespace Gatehouse.Protocols.MySql;

/// <summary>A logged-in connection to the database, ready to relay.</summary>
/// <remarks><paramref name="owner"/> closes it: the TLS pipe over the socket, or Kestrel's connection without TLS.</remarks>
internal sealed class MySqlUpstreamConnection(IAsyncDisposable owner, IDuplexPipe transport) : IAsyncDisposable
{
    public IDuplexPipe Transport { get; } = transport;

    /// <summary>The server's connection (thread) id, the one KILL must name.</summary>
    public uint ThreadId { get; set; }

    public string ServerVersion { get; set; } = "";

    public Capabilities Negotiated { get; set; }

    public bool IsTls => Transport is StreamDuplexPipe;

    /// <summary>What TLS to the upstream negotiated; null without TLS.</summary>
    public string? Tls => (Transport as StreamDuplexPipe)?.Tls;

    public async ValueTask DisposeAsync()
    {
        try
        {
            await owner.DisposeAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            // A TLS close to a peer already gone: the socket is closed all the same.
        }
    }
}
