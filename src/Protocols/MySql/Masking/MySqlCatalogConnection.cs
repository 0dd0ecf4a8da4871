namespace Gatehouse.Protocols.MySql.Masking;

/// <summary>The gateway's own session for catalog lookups: one text query at a time, classic EOF packets.</summary>
internal sealed class MySqlCatalogConnection : IAsyncDisposable
{
    private const int MaxPacket = 16 * 1024 * 1024 - 1;
    private readonly MySqlUpstreamConnection _connection;

    private MySqlCatalogConnection(MySqlUpstreamConnection connection) => _connection = connection;

    public static async Task<MySqlCatalogConnection> OpenAsync(MySqlUpstreamConnector connector, MySqlUpstreamOptions options, CancellationToken ct)
    {
        const Capabilities caps = Capabilities.Protocol41 | Capabilities.Transactions | Capabilities.LongFlag;
        return new MySqlCatalogConnection(await connector.ConnectAsync(options, options.Database, caps, ct).ConfigureAwait(false));
    }

    /// <summary>Runs one statement; returns its rows as text (null = SQL NULL). A server error throws.</summary>
    public async Task<List<string?[]>> QueryAsync(string sql, CancellationToken ct)
    {
        var transport = _connection.Transport;
        new MySqlPacketWriter().Byte((byte)Command.Query).String(sql).WriteTo(transport.Output, 0);
        await transport.Output.FlushAsync(ct).ConfigureAwait(false);
        byte sequence = 1;
        var head = await NextAsync().ConfigureAwait(false);
        var rows = new List<string?[]>();
        if (head[0] == 0xFF)
        {
            throw new MySqlUpstreamException($"catalog query failed: {MySqlErrorPacket.Describe(head)}");
        }

        var reader = new MySqlPayloadReader(head);
        if (head[0] == 0x00 || !reader.TryLengthEncoded(out var columns))
        {
            return rows; // OK: no result set
        }

        for (var i = 0UL; i <= columns; i++)
        {
            await NextAsync().ConfigureAwait(false); // the definitions, then the EOF after them
        }

        while (true)
        {
            var packet = await NextAsync().ConfigureAwait(false);
            if (packet[0] == 0xFF)
            {
                throw new MySqlUpstreamException($"catalog query failed: {MySqlErrorPacket.Describe(packet)}");
            }

            if (packet[0] == 0xFE && packet.Length < 9)
            {
                return rows;
            }

            var row = new string?[columns];
            var values = new MySqlPayloadReader(packet);
            for (var c = 0; c < row.Length; c++)
            {
                if (values.Rest is [0xFB, ..])
                {
                    values.TrySkip(1);
                }
                else if (values.TryLengthEncodedBytes(out var value))
                {
                    row[c] = System.Text.Encoding.UTF8.GetString(value);
                }
                else
                {
                    throw new MySqlProtocolException("malformed row in a catalog answer");
                }
            }

            rows.Add(row);
        }

        async Task<byte[]> NextAsync()
        {
            var packet = await MySqlHandshakeIO.ReadAsync(transport.Input, sequence++, MaxPacket, ct).ConfigureAwait(false);
            return packet.Payload.Length > 0 ? packet.Payload : throw new MySqlProtocolException("empty packet in a catalog answer");
        }
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
