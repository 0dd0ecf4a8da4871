using System.IO.Pipelines;
using Gatehouse.Proxy.Core.Transport;
using Microsoft.AspNetCore.Connections;

namespace Gatehouse.Protocols.Postgres;

/// <summary>A logged-in connection to the database, ready to relay.</summary>
internal sealed class PgUpstreamConnection : IAsyncDisposable
{
    private readonly IAsyncDisposable _socket;
    private readonly IAsyncDisposable? _tls;

    public PgUpstreamConnection(IAsyncDisposable socket, IDuplexPipe transport, IAsyncDisposable? tls)
    {
        _socket = socket;
        Transport = transport;
        _tls = tls;
    }

    public IDuplexPipe Transport { get; }

    /// <summary>What TLS to the upstream negotiated; null without TLS.</summary>
    public string? Tls => (Transport as StreamDuplexPipe)?.Tls;

    public List<KeyValuePair<string, string>> ParameterStatus { get; } = [];

    public int ProcessId { get; set; }

    public int Secret { get; set; }

    /// <summary>The transaction status of the first ReadyForQuery.</summary>
    public byte TransactionStatus { get; set; } = (byte)'I';

    public async ValueTask DisposeAsync()
    {
        if (_tls is not null)
        {
            await _tls.DisposeAsync().ConfigureAwait(false);
        }

        await _socket.DisposeAsync().ConfigureAwait(false);
    }
}
