using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Gatehouse.Protocols.MySql;

/// <summary>
/// Builds one packet's payload, then writes it with its 4-byte header (length computed first, one span,
/// one Advance). Payloads the gateway originates are small: greeting, OK, ERR, auth exchanges.
/// </summary>
internal sealed class MySqlPacketWriter
{
    private readonly ArrayBufferWriter<byte> _payload = new(256);

    public MySqlPacketWriter Byte(byte value)
    {
        _payload.GetSpan(1)[0] = value;
        _payload.Advance(1);
        return this;
    }

    public MySqlPacketWriter UInt16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_payload.GetSpan(2), value);
        _payload.Advance(2);
        return this;
    }

    public MySqlPacketWriter UInt32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_payload.GetSpan(4), value);
        _payload.Advance(4);
        return this;
    }

    public MySqlPacketWriter Bytes(ReadOnlySpan<byte> value)
    {
        _payload.Write(value);
        return this;
    }

    public MySqlPacketWriter Zeros(int count)
    {
        _payload.GetSpan(count)[..count].Clear();
        _payload.Advance(count);
        return this;
    }

    public MySqlPacketWriter String(string value) => Bytes(Encoding.UTF8.GetBytes(value));

    public MySqlPacketWriter NullTerminated(string value) => String(value).Byte(0);

    /// <summary>Length-encoded integer (MySQL internals, "Integer Types").</summary>
    public MySqlPacketWriter LengthEncoded(ulong value)
    {
        if (value < 251)
        {
            return Byte((byte)value);
        }

        if (value < 1 << 16)
        {
            return Byte(0xFC).UInt16((ushort)value);
        }

        if (value < 1 << 24)
        {
            Byte(0xFD);
            var s = _payload.GetSpan(3);
            s[0] = (byte)value;
            s[1] = (byte)(value >> 8);
            s[2] = (byte)(value >> 16);
            _payload.Advance(3);
            return this;
        }

        Byte(0xFE);
        BinaryPrimitives.WriteUInt64LittleEndian(_payload.GetSpan(8), value);
        _payload.Advance(8);
        return this;
    }

    public MySqlPacketWriter LengthEncodedBytes(ReadOnlySpan<byte> value) => LengthEncoded((ulong)value.Length).Bytes(value);

    /// <summary>Writes the packet (payloads of the gateway's own are always under 16 MiB) and resets the builder.</summary>
    public void WriteTo(IBufferWriter<byte> output, byte sequence)
    {
        var payload = _payload.WrittenSpan;
        var span = output.GetSpan(4 + payload.Length);
        Header(span, payload.Length, sequence);
        payload.CopyTo(span[4..]);
        output.Advance(4 + payload.Length);
        _payload.ResetWrittenCount();
    }

    /// <summary>A packet's 4-byte header: the payload's length (3 bytes, little-endian) and the sequence id.</summary>
    public static void Header(Span<byte> destination, int payloadLength, byte sequence)
    {
        destination[3] = sequence;
        destination[0] = (byte)payloadLength;
        destination[1] = (byte)(payloadLength >> 8);
        destination[2] = (byte)(payloadLength >> 16);
    }

    /// <summary>ERR packet (protocol 4.1 form with SQLSTATE).</summary>
    public static void Error(IBufferWriter<byte> output, byte sequence, ushort code, string sqlState, string message)
        => new MySqlPacketWriter().Byte(0xFF).UInt16(code).Byte((byte)'#').String(sqlState).String(message).WriteTo(output, sequence);

    /// <summary>OK packet: no rows affected, autocommit on.</summary>
    public static void Ok(IBufferWriter<byte> output, byte sequence, ushort status = 0x0002)
        => new MySqlPacketWriter().Byte(0x00).LengthEncoded(0).LengthEncoded(0).UInt16(status).UInt16(0).WriteTo(output, sequence);
}
