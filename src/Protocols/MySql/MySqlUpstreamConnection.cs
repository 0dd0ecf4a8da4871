using System.IO.Pipelines;
using Gatehouse.Proxy.Core.Transport;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Protocols.MySql;

/// <summary>A logged-in connection to the database, ready to relay.</summary>
internal sealed class MySqlUpstreamConnection(ConnectionContext socket, IDuplexPipe transport, IAsyncDisposable? tls) : IAsyncDisposable
{
    public IDuplexPipe Transport { get; } = transport;

    /// <summary>The server's connection (thread) id, the one KILL must name.</summary>
    public uint ThreadId { get; set; }

    public string ServerVersion { get; set; } = "";

    public Capabilities Negotiated { get; set; }

    public bool IsTls => tls is not null;

    /// <summary>What TLS to the upstream negotiated; null without TLS.</summary>
    public string? Tls => (tls as StreamDuplexPipe)?.Tls;

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (tls is not null)
            {
                await tls.DisposeAsync().ConfigureAwait(false);
            }
        }
        catch (IOException)
        {
        }

        await socket.DisposeAsync().ConfigureAwait(false);
    }
}
