using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Fuzz.Support;

namespace Gatehouse.Tests.MySql;

/// <summary>
/// A MySQL server that speaks just enough of the protocol for the faults a real one will not produce
/// (MySqlConnector <c>tests/MySqlConnector.Tests/FakeMySqlServer.cs</c>): it greets with a chosen plugin,
/// scramble and capabilities, upgrades to TLS with a self-signed certificate when asked, and then runs a
/// script per connection. Everything it receives is recorded, so a test can assert what never arrived.
/// </summary>
internal sealed class FakeMySqlServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<FakeMySqlConnection, Task> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<Task> _connections = new();
    private readonly TaskCompletionSource _firstDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _accepting;

    public FakeMySqlServer(Func<FakeMySqlConnection, Task> script, FakeGreeting? greeting = null)
    {
        _script = script;
        Greeting = greeting ?? new FakeGreeting();
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public FakeGreeting Greeting { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Every connection accepted so far, in order.</summary>
    public ConcurrentQueue<FakeMySqlConnection> Accepted { get; } = new();

    /// <summary>Completes when the first connection's script ends; faults with what the script threw.</summary>
    public Task FirstConnectionDone => _firstDone.Task;

    private static readonly Lazy<X509Certificate2> SharedCertificate = new(CreateCertificate);

    /// <summary>A self-signed ECDSA certificate for "localhost", exportable so SslStream can use its key on Linux.</summary>
    public static X509Certificate2 Certificate => SharedCertificate.Value;

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient tcp;
            try
            {
                tcp = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            var connection = new FakeMySqlConnection(tcp, Greeting);
            var first = Accepted.IsEmpty;
            Accepted.Enqueue(connection);
            _connections.Enqueue(RunAsync(connection, first));
        }
    }

    private async Task RunAsync(FakeMySqlConnection connection, bool first)
    {
        try
        {
            await connection.SendGreetingAsync();
            await _script(connection);
            if (first)
            {
                _firstDone.TrySetResult();
            }
        }
#pragma warning disable CA1031 // the script's failure is reported through FirstConnectionDone
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (first)
            {
                _firstDone.TrySetException(ex);
            }
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        foreach (var connection in Accepted)
        {
            await connection.DisposeAsync();
        }

        await Task.WhenAll(_connections).WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
        _stop.Dispose();
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }
}

/// <summary>What the fake server's greeting announces.</summary>
internal sealed record FakeGreeting
{
    public string Plugin { get; init; } = "mysql_native_password";

    public byte[] Scramble { get; init; } = [.. "abcdefgh0123456789AB"u8];

    public uint Capabilities { get; init; } = MySqlMessages.ServerCaps;

    public uint ConnectionId { get; init; } = 4242;

    public string Version { get; init; } = "8.0.99-fake";

    /// <summary>Bytes sent in the same write as the greeting, right behind it (a server that talks out of turn).</summary>
    public byte[] Trailer { get; init; } = [];
}

