using System.Buffers.Binary;
using System.Text;

namespace Gatehouse.Fuzz.Support;

/// <summary>
/// Builds MySQL wire packets byte by byte from the protocol's formats (MySQL internals, "MySQL Packets",
/// "Connection Phase", "Text Protocol"), independently of the gateway's own writer, for seed corpora and tests.
/// </summary>
internal static class MySqlMessages
{
    public const int MaxPayload = 0xFFFFFF;

    // Capability bits, spelled out here rather than borrowed from the code under test.
    public const uint LongPassword = 1;
    public const uint LongFlag = 1 << 2;
    public const uint ConnectWithDb = 1 << 3;
    public const uint LocalFiles = 1 << 7;
    public const uint Protocol41 = 1 << 9;
    public const uint Ssl = 1 << 11;
    public const uint Transactions = 1 << 13;
    public const uint SecureConnection = 1 << 15;
    public const uint MultiStatements = 1 << 16;
    public const uint MultiResults = 1 << 17;
    public const uint PsMultiResults = 1 << 18;
    public const uint PluginAuth = 1 << 19;
    public const uint ConnectAttrs = 1 << 20;
    public const uint PluginAuthLenenc = 1 << 21;
    public const uint SessionTrack = 1 << 23;
    public const uint DeprecateEof = 1 << 24;

    /// <summary>What a modern client asks for (the mariadb client's usual set, without SSL).</summary>
    public const uint ClientCaps = LongPassword | LongFlag | ConnectWithDb | Protocol41 | Transactions | SecureConnection | MultiStatements
        | MultiResults | PsMultiResults | PluginAuth | PluginAuthLenenc | DeprecateEof;

    /// <summary>What a modern server offers (MySQL 8 / MariaDB 10.x, low 32 bits).</summary>
    public const uint ServerCaps = ClientCaps | LocalFiles | Ssl | ConnectAttrs | SessionTrack;

    /// <summary>One packet: 3-byte little-endian length, sequence id, payload.</summary>
    public static byte[] Packet(byte sequence, ReadOnlySpan<byte> payload)
    {
        var packet = new byte[4 + payload.Length];
        WriteHeader(packet, payload.Length, sequence);
        payload.CopyTo(packet.AsSpan(4));
        return packet;
    }

    /// <summary>A header alone, for lengths that lie or packets whose body is irrelevant.</summary>
    public static byte[] Header(int length, byte sequence)
    {
        var header = new byte[4];
        WriteHeader(header, length, sequence);
        return header;
    }

    private static void WriteHeader(Span<byte> at, int length, byte sequence)
    {
        if ((uint)length > MaxPayload)
        {
            throw new ArgumentOutOfRangeException(nameof(length), "a packet carries at most 0xFFFFFF bytes");
        }

        at[0] = (byte)length;
        at[1] = (byte)(length >> 8);
        at[2] = (byte)(length >> 16);
        at[3] = sequence;
    }

    /// <summary>
    /// A logical packet of any size as the wire carries it: 0xFFFFFF-byte packets while at least that much is
    /// left, then the remainder, which is empty when the payload is an exact multiple.
    /// </summary>
    public static byte[] Logical(byte firstSequence, ReadOnlySpan<byte> payload)
    {
        var parts = new List<byte[]>();
        var sequence = firstSequence;
        while (true)
        {
            var take = Math.Min(payload.Length, MaxPayload);
            parts.Add(Packet(sequence++, payload[..take]));
            payload = payload[take..];
            if (take < MaxPayload)
            {
                return Concat([.. parts]);
            }
        }
    }

    public static byte[] Concat(params byte[][] parts) => PgMessages.Concat(parts);

    // ---- commands (client to server, sequence 0) ----

    public static byte[] CommandPayload(byte command, string text = "") => [command, .. Encoding.UTF8.GetBytes(text)];

    public static byte[] Command(byte command, string text = "") => Packet(0, CommandPayload(command, text));

    public static byte[] Query(string sql) => Command(0x03, sql);

    public static byte[] Ping() => Command(0x0E);

    public static byte[] InitDb(string database) => Command(0x02, database);

    public static byte[] Quit() => Command(0x01);

    public static byte[] StmtPrepare(string sql) => Command(0x16, sql);

