using System.Buffers.Binary;
using System.Text;
using Gatehouse.Tests.MySql;
using Gatehouse.Tests.Postgres;

namespace Gatehouse.Tests.Masking;

/// <summary>
/// Masked rows of 16 MiB or more against the real MariaDB: the server splits each into packets of 0xFFFFFF
/// bytes and a shorter last one, and the gateway masks them as they stream. The rows are sized so that
/// masking moves some of them across a packet boundary (an e-mail redacted to a shorter or a longer text):
/// such a row goes out in one packet fewer or more than it came in, and every later packet of the response
/// must be renumbered, which the `mariadb` client and the raw client below both check.
/// </summary>
[Collection("gateway")]
public sealed class MySqlHugeRowMaskingTests(GatewayFixture fixture) : IAsyncLifetime
{
    private const int MaxPayload = 0xFFFFFF;

    // Text row lengths: id "n" (2 bytes), card (1 + 19, or 1 for NULL), doc (prefix 4 below 2^24 bytes, else 9), email (1 + length).
    // Binary rows (the test below adds a derived number): a 2-byte head, id 4, no bytes for NULLs, the number 8 until it is masked to NULL.
    private static readonly (int Id, string? Card, int Doc, string Email)[] Rows =
    [
        (1, "4111 1111 1111 1111", 16_777_173, "ada@example.com"), // exactly 0xFFFFFF bytes in (then an empty packet); fewer out: one packet fewer
        (2, null, 17_000_000, "grace@example.com"),                // a 9-byte length prefix; two packets either way
        (3, "5500 0000 0000 0004", 4, "alan@example.com"),         // a small row between them, renumbered
        (4, "4111 1111 1111 1111", 16_777_182, "a@b.c"),          // 0xFFFFFF - 1 bytes in; 5 more out: one packet more
        (5, "5500 0000 0000 0004", 16_777_182, "x@y.z"),          // and once more, so the closing OK is renumbered too
    ];

    private readonly string _table = "big_" + Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync()
    {
        var sql = new StringBuilder($"CREATE TABLE {_table} (id int PRIMARY KEY, card_number varchar(32), doc longtext, email varchar(200));");
        foreach (var (id, card, doc, email) in Rows)
        {
            sql.Append($"INSERT INTO {_table} VALUES ({id}, {(card is null ? "NULL" : $"'{card}'")}, repeat('x', {doc}), '{email}');");
        }

        await fixture.MariaDb.QueryAsync(sql.ToString());
    }

    public async Task DisposeAsync() => await fixture.MariaDb.QueryAsync($"DROP TABLE IF EXISTS {_table}");

    private string Contractor => fixture.Token("carol", ["contractors"]);

    private static string Masked(string? card) => card is null ? "NULL" : "**** **** **** " + card[^4..];

    [Fact]
    public async Task Text_rows_of_16_MiB_and_more_are_masked_as_they_stream_and_the_client_reads_every_one()
    {
        var result = await MariaDbCli.RunAsync(fixture, Contractor, $"select id, card_number, doc, email from {_table} order by id; select 'after';");
        Assert.True(result.ExitCode == 0, result.Stderr);
        var lines = result.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(Rows.Length + 1, lines.Length);
        for (var i = 0; i < Rows.Length; i++)
        {
            var fields = lines[i].Split('\t');
            Assert.Equal(4, fields.Length);
            Assert.Equal(Rows[i].Id.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[0]);
            Assert.Equal(Masked(Rows[i].Card), fields[1]);
            Assert.Equal(Rows[i].Doc, fields[2].Length);
            Assert.True(fields[2].AsSpan().IndexOfAnyExcept('x') < 0, "the document came through changed");
            Assert.Equal("[redacted]", fields[3]);
        }

        Assert.Equal("after", lines[^1]); // the session went on
    }

    [Fact]
    public async Task Binary_rows_of_16_MiB_and_more_are_masked_with_every_sequence_id_in_order()
    {
        await using var client = await MySqlRawClient.ConnectAsync(fixture.MySqlPort);
        await client.LoginAsync(Contractor, user: "carol");
        // The last column is derived from a card number: strict mode makes it NULL, a bit in each row's head.
        var id = await MySqlMaskingGatewayTests.PrepareAsync(client,
            $"select id, card_number, doc, email, cast(replace(card_number, ' ', '') as unsigned) n from {_table} order by id");
        await client.SendAsync(MySqlRawClient.Packet(0, MySqlMaskingGatewayTests.Execute(id, cursor: false)));

        var packets = await ReadLogicalPacketsAsync(client);
        Assert.Equal(5, packets[0][0]);
        var rows = packets.Skip(6).Take(Rows.Length).ToList();
        Assert.Equal(0xFE, packets[6 + Rows.Length][0]); // the closing OK, right after the rows
        for (var i = 0; i < Rows.Length; i++)
        {
            var row = rows[i];
            Assert.Equal(0x00, row[0]);
            var bitmap = row[1];
            Assert.True((bitmap & (1 << (4 + 2))) != 0, "the derived card number is not NULL"); // column 4
            Assert.Equal(Rows[i].Card is null, (bitmap & (1 << (1 + 2))) != 0);
            var at = 2;
            Assert.Equal(Rows[i].Id, BinaryPrimitives.ReadInt32LittleEndian(row.AsSpan(at)));
            at += 4;
            if (Rows[i].Card is not null)
            {
                Assert.Equal(Masked(Rows[i].Card), Encoding.UTF8.GetString(ReadLengthEncoded(row, ref at)));
            }

            var doc = ReadLengthEncoded(row, ref at);
            Assert.Equal(Rows[i].Doc, doc.Length);
            Assert.True(doc.AsSpan().IndexOfAnyExcept((byte)'x') < 0, "the document came through changed");
            Assert.Equal("[redacted]", Encoding.UTF8.GetString(ReadLengthEncoded(row, ref at)));
            Assert.Equal(row.Length, at); // nothing after the e-mail: the NULL number has no bytes
        }

        var after = await client.CommandAsync(MySqlRawClient.Command(0x03, "select 'after'"));
        Assert.Equal("after", Encoding.UTF8.GetString(after[^2].AsSpan(1)));
    }