/// <summary>One accepted connection: packet I/O for the script, and a record of every packet it read.</summary>
internal sealed class FakeMySqlConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly FakeGreeting _greeting;
    private Stream _stream;
    private int _disposed;

    public FakeMySqlConnection(TcpClient tcp, FakeGreeting greeting)
    {
        _tcp = tcp;
        _greeting = greeting;
        _stream = tcp.GetStream();
    }

    public bool IsTls => _stream is SslStream;

    /// <summary>Every packet read, with whether it came over TLS.</summary>
    public ConcurrentQueue<(bool Tls, byte Sequence, byte[] Payload)> Received { get; } = new();

    public Task SendGreetingAsync()
        => WriteRawAsync([.. MySqlMessages.Packet(0, MySqlMessages.GreetingPayload(_greeting.Version, _greeting.ConnectionId, _greeting.Scramble, _greeting.Capabilities, _greeting.Plugin)), .. _greeting.Trailer]);

    public async Task WriteAsync(byte sequence, byte[] payload)
    {
        await _stream.WriteAsync(MySqlMessages.Packet(sequence, payload));
        await _stream.FlushAsync();
    }

    /// <summary>Writes bytes as they are: whole scripted responses, or deliberately broken packets.</summary>
    public async Task WriteRawAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    /// <summary>Reads one packet, or null when the peer closed (or the wait timed out).</summary>
    public async Task<(byte Sequence, byte[] Payload)?> ReadAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        var head = new byte[4];
        if (!await FillAsync(head, cts.Token))
        {
            return null;
        }

        var payload = new byte[head[0] | (head[1] << 8) | (head[2] << 16)];
        if (!await FillAsync(payload, cts.Token))
        {
            return null;
        }

        Received.Enqueue((IsTls, head[3], payload));
        return (head[3], payload);
    }

    /// <summary>Reads a packet that must be there.</summary>
    public async Task<(byte Sequence, byte[] Payload)> ExpectAsync(byte sequence)
    {
        var packet = await ReadAsync() ?? throw new InvalidOperationException($"the client closed instead of sending packet {sequence}");
        if (packet.Sequence != sequence)
        {
            throw new InvalidOperationException($"packet with sequence {packet.Sequence}, expected {sequence}");
        }

        return packet;
    }

    /// <summary>After the client's SSL request: the TLS handshake as the server, with the shared self-signed certificate.</summary>
    public async Task StartTlsAsync()
    {
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
        await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
        {
            ServerCertificate = FakeMySqlServer.Certificate,
            EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
        });
        _stream = ssl;
    }

    /// <summary>
    /// Reads the client's handshake response; if it is an SSL request (32 bytes with CLIENT_SSL), runs TLS and
    /// reads the real response at the next sequence id. Returns the response's sequence id and payload.
    /// </summary>
    public async Task<(byte Sequence, byte[] Payload)> ReadHandshakeResponseAsync()
    {
        var packet = await ExpectAsync(1);
        if (packet.Payload.Length == 32 && (BitConverter.ToUInt32(packet.Payload) & MySqlMessages.Ssl) != 0)
        {
            await StartTlsAsync();
            packet = await ExpectAsync(2);
        }

        return packet;
    }

    private async Task<bool> FillAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        var at = 0;
        while (at < buffer.Length)
        {
            int n;
            try
            {
                n = await _stream.ReadAsync(buffer.AsMemory(at), cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
            {
                return false;
            }

            if (n == 0)
            {
                return false;
            }

            at += n;
        }

        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await _stream.DisposeAsync();
        }
        catch (IOException)
        {
        }

        _tcp.Dispose();
    }
}

/// <summary>The fields of a HandshakeResponse41 the fake server checks, parsed independently of the gateway.</summary>
internal sealed record FakeHandshakeResponse(uint Capabilities, string User, byte[] AuthData, string? Database, string? Plugin)
{
    public static FakeHandshakeResponse Parse(byte[] payload)
    {
        var caps = BitConverter.ToUInt32(payload);
        var at = 32;
        var user = CString(payload, ref at);
        // The gateway's auth responses are under 251 bytes, so a length-encoded length is one byte too.
        var length = payload[at++];
        var auth = payload[at..(at + length)];
        at += length;
        var database = (caps & MySqlMessages.ConnectWithDb) != 0 && at < payload.Length ? CString(payload, ref at) : null;
        var plugin = (caps & MySqlMessages.PluginAuth) != 0 && at < payload.Length ? CString(payload, ref at) : null;
        return new FakeHandshakeResponse(caps, user, auth, database, plugin);
    }

    private static string CString(byte[] payload, ref int at)
    {
        var end = Array.IndexOf(payload, (byte)0, at);
        var value = System.Text.Encoding.UTF8.GetString(payload, at, end - at);
        at = end + 1;
        return value;
    }
}
