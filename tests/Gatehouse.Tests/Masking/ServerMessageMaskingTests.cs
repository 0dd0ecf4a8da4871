using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Gatehouse.Protocols.Masking;
using Gatehouse.Protocols.MySql.Masking;
using Gatehouse.Protocols.Postgres.Masking;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Tests.Masking;

/// <summary>A masked session's errors and notices: values they quote are masked, details that show a row withheld.</summary>
public sealed class ServerMessageMaskingTests
{
    [Theory]
    [InlineData("invalid input syntax for type integer: \"4111 1111 1111 1111\"", "invalid input syntax for type integer: \"[masked]\"")]
    [InlineData("invalid value \"a\"b\" for \"YYYY\"", "invalid value \"[masked]\"")]
    [InlineData("unterminated: \"4111", "unterminated: \"[masked]")]
    [InlineData("ungültiger Wert: \"Ärger\" für „YYYY\"", "ungültiger Wert: \"[masked]\"")]
    [InlineData("no quotes here", null)]
    public void The_quoted_part_of_a_data_error_is_masked(string message, string? expected)
    {
        var (decision, fields) = MaskPg((byte)'E', ('C', "22007"), ('M', message));
        if (expected is null)
        {
            Assert.Equal(RewriteAction.Pass, decision.Action);
            return;
        }

        Assert.Equal(('M', expected), fields[1]);
    }

    [Fact]
    public void A_data_error_is_known_by_its_SQLSTATE_wherever_that_field_stands()
    {
        var (_, fields) = MaskPg((byte)'E', ('M', "invalid input syntax for type integer: \"Ada Lovelace\""), ('S', "ERROR"), ('C', "22P02"));
        Assert.Equal(('M', "invalid input syntax for type integer: \"[masked]\""), fields[0]);
    }

    [Fact]
    public void A_PostgreSQL_error_with_a_text_that_is_not_UTF8_ends_the_session()
        => Assert.Equal(RewriteAction.End, PgServerMessageMasker.Mask((byte)'N', [(byte)'M', 0xC3, 0x28, 0, 0], new ArrayBufferWriter<byte>()).Action);