    [Fact]
    public async Task A_later_result_without_masking_in_the_same_response_is_renumbered_too()
    {
        // A procedure's two results share one response: the first is masked and its row goes out in one packet
        // fewer; the second has nothing to mask, and its 17 MB row (two packets) must be renumbered, not masked.
        var procedure = "p_" + _table;
        await fixture.MariaDb.QueryAsync(
            $"DELIMITER //\nCREATE PROCEDURE {procedure}() BEGIN SELECT id, card_number, doc, email FROM {_table} WHERE id = 1; SELECT doc FROM {_table} WHERE id = 2; END//\nDELIMITER ;\n");
        try
        {
            await using var client = await MySqlRawClient.ConnectAsync(fixture.MySqlPort);
            await client.LoginAsync(Contractor, user: "carol");
            await client.SendAsync(MySqlRawClient.Packet(0, MySqlRawClient.Command(0x03, $"CALL {procedure}()")));
            var packets = await ReadLogicalPacketsAsync(client, untilLastResult: true);
            Assert.Equal(4, packets[0][0]);
            var first = packets[5];
            Assert.Equal(Rows[0].Doc + 42 - 5, first.Length); // the masked row: the e-mail 5 bytes shorter
            Assert.Equal("\n[redacted]"u8.ToArray(), first[^11..]); // length 10, then the replacement
            var second = packets[9]; // after the first result's OK, the second's column count and definition
            Assert.Equal(1, packets[7][0]);
            Assert.Equal(9 + Rows[1].Doc, second.Length); // a 9-byte length prefix and the document, as stored
            Assert.True(second.AsSpan(9).IndexOfAnyExcept((byte)'x') < 0, "the unmasked document came through changed");
            Assert.Equal(12, packets.Count); // its result's OK, then the CALL's own
        }
        finally
        {
            await fixture.MariaDb.QueryAsync($"DROP PROCEDURE IF EXISTS {procedure}");
        }
    }

    /// <summary>
    /// Reads one response, asserting that every packet's sequence id follows the last one's, and joins the
    /// packets of each logical packet (0xFFFFFF bytes means another follows).
    /// </summary>
    private static async Task<List<byte[]>> ReadLogicalPacketsAsync(MySqlRawClient client, bool untilLastResult = false)
    {
        var logical = new List<byte[]>();
        var expected = (byte)1;
        var current = new List<byte>();
        while (true)
        {
            var (sequence, payload) = (await client.ReadAsync(TimeSpan.FromSeconds(60)))!.Value;
            Assert.Equal(expected, sequence);
            expected++;
            current.AddRange(payload);
            if (payload.Length == MaxPayload)
            {
                continue;
            }

            var packet = current.ToArray();
            current.Clear();
            logical.Add(packet);
            // A result ends with a short OK led by 0xFE; a CALL's response with a plain OK (0x00) after its results.
            // Binary rows also start with 0x00, so that counts only where text rows are read.
            var ok = logical.Count > 1 && packet.Length < 64 && (packet[0] == 0xFE || (untilLastResult && packet[0] == 0x00));
            if (packet[0] == 0xFF || (ok && (!untilLastResult || (Status(packet) & 0x0008) == 0)))
            {
                return logical; // an error, or the closing OK of the last result (no SERVER_MORE_RESULTS_EXISTS)
            }
        }
    }

    /// <summary>An OK packet's status flags (after the header byte and two length-encoded numbers).</summary>
    private static int Status(byte[] ok)
    {
        var at = 1;
        ReadLengthEncodedNumber(ok, ref at);
        ReadLengthEncodedNumber(ok, ref at);
        return BinaryPrimitives.ReadUInt16LittleEndian(ok.AsSpan(at));
    }

    private static void ReadLengthEncodedNumber(byte[] packet, ref int at)
        => at += packet[at] switch { < 0xFB => 1, 0xFC => 3, 0xFD => 4, _ => 9 };

    private static byte[] ReadLengthEncoded(byte[] row, ref int at)
    {
        var first = row[at];
        (int prefix, long length) = first switch
        {
            < 0xFB => (1, first),
            0xFC => (3, BinaryPrimitives.ReadUInt16LittleEndian(row.AsSpan(at + 1))),
            0xFD => (4, row[at + 1] | (row[at + 2] << 8) | (row[at + 3] << 16)),
            _ => (9, BinaryPrimitives.ReadInt64LittleEndian(row.AsSpan(at + 1))),
        };
        var value = row.AsSpan(at + prefix, (int)length).ToArray();
        at += prefix + (int)length;
        return value;
    }
}
