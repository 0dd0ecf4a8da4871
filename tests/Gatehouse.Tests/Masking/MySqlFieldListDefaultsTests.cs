using System.Buffers;
using System.Text;
using Gatehouse.Protocols.MySql;
using Gatehouse.Protocols.MySql.Masking;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Tests.Masking;

/// <summary>A COM_FIELD_LIST column definition keeps everything but its default, which becomes NULL; a malformed one ends the session.</summary>
public sealed class MySqlFieldListDefaultsTests
{
    private static byte[] Definition(byte[] tail)
    {
        var writer = new MySqlPacketWriter();
        foreach (var part in new[] { "def", "app", "keys", "keys", "api_key", "api_key" })
        {
            writer.LengthEncodedBytes(Encoding.UTF8.GetBytes(part));
        }

        writer.LengthEncoded(0x0C).UInt16(33).UInt32(256).Byte(0xFD).UInt16(0).Byte(0).Zeros(2).Bytes(tail);
        var packet = new ArrayBufferWriter<byte>();
        writer.WriteTo(packet, 1);
        return packet.WrittenSpan[4..].ToArray();
    }

    [Fact]
    public void A_default_becomes_null_and_the_rest_is_kept()
    {
        var withDefault = Definition([3, (byte)'k', (byte)'e', (byte)'y']);
        var forward = new ArrayBufferWriter<byte>();
        var decision = MySqlFieldListDefaults.Strip(7, withDefault, new RewriteContext(forward, new ArrayBufferWriter<byte>()), new MaskingCounter(null));
        Assert.Equal(RewriteAction.Replace, decision.Action);
        var expected = Definition([0xFB]);
        Assert.Equal([(byte)expected.Length, 0, 0, 7, .. expected], forward.WrittenSpan.ToArray());
    }

    [Theory]
    [InlineData(new byte[] { 0xFB })]
    [InlineData(new byte[0])]
    public void A_definition_without_a_default_passes(byte[] tail)
    {
        var decision = MySqlFieldListDefaults.Strip(1, Definition(tail), new RewriteContext(new ArrayBufferWriter<byte>(), new ArrayBufferWriter<byte>()), new MaskingCounter(null));
        Assert.Equal(RewriteAction.Pass, decision.Action);
    }

    [Fact]
    public void A_truncated_definition_ends_the_session()
    {
        var decision = MySqlFieldListDefaults.Strip(1, Definition([])[..20], new RewriteContext(new ArrayBufferWriter<byte>(), new ArrayBufferWriter<byte>()), new MaskingCounter(null));
        Assert.Equal(RewriteAction.End, decision.Action);
        Assert.Equal(SessionEndReason.ProtocolViolation, decision.EndReason);
    }
}