    [Fact]
    public void Errors_and_notices_that_pass_allocate_nothing()
    {
        // A session that RAISEs a NOTICE in a loop pays this per message: the texts are scanned where they lie.
        var notice = Pg(('S', "NOTICE"), ('V', "NOTICE"), ('C', "00000"), ('M', "processed batch 17 of 400, 1250 rows"), ('W', "PL/pgSQL function load() line 9 at RAISE"));
        var mysql = MySqlErr(1146, "Table 'app.nope' doesn't exist");
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(RewriteAction.Pass, PgServerMessageMasker.Mask((byte)'N', notice, output).Action);
        Assert.Equal(RewriteAction.Pass, MySqlErrorMasker.Mask(1, mysql, output).Action);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            PgServerMessageMasker.Mask((byte)'N', notice, output);
            MySqlErrorMasker.Mask(1, mysql, output);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void A_MySQL_error_that_masking_would_make_too_large_for_one_packet_is_withheld()
    {
        // Largest single payload: 0xFFFFFE. "[masked]" in place of one quoted byte would take it past that.
        var head = 1 + 2 + 6;
        var message = new byte[0xFFFFFE - head];
        message.AsSpan().Fill((byte)'a');
        "'x'"u8.CopyTo(message.AsSpan(message.Length - 3));
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(RewriteAction.Replace, MySqlErrorMasker.Mask(2, MySqlErr(1292, message), output).Action);
        var packet = output.WrittenSpan;
        Assert.Equal(packet.Length - 4, packet[0] | (packet[1] << 8) | (packet[2] << 16));
        Assert.Equal("#HY000" + ServerMessageMasking.Withheld, Encoding.UTF8.GetString(packet[7..]));
    }

    [Fact]
    public void A_PostgreSQL_data_error_keeps_its_code_and_names_and_loses_the_value_detail_and_context()
    {
        var (decision, fields) = MaskPg((byte)'E', ('S', "ERROR"), ('C', "22P02"), ('M', "invalid input syntax for type json"), ('D', "Token \"4111\" is invalid."),
            ('W', "JSON data, line 1: 4111..."), ('s', "shop"), ('t', "people"), ('F', "jsonfuncs.c"));
        Assert.Equal(RewriteAction.Replace, decision.Action);
        Assert.Equal(
        [
            ('S', "ERROR"), ('C', "22P02"), ('M', "invalid input syntax for type json"), ('D', ServerMessageMasking.Withheld),
            ('W', ServerMessageMasking.Withheld), ('s', "shop"), ('t', "people"), ('F', "jsonfuncs.c"),
        ], fields);
    }

    [Fact]
    public void A_PostgreSQL_integrity_error_withholds_the_row_in_its_detail()
    {
        var (_, fields) = MaskPg((byte)'E', ('C', "23502"), ('M', "null value in column \"label\" of relation \"cards\" violates not-null constraint"),
            ('D', "Failing row contains (1, Ada, null)."), ('c', "label"));
        Assert.Equal(('M', "null value in column \"label\" of relation \"cards\" violates not-null constraint"), fields[1]);
        Assert.Equal(('D', ServerMessageMasking.Withheld), fields[2]);
        Assert.Equal(('c', "label"), fields[3]);
    }

    [Fact]
    public void A_notice_passes_unless_a_detector_finds_a_value_in_it()
    {
        Assert.Equal(RewriteAction.Pass, MaskPg((byte)'N', ('S', "NOTICE"), ('C', "00000"), ('M', "table \"t\" does not exist, skipping")).Decision.Action);
        var (decision, fields) = MaskPg((byte)'N', ('S', "NOTICE"), ('C', "00000"), ('M', "value: ada@example.com"), ('W', "PL/pgSQL function shout(text) line 1 at RAISE"));
        Assert.Equal(RewriteAction.Replace, decision.Action);
        Assert.Equal(('M', ServerMessageMasking.Withheld), fields[2]);
        Assert.Equal(('W', "PL/pgSQL function shout(text) line 1 at RAISE"), fields[3]);
    }

    [Fact]
    public void A_malformed_PostgreSQL_error_ends_the_session()
    {
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(RewriteAction.End, PgServerMessageMasker.Mask((byte)'E', "Mno terminator"u8, output).Action);
        Assert.Equal(RewriteAction.End, PgServerMessageMasker.Mask((byte)'E', "Mok\0"u8, output).Action); // no final zero
    }

    [Fact]
    public void A_notification_keeps_its_process_and_channel_and_loses_a_payload_that_shows_a_value()
    {
        byte[] Body(string payload) => [0, 0, 0, 42, .. "orders\0"u8, .. Encoding.UTF8.GetBytes(payload), 0];
        var output = new ArrayBufferWriter<byte>();
        Assert.Equal(RewriteAction.Pass, PgServerMessageMasker.MaskNotification(Body("shipped"), output).Action);
        Assert.Equal(RewriteAction.Replace, PgServerMessageMasker.MaskNotification(Body("card 4111 1111 1111 1111"), output).Action);
        var message = output.WrittenSpan;
        Assert.Equal((byte)'A', message[0]);
        Assert.Equal(message.Length - 1, BinaryPrimitives.ReadInt32BigEndian(message[1..]));
        Assert.Equal(Body(ServerMessageMasking.Withheld), message[5..].ToArray());
        Assert.Equal(RewriteAction.End, PgServerMessageMasker.MaskNotification([0, 0, 0, 42, (byte)'x'], output).Action);
    }

    [Theory]
    [InlineData(1105, "XPATH syntax error: '~4111 1111 1111 1111'", "XPATH syntax error: '[masked]'")]
    [InlineData(1292, "Truncated incorrect DOUBLE value: 'Ada Lovelace'", "Truncated incorrect DOUBLE value: '[masked]'")]
    [InlineData(1146, "Table 'app.nope' doesn't exist", null)] // names, no value: unchanged
    [InlineData(1064, "You have an error in your SQL syntax near 'ada@example.com' at line 1", ServerMessageMasking.Withheld)]
    public void A_MySQL_error_that_quotes_a_value_has_it_masked(ushort code, string message, string? expected)
    {
        var output = new ArrayBufferWriter<byte>();
        var decision = MySqlErrorMasker.Mask(3, MySqlErr(code, message), output);
        if (expected is null)
        {
            Assert.Equal(RewriteAction.Pass, decision.Action);
            return;
        }

        Assert.Equal(RewriteAction.Replace, decision.Action);
        var packet = output.WrittenSpan;
        Assert.Equal(packet.Length - 4, packet[0] | (packet[1] << 8) | (packet[2] << 16));
        Assert.Equal(3, packet[3]); // the server's sequence id
        Assert.Equal(code, BinaryPrimitives.ReadUInt16LittleEndian(packet[5..]));
        Assert.Equal("#HY000" + expected, Encoding.UTF8.GetString(packet[7..]));
    }

    private static byte[] MySqlErr(ushort code, string message) => MySqlErr(code, Encoding.UTF8.GetBytes(message));

    private static byte[] MySqlErr(ushort code, byte[] message) => [0xFF, (byte)code, (byte)(code >> 8), (byte)'#', .. "HY000"u8, .. message];

    private static byte[] Pg(params (char Code, string Value)[] fields)
    {
        var body = new List<byte>();
        foreach (var (code, value) in fields)
        {
            body.Add((byte)code);
            body.AddRange(Encoding.UTF8.GetBytes(value));
            body.Add(0);
        }

        body.Add(0);
        return body.ToArray();
    }

    private static (RewriteDecision Decision, List<(char, string)> Fields) MaskPg(byte type, params (char Code, string Value)[] fields)
    {
        var output = new ArrayBufferWriter<byte>();
        var decision = PgServerMessageMasker.Mask(type, Pg(fields), output);
        if (decision.Action != RewriteAction.Replace)
        {
            return (decision, []);
        }

        var message = output.WrittenSpan;
        Assert.Equal(type, message[0]);
        Assert.Equal(message.Length - 1, BinaryPrimitives.ReadInt32BigEndian(message[1..]));
        var read = new List<(char, string)>();
        var rest = message[5..];
        while (rest[0] != 0)
        {
            var end = rest.IndexOf((byte)0);
            read.Add(((char)rest[0], Encoding.UTF8.GetString(rest[1..end])));
            rest = rest[(end + 1)..];
        }

        Assert.Equal(1, rest.Length);
        return (decision, read);
    }
}
