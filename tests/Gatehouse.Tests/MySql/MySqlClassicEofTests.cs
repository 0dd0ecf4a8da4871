using System.Buffers.Binary;
using Gatehouse.Tests.Postgres;

namespace Gatehouse.Tests.MySql;

/// <summary>A client without DEPRECATE_EOF gets EOF packets after column definitions and rows, and multi-results still work.</summary>
[Collection("gateway")]
public sealed class MySqlClassicEofTests(GatewayFixture fixture)
{
    private const uint DeprecateEof = 0x1000000;
    private const uint MultiStatements = 0x10000;

    [Fact]
    public async Task Multi_results_with_NULL_first_rows_pass_and_the_session_goes_on()
    {
        var caps = (MySqlRawClient.DefaultCaps & ~DeprecateEof) | MultiStatements;
        await using var client = await MySqlRawClient.ConnectAsync(fixture.MySqlRawPort);
        var sequence = await client.GreetAsync(tls: false, caps);
        await client.SendAsync(MySqlRawClient.Packet(sequence, MySqlRawClient.ClearTokenResponse("alice", fixture.Token(), caps: caps)));
        var ok = await client.ReadAsync();
        Assert.Equal((byte)0x00, ok?.Payload[0]);

        // Two result sets; the first one's rows start with NULL (0xFB), the first statement's EOF says "more results".
        await client.SendAsync(MySqlRawClient.Packet(0, MySqlRawClient.Command(0x03, "SELECT NULL, 1 UNION ALL SELECT NULL, 2; SELECT 3")));
        var packets = new List<byte[]>();
        for (var i = 0; i < 12; i++)
        {
            packets.Add((await client.ReadAsync() ?? throw new InvalidOperationException($"closed after {packets.Count} packets")).Payload);
        }

        Assert.Equal(2, packets[0][0]);                         // column count
        Assert.Equal(0xFE, packets[3][0]);                      // EOF after the column definitions
        Assert.Equal(0xFB, packets[4][0]);                      // row: NULL, 1
        Assert.Equal(0xFB, packets[5][0]);                      // row: NULL, 2
        Assert.Equal(0xFE, packets[6][0]);                      // EOF of the rows ...
        Assert.NotEqual(0, BinaryPrimitives.ReadUInt16LittleEndian(packets[6].AsSpan(3)) & 0x0008); // ... with more results
        Assert.Equal(1, packets[7][0]);                         // second result: one column
        Assert.Equal(0xFE, packets[9][0]);
        Assert.Equal([1, (byte)'3'], packets[10]);
        Assert.Equal(0xFE, packets[11][0]);
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(packets[11].AsSpan(3)) & 0x0008);

        var pong = await client.CommandAsync([0x0E]);
        Assert.Equal((byte)0x00, pong[0][0]); // the session was not mistaken for a file request
    }
}
