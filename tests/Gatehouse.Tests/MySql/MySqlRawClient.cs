using System.Buffers.Binary;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Gatehouse.Tests.MySql;

/// <summary>Speaks the MySQL protocol by hand, for the edges no command-line client reaches.</summary>
public sealed class MySqlRawClient : IAsyncDisposable
{
    // PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH | PLUGIN_AUTH_LENENC | CONNECT_WITH_DB | MULTI_RESULTS | DEPRECATE_EOF | TRANSACTIONS | LONG_PASSWORD
    public const uint DefaultCaps = 0x200 | 0x8000 | 0x80000 | 0x200000 | 0x8 | 0x20000 | 0x1000000 | 0x2000 | 0x1;
    public const uint Ssl = 0x800;
    public const uint LocalFiles = 0x80;

    private readonly TcpClient _tcp;

    private MySqlRawClient(TcpClient tcp)
    {
        _tcp = tcp;
        Stream = tcp.GetStream();
    }

    public Stream Stream { get; private set; }

    public uint ServerCapabilities { get; private set; }

    public uint ConnectionId { get; private set; }

    public static async Task<MySqlRawClient> ConnectAsync(int port)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        return new MySqlRawClient(tcp);
    }

    public static byte[] Packet(byte sequence, ReadOnlySpan<byte> payload, int? lengthOverride = null)
    {
        var p = new byte[4 + payload.Length];
        var length = lengthOverride ?? payload.Length;
        p[0] = (byte)length;
        p[1] = (byte)(length >> 8);
        p[2] = (byte)(length >> 16);
        p[3] = sequence;
        payload.CopyTo(p.AsSpan(4));
        return p;
    }

    public static byte[] Command(byte command, string text = "") => [command, .. Encoding.UTF8.GetBytes(text)];

    public Task SendAsync(byte[] bytes) => Stream.WriteAsync(bytes).AsTask();

    /// <summary>Reads one packet (sequence, payload), or null when the connection closed.</summary>
    public async Task<(byte Sequence, byte[] Payload)?> ReadAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        var head = new byte[4];
        if (!await FillAsync(head, cts.Token))
        {
            return null;
        }

        var length = head[0] | (head[1] << 8) | (head[2] << 16);
        var payload = new byte[length];
        return await FillAsync(payload, cts.Token) ? (head[3], payload) : null;
    }

    private async Task<bool> FillAsync(byte[] buffer, CancellationToken ct)
    {
        var at = 0;
        while (at < buffer.Length)
        {
            int n;
            try
            {
                n = await Stream.ReadAsync(buffer.AsMemory(at), ct);
            }
            catch (IOException)
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

    /// <summary>Reads the greeting; with <paramref name="tls"/> sends the SSL request and runs the handshake.</summary>
    public async Task<byte> GreetAsync(bool tls, uint caps = DefaultCaps)
    {
        var greeting = await ReadAsync() ?? throw new InvalidOperationException("no greeting");
        var p = greeting.Payload;
        var versionEnd = Array.IndexOf(p, (byte)0, 1);
        ConnectionId = BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(versionEnd + 1));
        var capLow = BinaryPrimitives.ReadUInt16LittleEndian(p.AsSpan(versionEnd + 1 + 4 + 8 + 1));
        var capHigh = BinaryPrimitives.ReadUInt16LittleEndian(p.AsSpan(versionEnd + 1 + 4 + 8 + 1 + 2 + 1 + 2));
        ServerCapabilities = capLow | ((uint)capHigh << 16);
        if (!tls)
        {
            return 1;
        }

        await SendAsync(Packet(1, Header(caps | Ssl)));
        var ssl = new SslStream(Stream, false, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync("localhost");
        Stream = ssl;
        return 2;
    }

    private static byte[] Header(uint caps)
    {
        var h = new byte[32];
        BinaryPrimitives.WriteUInt32LittleEndian(h, caps);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(4), 1 << 24);
        h[8] = 45;
        return h;
    }

    /// <summary>A HandshakeResponse41 with the token as mysql_clear_password auth data (length-encoded).</summary>
    public static byte[] ClearTokenResponse(string user, string token, string database = "app", uint caps = DefaultCaps)
    {
        var tokenBytes = Encoding.UTF8.GetBytes(token + "\0");
        var body = new MemoryStream();
        body.Write(Header(caps));
        body.Write(Encoding.UTF8.GetBytes(user + "\0"));
        body.Write(LengthEncoded(tokenBytes.Length));
        body.Write(tokenBytes);
        body.Write(Encoding.UTF8.GetBytes(database + "\0"));
        body.Write("mysql_clear_password\0"u8);
        return body.ToArray();
    }

    private static byte[] LengthEncoded(int n) => n < 251 ? [(byte)n] : [0xFC, (byte)n, (byte)(n >> 8)];

    /// <summary>Greets, logs in with the token over TLS (or plaintext), and returns the OK packet's sequence.</summary>
    public async Task LoginAsync(string token, bool tls = true, string user = "alice")
    {
        var sequence = await GreetAsync(tls);
        if (tls)
        {
            await SendAsync(Packet(sequence, ClearTokenResponse(user, token, caps: DefaultCaps | Ssl)));
        }
        else
        {
            await SendAsync(Packet(sequence, ClearTokenResponse(user, token)));
        }

        var reply = await ReadAsync() ?? throw new InvalidOperationException("closed during login");
        if (reply.Payload[0] != 0x00)
        {
            throw new InvalidOperationException("login refused: " + ErrorText(reply.Payload));
        }
    }

    /// <summary>Sends a command and reads packets until the response ends (OK, ERR, or the final EOF/OK of a result set).</summary>
    public async Task<List<byte[]>> CommandAsync(byte[] payload)
    {
        await SendAsync(Packet(0, payload));
        return await ReadResponseAsync();
    }

    public async Task<List<byte[]>> ReadResponseAsync()
    {
        var packets = new List<byte[]>();
        var first = await ReadAsync() ?? throw new InvalidOperationException("closed");
        packets.Add(first.Payload);
        if (first.Payload[0] is 0x00 or 0xFF)
        {
            return packets;
        }

        // Result set with DEPRECATE_EOF: column definitions, then rows until an OK packet starting 0xFE.
        var columns = first.Payload[0];
        for (var i = 0; i < columns; i++)
        {
            packets.Add((await ReadAsync())!.Value.Payload);
        }

        while (true)
        {
            var row = (await ReadAsync() ?? throw new InvalidOperationException("closed in a result set")).Payload;
            packets.Add(row);
            if ((row[0] == 0xFE && row.Length < 0xFFFFFF) || row[0] == 0xFF)
            {
                return packets;
            }
        }
    }

    /// <summary>"code (state): message" of an ERR payload.</summary>
    public static string ErrorText(byte[] payload)
        => payload.Length > 9 && payload[0] == 0xFF
            ? $"{BinaryPrimitives.ReadUInt16LittleEndian(payload.AsSpan(1))} ({Encoding.ASCII.GetString(payload, 4, 5)}): {Encoding.UTF8.GetString(payload, 9, payload.Length - 9)}"
            : "(not an error)";

    public async ValueTask DisposeAsync()
    {
        await Stream.DisposeAsync();
        _tcp.Dispose();
    }
}
