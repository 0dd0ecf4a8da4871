using System.Text;

namespace Gatehouse.Protocols.MySql;

/// <summary>The client's HandshakeResponse41 (MySQL internals, "Protocol::HandshakeResponse41").</summary>
internal sealed record MySqlHandshakeResponse(Capabilities Capabilities, string User, byte[] AuthData, string? Database, string AuthPlugin)
{
    public static MySqlHandshakeResponse Parse(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload);
        if (!reader.TryUInt32(out var caps32) || !reader.TrySkip(4 + 1 + 23) || !reader.TryNullTerminatedString(out var user))
        {
            throw new MySqlProtocolException("malformed handshake response");
        }

        var caps = (Capabilities)caps32;
        ReadOnlySpan<byte> auth;
        bool ok;
        if ((caps & Capabilities.PluginAuthLenencClientData) != 0)
        {
            ok = reader.TryLengthEncodedBytes(out auth);
        }
        else if ((caps & Capabilities.SecureConnection) != 0)
        {
            ok = reader.TryByte(out var length) & reader.TryBytes(length, out auth);
        }
        else
        {
            ok = reader.TryNullTerminated(out auth);
        }

        if (!ok)
        {
            throw new MySqlProtocolException("malformed handshake response: auth data");
        }

        string? database = null;
        if ((caps & Capabilities.ConnectWithDb) != 0 && reader.Remaining > 0 && !reader.TryNullTerminatedString(out database!))
        {
            throw new MySqlProtocolException("malformed handshake response: database");
        }

        var plugin = AuthPlugins.NativePassword;
        if ((caps & Capabilities.PluginAuth) != 0 && reader.Remaining > 0)
        {
            if (!reader.TryNullTerminated(out var name))
            {
                // Some clients omit the terminator on the last field.
                reader.TryBytes(reader.Remaining, out name);
            }

            plugin = Encoding.UTF8.GetString(name);
        }

        return new MySqlHandshakeResponse(caps, user, auth.ToArray(), database, plugin);
    }
}