    public static byte[] StmtClose(uint statement)
    {
        var payload = new byte[5];
        payload[0] = 0x19;
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(1), statement);
        return Packet(0, payload);
    }

    public static byte[] ProcessKill(uint id)
    {
        var payload = new byte[5];
        payload[0] = 0x0C;
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(1), id);
        return Packet(0, payload);
    }

    public static byte[] ChangeUser(string user) => Packet(0, [0x11, .. Encoding.UTF8.GetBytes(user), 0, 0, .. "app\0"u8]);

    // ---- responses (server to client, from sequence 1) ----

    public static byte[] OkPayload(ushort status = 0x0002) => [0x00, 0, 0, (byte)status, (byte)(status >> 8), 0, 0];

    /// <summary>The OK that ends a result set under CLIENT_DEPRECATE_EOF (header 0xFE).</summary>
    public static byte[] EofOkPayload(ushort status = 0x0002) => [0xFE, 0, 0, (byte)status, (byte)(status >> 8), 0, 0];

    public static byte[] ErrPayload(ushort code, string state, string message)
        => [0xFF, (byte)code, (byte)(code >> 8), (byte)'#', .. Encoding.ASCII.GetBytes(state), .. Encoding.UTF8.GetBytes(message)];

    /// <summary>LOCAL INFILE request: 0xFB and the file name the server wants the client to send.</summary>
    public static byte[] LocalInfilePayload(string file) => [0xFB, .. Encoding.UTF8.GetBytes(file)];

    public static byte[] LengthEncoded(ulong n) => n switch
    {
        < 251 => [(byte)n],
        < 1 << 16 => [0xFC, (byte)n, (byte)(n >> 8)],
        < 1 << 24 => [0xFD, (byte)n, (byte)(n >> 8), (byte)(n >> 16)],
        _ => [0xFE, .. BitConverter.GetBytes(n)],
    };

    public static byte[] LengthEncodedString(string? value)
        => value is null ? [0xFB] : [.. LengthEncoded((ulong)Encoding.UTF8.GetByteCount(value)), .. Encoding.UTF8.GetBytes(value)];

    public static byte[] ColumnDefinitionPayload(string name)
        => [.. LengthEncodedString("def"), .. LengthEncodedString("app"), .. LengthEncodedString("t"), .. LengthEncodedString("t"),
            .. LengthEncodedString(name), .. LengthEncodedString(name), 0x0C, 45, 0, 0x00, 0x01, 0, 0, 0xFD, 0, 0, 0, 0, 0];

    public static byte[] TextRowPayload(params string?[] values) => [.. values.SelectMany(LengthEncodedString)];

    /// <summary>
    /// The payloads of one response; <see cref="Response"/> numbers them. A text result set under
    /// CLIENT_DEPRECATE_EOF: column count, definitions, rows, then an OK with header 0xFE.
    /// </summary>
    public static byte[][] ResultSetPayloads(string[] columns, params string?[][] rows)
        => [LengthEncoded((ulong)columns.Length), .. columns.Select(ColumnDefinitionPayload), .. rows.Select(r => TextRowPayload(r)), EofOkPayload()];

    /// <summary>A whole response: its packets numbered from 1 (wrapping after 255), as a server answers a command.</summary>
    public static byte[] Response(params byte[][] payloads)
    {
        var sequence = (byte)1;
        return Concat([.. payloads.Select(p => Packet(sequence++, p))]);
    }

    // ---- connection phase ----

    /// <summary>Handshake V10 with a 20-byte scramble (8 + 12 and a NUL), as MySQL and MariaDB send it.</summary>
    public static byte[] GreetingPayload(string version, uint connectionId, ReadOnlySpan<byte> scramble, uint caps, string plugin)
    {
        var body = new List<byte> { 10 };
        body.AddRange(Encoding.UTF8.GetBytes(version));
        body.Add(0);
        body.AddRange(BitConverter.GetBytes(connectionId));
        body.AddRange(scramble[..8].ToArray());
        body.Add(0);
        body.AddRange(BitConverter.GetBytes((ushort)caps));
        body.Add(45);
        body.AddRange(BitConverter.GetBytes((ushort)0x0002));
        body.AddRange(BitConverter.GetBytes((ushort)(caps >> 16)));
        body.Add((byte)(scramble.Length + 1));
        body.AddRange(new byte[10]);
        body.AddRange(scramble[8..].ToArray());
        body.Add(0);
        body.AddRange(Encoding.UTF8.GetBytes(plugin));
        body.Add(0);
        return [.. body];
    }

    /// <summary>The 32 bytes that open every HandshakeResponse41 (and are the whole SSL request).</summary>
    public static byte[] ResponseHeader(uint caps)
    {
        var header = new byte[32];
        BinaryPrimitives.WriteUInt32LittleEndian(header, caps);
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(4), 1 << 24);
        header[8] = 45;
        return header;
    }

    /// <summary>HandshakeResponse41; the auth data is length-encoded, 1-byte-length or NUL-terminated as the caps say.</summary>
    public static byte[] HandshakeResponsePayload(uint caps, string user, ReadOnlySpan<byte> auth, string? database, string? plugin)
    {
        var body = new List<byte>(ResponseHeader(caps));
        body.AddRange(Encoding.UTF8.GetBytes(user));
        body.Add(0);
        if ((caps & PluginAuthLenenc) != 0)
        {
            body.AddRange(LengthEncoded((ulong)auth.Length));
            body.AddRange(auth.ToArray());
        }
        else if ((caps & SecureConnection) != 0)
        {
            body.Add((byte)auth.Length);
            body.AddRange(auth.ToArray());
        }
        else
        {
            body.AddRange(auth.ToArray());
            body.Add(0);
        }

        if (database is not null)
        {
            body.AddRange(Encoding.UTF8.GetBytes(database));
            body.Add(0);
        }

        if (plugin is not null)
        {
            body.AddRange(Encoding.UTF8.GetBytes(plugin));
            body.Add(0);
        }

        return [.. body];
    }

    /// <summary>Auth switch request: 0xFE, the plugin name, its challenge.</summary>
    public static byte[] AuthSwitchPayload(string plugin, ReadOnlySpan<byte> data) => [0xFE, .. Encoding.UTF8.GetBytes(plugin), 0, .. data];
}
