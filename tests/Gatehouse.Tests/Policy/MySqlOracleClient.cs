using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Tests.Policy;

/// <summary>
/// A minimal MySQL protocol client for the effect oracle: mysql_native_password login and COM_QUERY with
/// CLIENT_MULTI_STATEMENTS, so a whole text reaches the server as one request and is split by the server itself
/// (the mariadb CLI splits on its own delimiter first, which is not what a gateway's client sends).
/// </summary>
internal sealed class MySqlOracleClient : IAsyncDisposable
{
    // LONG_PASSWORD | CONNECT_WITH_DB (added when a database is given) | LOCAL_FILES | PROTOCOL_41 | TRANSACTIONS
    // | SECURE_CONNECTION | MULTI_STATEMENTS | MULTI_RESULTS | PS_MULTI_RESULTS | PLUGIN_AUTH | DEPRECATE_EOF
    private const uint Capabilities = 0x1 | 0x80 | 0x200 | 0x2000 | 0x8000 | 0x10000 | 0x20000 | 0x40000 | 0x80000 | 0x1000000;
    private const uint ConnectWithDb = 0x8;
    private const ushort MoreResultsExist = 0x8;

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private MySqlOracleClient(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<MySqlOracleClient> ConnectAsync(int port, string user, string password, string? database)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync("127.0.0.1", port);
        var client = new MySqlOracleClient(tcp);
        try
        {
            await client.LoginAsync(user, password, database);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    private async Task LoginAsync(string user, string password, string? database)
    {
        var (_, greeting) = await ReadAsync();
        var p = greeting;
        var at = Array.IndexOf(p, (byte)0, 1) + 1 + 4; // protocol version, server version, connection id
        var salt = new List<byte>(p.AsSpan(at, 8).ToArray());
        at += 8 + 1 + 2 + 1 + 2 + 2; // salt part 1, filler, capability low, charset, status, capability high
        var saltLength = p[at];
        at += 1 + 10;
        var part2 = Math.Max(13, saltLength - 8);
        salt.AddRange(p.AsSpan(at, part2 - 1).ToArray()); // the last byte is a NUL

        var caps = Capabilities | (database is null ? 0 : ConnectWithDb);
        var body = new MemoryStream();
        var header = new byte[32];
        BinaryPrimitives.WriteUInt32LittleEndian(header, caps);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), 1 << 24);
        header[8] = 45; // utf8mb4_general_ci
        body.Write(header);
        body.Write(Encoding.UTF8.GetBytes(user + "\0"));
        var scramble = Scramble(password, salt.ToArray());
        body.WriteByte((byte)scramble.Length);
        body.Write(scramble);
        if (database is not null)
        {
            body.Write(Encoding.UTF8.GetBytes(database + "\0"));
        }

        body.Write("mysql_native_password\0"u8);
        await WriteAsync(1, body.ToArray());

        var (sequence, reply) = await ReadAsync();
        if (reply[0] == 0xFE)
        {
            // Auth switch: plugin name, then the new salt (NUL-terminated).
            var nameEnd = Array.IndexOf(reply, (byte)0, 1);
            var newSalt = reply.AsSpan(nameEnd + 1).TrimEnd((byte)0).ToArray();
            await WriteAsync((byte)(sequence + 1), Scramble(password, newSalt));
            (_, reply) = await ReadAsync();
        }

        if (reply[0] != 0x00)
        {
            throw new InvalidOperationException("login refused: " + ErrorText(reply));
        }
    }

    private static byte[] Scramble(string password, byte[] salt)
    {
        if (password.Length == 0)
        {
            return [];
        }

        var stage1 = SHA1.HashData(Encoding.UTF8.GetBytes(password));
        var stage2 = SHA1.HashData(stage1);
        var mix = SHA1.HashData([.. salt, .. stage2]);
        for (var i = 0; i < mix.Length; i++)
        {
            mix[i] ^= stage1[i];
        }

        return mix;
    }

