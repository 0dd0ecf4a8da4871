using System.Text;

namespace Gatehouse.Protocols.MySql;

/// <summary>The server's Handshake V10 packet (MySQL internals, "Protocol::HandshakeV10").</summary>
internal sealed record MySqlGreeting(string ServerVersion, uint ConnectionId, byte[] Scramble, Capabilities Capabilities, string AuthPlugin)
{
    public static MySqlGreeting Parse(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload);
        if (!reader.TryByte(out var protocol))
        {
            throw new MySqlProtocolException("empty greeting");
        }

        if (protocol == 0xFF)
        {
            throw new MySqlProtocolException("the upstream refused the connection: " + MySqlErrorPacket.Describe(payload));
        }

        if (protocol != 10)
        {
            throw new MySqlProtocolException($"unsupported handshake protocol {protocol}");
        }

        if (!reader.TryNullTerminatedString(out var version) || !reader.TryUInt32(out var connectionId) || !reader.TryBytes(8, out var part1)
            || !reader.TrySkip(1) || !reader.TryUInt16(out var capLow))
        {
            throw new MySqlProtocolException("malformed greeting");
        }

        var caps = (Capabilities)capLow;
        byte authLength = 0;
        var part2 = ReadOnlySpan<byte>.Empty;
        var plugin = AuthPlugins.NativePassword;
        if (reader.Remaining > 0)
        {
            if (!reader.TrySkip(1) || !reader.TrySkip(2) || !reader.TryUInt16(out var capHigh) || !reader.TryByte(out authLength) || !reader.TrySkip(10))
            {
                throw new MySqlProtocolException("malformed greeting");
            }

            caps |= (Capabilities)((uint)capHigh << 16);
            if ((caps & Capabilities.SecureConnection) != 0)
            {
                var length = Math.Max(13, authLength - 8);
                if (!reader.TryBytes(length, out part2))
                {
                    throw new MySqlProtocolException("malformed greeting: short scramble");
                }

                part2 = part2.TrimEnd((byte)0);
            }

            if ((caps & Capabilities.PluginAuth) != 0)
            {
                if (reader.TryNullTerminated(out var name) || reader.TryBytes(reader.Remaining, out name))
                {
                    plugin = Encoding.UTF8.GetString(name);
                }
            }
        }

        var scramble = new byte[part1.Length + part2.Length];
        part1.CopyTo(scramble);
        part2.CopyTo(scramble.AsSpan(part1.Length));
        return new MySqlGreeting(version, connectionId, scramble, caps, plugin);
    }
}
