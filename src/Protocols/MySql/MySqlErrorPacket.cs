using System.Text;

namespace Gatehouse.Protocols.MySql;

/// <summary>Reads an ERR packet for logs and the gateway's own errors.</summary>
internal static class MySqlErrorPacket
{
    public static string Describe(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload);
        if (!reader.TryByte(out var marker) || marker != 0xFF || !reader.TryUInt16(out var code))
        {
            return "(malformed error)";
        }

        var rest = reader.Rest;
        var state = "";
        if (rest.Length >= 6 && rest[0] == (byte)'#')
        {
            state = Encoding.ASCII.GetString(rest.Slice(1, 5));
            rest = rest[6..];
        }

        return $"{code} ({state}): {Encoding.UTF8.GetString(rest)}";
    }
}