    /// <summary>
    /// Sends one COM_QUERY and reads every result until the server says no more follow. The server stops a
    /// multi-statement text at its first error, so the error ends the outcome too.
    /// </summary>
    public async Task<QueryOutcome> QueryAsync(string sql)
    {
        await WriteAsync(0, [0x03, .. Encoding.UTF8.GetBytes(sql)]);
        var outcome = new QueryOutcome();
        while (true)
        {
            var (sequence, p) = await ReadAsync();
            ushort status;
            switch (p[0])
            {
                case 0x00:
                    status = OkStatus(p);
                    outcome.Succeeded++;
                    break;
                case 0xFF:
                    outcome.Error = ErrorText(p);
                    return outcome;
                case 0xFB:
                    // LOAD DATA LOCAL INFILE asks for a file: an empty packet says "no data".
                    await WriteAsync((byte)(sequence + 1), []);
                    continue;
                default:
                    var rows = new List<string?[]>();
                    var columns = (int)LengthEncoded(p, 0).Value;
                    for (var i = 0; i < columns; i++)
                    {
                        await ReadAsync();
                    }

                    while (true)
                    {
                        var (_, row) = await ReadAsync();
                        if (row[0] == 0xFF)
                        {
                            outcome.Error = ErrorText(row);
                            return outcome;
                        }

                        if (row[0] == 0xFE && row.Length < 0xFFFFFF)
                        {
                            status = OkStatus(row);
                            break;
                        }

                        rows.Add(ParseRow(row, columns));
                    }

                    outcome.ResultSets.Add(rows);
                    outcome.Succeeded++;
                    break;
            }

            if ((status & MoreResultsExist) == 0)
            {
                return outcome;
            }
        }
    }

    private static ushort OkStatus(byte[] p)
    {
        var affected = LengthEncoded(p, 1);
        var insertId = LengthEncoded(p, affected.Next);
        return BinaryPrimitives.ReadUInt16LittleEndian(p.AsSpan(insertId.Next));
    }

    private static string?[] ParseRow(byte[] row, int columns)
    {
        var values = new string?[columns];
        var at = 0;
        for (var i = 0; i < columns; i++)
        {
            if (row[at] == 0xFB)
            {
                at++;
                continue;
            }

            var (length, next) = LengthEncoded(row, at);
            values[i] = Encoding.UTF8.GetString(row, next, (int)length);
            at = next + (int)length;
        }

        return values;
    }

    private static (ulong Value, int Next) LengthEncoded(byte[] p, int at) => p[at] switch
    {
        < 0xFB => (p[at], at + 1),
        0xFC => (BinaryPrimitives.ReadUInt16LittleEndian(p.AsSpan(at + 1)), at + 3),
        0xFD => ((ulong)(p[at + 1] | (p[at + 2] << 8) | (p[at + 3] << 16)), at + 4),
        _ => (BinaryPrimitives.ReadUInt64LittleEndian(p.AsSpan(at + 1)), at + 9),
    };

    private static string ErrorText(byte[] p) =>
        p.Length > 9 && p[0] == 0xFF
            ? $"{BinaryPrimitives.ReadUInt16LittleEndian(p.AsSpan(1))}: {Encoding.UTF8.GetString(p, 9, p.Length - 9)}"
            : "(not an error packet)";

    private async Task WriteAsync(byte sequence, byte[] payload)
    {
        var packet = new byte[4 + payload.Length];
        packet[0] = (byte)payload.Length;
        packet[1] = (byte)(payload.Length >> 8);
        packet[2] = (byte)(payload.Length >> 16);
        packet[3] = sequence;
        payload.CopyTo(packet, 4);
        await _stream.WriteAsync(packet);
    }

    private async Task<(byte Sequence, byte[] Payload)> ReadAsync()
    {
        // A hostile text that hangs the server (a lock wait, a sleep) should fail the case, not the whole run.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var head = new byte[4];
        await _stream.ReadExactlyAsync(head, timeout.Token);
        var payload = new byte[head[0] | (head[1] << 8) | (head[2] << 16)];
        await _stream.ReadExactlyAsync(payload, timeout.Token);
        return (head[3], payload);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            // COM_QUIT, so the server ends the session (and rolls back what it left open) promptly.
            await WriteAsync(0, [0x01]);
        }
        catch (IOException)
        {
            // already gone (e.g. the text killed its own connection)
        }
        catch (ObjectDisposedException)
        {
        }

        await _stream.DisposeAsync();
        _tcp.Dispose();
    }
}

/// <summary>What the server answered to one multi-statement text.</summary>
internal sealed class QueryOutcome
{
    public List<List<string?[]>> ResultSets { get; } = [];

    /// <summary>Results (OK or result set) before the error, if any: how many statements the server ran.</summary>
    public int Succeeded { get; set; }

    public string? Error { get; set; }
}
