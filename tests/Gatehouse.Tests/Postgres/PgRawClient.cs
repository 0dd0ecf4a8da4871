using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests.Postgres;

/// <summary>Speaks the PostgreSQL wire protocol by hand, for the edges no driver reaches.</summary>
public sealed class PgRawClient : IAsyncDisposable
{
    private readonly TcpClient _tcp;

    private PgRawClient(TcpClient tcp, Stream stream)
    {
        _tcp = tcp;
        Stream = stream;
    }

    public Stream Stream { get; set; }

    public static async Task<PgRawClient> ConnectAsync(int port)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        return new PgRawClient(tcp, tcp.GetStream());
    }

    public static byte[] Startup(int minor = 0, params (string Key, string Value)[] parameters)
    {
        var body = new MemoryStream();
        foreach (var (k, v) in parameters)
        {
            body.Write(Encoding.UTF8.GetBytes(k + "\0" + v + "\0"));
        }

        body.WriteByte(0);
        var packet = new byte[8 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(packet, packet.Length);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), (3 << 16) | minor);
        body.ToArray().CopyTo(packet, 8);
        return packet;
    }

    public static byte[] Request(int code)
    {
        var packet = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(packet, 8);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), code);
        return packet;
    }

    public static byte[] Message(char type, byte[] body, int? lengthOverride = null)
    {
        var m = new byte[5 + body.Length];
        m[0] = (byte)type;
        BinaryPrimitives.WriteInt32BigEndian(m.AsSpan(1), lengthOverride ?? body.Length + 4);
        body.CopyTo(m, 5);
        return m;
    }

    public static byte[] CString(string s) => Encoding.UTF8.GetBytes(s + "\0");

    public Task SendAsync(byte[] bytes) => Stream.WriteAsync(bytes).AsTask();

    /// <summary>Reads one typed message, or null when the connection closed.</summary>
    public async Task<(char Type, byte[] Body)?> ReadAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var head = new byte[5];
        if (!await FillAsync(head, cts.Token))
        {
            return null;
        }

        var length = BinaryPrimitives.ReadInt32BigEndian(head.AsSpan(1));
        var body = new byte[length - 4];
        if (!await FillAsync(body, cts.Token))
        {
            return null;
        }

        return ((char)head[0], body);
    }

    /// <summary>Reads one raw byte (the answer to SSLRequest), or -1 when closed.</summary>
    public async Task<int> ReadByteAsync()
    {
        var one = new byte[1];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        return await Stream.ReadAsync(one, cts.Token) == 0 ? -1 : one[0];
    }

    private async Task<bool> FillAsync(byte[] buffer, CancellationToken ct)
    {
        try
        {
            await Stream.ReadExactlyAsync(buffer, ct);
            return true;
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException)
        {
            return false;
        }
    }

    /// <summary>Asks for TLS (SSLRequest) and, when the server agrees, speaks it from here on (any certificate).</summary>
    public async Task StartTlsAsync()
    {
        await SendAsync(Request(80877103));
        if (await ReadByteAsync() == 'S')
        {
            var ssl = new System.Net.Security.SslStream(Stream, false, (_, _, _, _) => true);
            await ssl.AuthenticateAsClientAsync("localhost");
            Stream = ssl;
        }
    }

    /// <summary>Reads messages through the <paramref name="readies"/>-th ReadyForQuery.</summary>
    public async Task<List<(char Type, byte[] Body)>> UntilReadyAsync(int readies = 1)
    {
        var seen = new List<(char, byte[])>();
        while (readies > 0)
        {
            var m = await ReadAsync() ?? throw new InvalidOperationException("closed after: " + string.Concat(seen.Select(s => s.Item1)));
            seen.Add(m);
            readies -= m.Type == 'Z' ? 1 : 0;
        }

        return seen;
    }

    /// <summary>The values of a DataRow body, as text (null for SQL NULL).</summary>
    public static string?[] Values(byte[] body)
    {
        var values = new string?[BinaryPrimitives.ReadInt16BigEndian(body)];
        var at = 2;
        for (var i = 0; i < values.Length; i++)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(body.AsSpan(at));
            at += 4;
            if (length >= 0)
            {
                values[i] = Encoding.UTF8.GetString(body, at, length);
                at += length;
            }
        }

        return values;
    }

    /// <summary>Logs in on a plaintext loopback listener and reads up to the first ReadyForQuery.</summary>
    public async Task<List<(char Type, byte[] Body)>> LoginAsync(string token, string user = "alice", string database = "app")
    {
        await SendAsync(Startup(0, ("user", user), ("database", database)));
        var auth = await ReadAsync() ?? throw new InvalidOperationException("closed before the auth request");
        Assert.Equal('R', auth.Type);
        Assert.Equal(3, BinaryPrimitives.ReadInt32BigEndian(auth.Body));
        await SendAsync(Message('p', CString(token)));
        var seen = new List<(char, byte[])>();
        while (true)
        {
            var m = await ReadAsync() ?? throw new InvalidOperationException("closed during login: " + string.Join(",", seen.Select(s => s.Item1)));
            seen.Add(m);
            if (m.Type == 'E')
            {
                throw new InvalidOperationException("login refused: " + ErrorText(m.Body));
            }

            if (m.Type == 'Z')
            {
                return seen;
            }
        }
    }

    /// <summary>"SEVERITY SQLSTATE message" of an ErrorResponse body.</summary>
    public static string ErrorText(byte[] body)
    {
        var fields = new Dictionary<char, string>();
        var at = 0;
        while (at < body.Length && body[at] != 0)
        {
            var code = (char)body[at++];
            var end = Array.IndexOf(body, (byte)0, at);
            fields[code] = Encoding.UTF8.GetString(body, at, end - at);
            at = end + 1;
        }

        return $"{fields.GetValueOrDefault('S')} {fields.GetValueOrDefault('C')} {fields.GetValueOrDefault('M')}";
    }

    public async ValueTask DisposeAsync()
    {
        await Stream.DisposeAsync();
        _tcp.Dispose();
    }
}
