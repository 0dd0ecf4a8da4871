using System.IO.Pipelines;

namespace Gatehouse.Proxy.Core.Transport;

/// <summary>Pipes over a stream (a TLS session), sized so that one session's buffering stays bounded.</summary>
public sealed class StreamDuplexPipe : IDuplexPipe, IAsyncDisposable
{
    private readonly Stream _stream;

    /// <summary>Creates pipes over <paramref name="stream"/>, which this object then owns.</summary>
    public StreamDuplexPipe(Stream stream)
    {
        _stream = stream;
        // Zero-byte reads: an idle session holds no read buffer (SslStream supports them without its own buffer).
        Input = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, minimumReadSize: 4096, leaveOpen: true, useZeroByteReads: true));
        Output = PipeWriter.Create(stream, new StreamPipeWriterOptions(minimumBufferSize: 16 * 1024, leaveOpen: true));
    }

    /// <summary>What TLS negotiated when the stream is TLS ("TLSv1.3 TLS_AES_256_GCM_SHA384"); null otherwise.</summary>
    public string? Tls => _stream is System.Net.Security.SslStream ssl ? TlsDescription.Of(ssl) : null;

    /// <inheritdoc />
    public PipeReader Input { get; }

    /// <inheritdoc />
    public PipeWriter Output { get; }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await Input.CompleteAsync().ConfigureAwait(false);
        await Output.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}
