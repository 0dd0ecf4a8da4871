using System.IO.Pipelines;
using System.Text;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.MySql;

namespace Gatehouse.Fuzz.Targets;

/// <summary>
/// The MySQL login-phase parsers. Input: an <see cref="InputPlan"/> byte, an options byte, then the bytes.
/// Options bits 0-1 pick the code under test: 0 <see cref="MySqlGreeting.Parse"/>, 1
/// <see cref="MySqlHandshakeResponse.Parse"/> (the bytes are one payload), 2 <see cref="MySqlHandshakeIO.ReadAsync"/>
/// in a loop over a pipe fed in input-chosen writes and segments, 3 the same with each packet then parsed as
/// the login would (the first as a greeting, the rest as handshake responses). Bits 2-3 pick the first
/// expected sequence id (0, 1, 2, 255), bits 4-5 the packet length cap. Only <see cref="MySqlProtocolException"/>
/// may escape; beyond that, whatever parses must survive a round trip (written back with
/// <see cref="MySqlMessages"/>, it parses to the same fields), every packet read must be exactly the input's
/// next bytes, and the reader must stop where and why reading the input contiguously says.
/// </summary>
internal sealed class MySqlHandshakeParsersTarget : IFuzzTarget
{
    private static readonly byte[] FirstSequences = [0, 1, 2, 255];
    private static readonly int[] MaxLengths = [64 * 1024, 300, 4, 0];

    public static string Name => "mysql-handshake-parsers";

    public static void Run(ReadOnlySpan<byte> input)
    {
        var plan = InputPlan.Read(input, out var rest);
        var options = rest.IsEmpty ? (byte)0 : rest[0];
        var data = rest.IsEmpty ? [] : rest[1..].ToArray();
        switch (options & 3)
        {
            case 0:
                Greeting(data);
                break;
            case 1:
                Response(data);
                break;
            default:
                Packets(plan, data, FirstSequences[(options >> 2) & 3], MaxLengths[(options >> 4) & 3], parse: (options & 3) == 3);
                break;
        }
    }

    private static void Greeting(byte[] payload)
    {
        MySqlGreeting greeting;
        try
        {
            greeting = MySqlGreeting.Parse(payload);
        }
        catch (MySqlProtocolException)
        {
            FuzzCounters.Hit($"{Name}.greeting-refused");
            return;
        }

        if (greeting.Scramble.Length < 8 || greeting.Scramble.Length > 8 + 247)
        {
            throw new FuzzInvariantException($"a scramble of {greeting.Scramble.Length} bytes");
        }

        var again = MySqlGreeting.Parse(Write(greeting));
        if (again.ServerVersion != greeting.ServerVersion || again.ConnectionId != greeting.ConnectionId || again.Capabilities != greeting.Capabilities
            || again.AuthPlugin != greeting.AuthPlugin || !again.Scramble.AsSpan().SequenceEqual(greeting.Scramble))
        {
            throw new FuzzInvariantException($"greeting {Describe(greeting)} reads back as {Describe(again)}");
        }

        FuzzCounters.Hit($"{Name}.greeting");
    }

    private static void Response(byte[] payload)
    {
        MySqlHandshakeResponse response;
        try
        {
            response = MySqlHandshakeResponse.Parse(payload);
        }
        catch (MySqlProtocolException)
        {
            FuzzCounters.Hit($"{Name}.response-refused");
            return;
        }

        var caps = (uint)response.Capabilities;
        var withPlugin = (caps & MySqlMessages.PluginAuth) != 0 && ((caps & MySqlMessages.ConnectWithDb) == 0 || response.Database is not null);
        var written = MySqlMessages.HandshakeResponsePayload(caps, response.User, response.AuthData, response.Database, withPlugin ? response.AuthPlugin : null);
        var again = MySqlHandshakeResponse.Parse(written);
        if (again.Capabilities != response.Capabilities || again.User != response.User || again.Database != response.Database
            || again.AuthPlugin != response.AuthPlugin || !again.AuthData.AsSpan().SequenceEqual(response.AuthData))
        {
            throw new FuzzInvariantException($"handshake response {Describe(response)} reads back as {Describe(again)}");
        }

        FuzzCounters.Hit(response.AuthPlugin == AuthPlugins.ClearPassword ? $"{Name}.response-clear-password" : $"{Name}.response");
    }

    private static void Packets(InputPlan plan, byte[] data, byte first, int maxLength, bool parse)
    {
        var pool = plan.BlockSize > 0 ? new SmallBlockMemoryPool(plan.BlockSize) : null;
        var pipe = new Pipe(InMemoryRelay.Options(pool, plan.BlockSize, PipeScheduler.Inline));
        var reading = ReadAllAsync(pipe.Reader, first, maxLength);
        var at = 0;
        foreach (var size in plan.ChunkSizes(data.Length))
        {
            if (reading.IsCompleted)
            {
                break;
            }

            pipe.Writer.WriteAsync(data.AsMemory(at, size)).AsTask().GetAwaiter().GetResult();
            at += size;
        }

        pipe.Writer.Complete();
        if (!reading.IsCompleted && Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(2))).GetAwaiter().GetResult() != reading)
        {
            throw new FuzzInvariantException("the reader did not finish after the pipe completed (hang)");
        }

        var (packets, failure) = reading.GetAwaiter().GetResult(); // anything but MySqlProtocolException rethrows: a crash
        pipe.Reader.Complete();
        if (pool is not null && pool.Outstanding != 0)
        {
            throw new FuzzInvariantException($"{pool.Outstanding} pool blocks not returned");
        }

        var offset = 0;
        var expectedSequence = first;
        foreach (var packet in packets)
        {
            var length = data.Length - offset >= 4 ? data[offset] | (data[offset + 1] << 8) | (data[offset + 2] << 16) : -1;
            if (length != packet.Payload.Length || data[offset + 3] != packet.Sequence || packet.Sequence != expectedSequence
                || !data.AsSpan(offset + 4, length).SequenceEqual(packet.Payload))
            {
                throw new FuzzInvariantException($"packet {packet.Sequence} of {packet.Payload.Length} bytes does not match the input at {offset}");
            }

            offset += 4 + length;
            expectedSequence++;
        }

        var (count, why) = Contiguous(data, first, maxLength);
        if (count != packets.Count || !failure.Message.StartsWith(why, StringComparison.Ordinal))
        {
            throw new FuzzInvariantException($"read {packets.Count} packets and stopped with '{failure.Message}'; contiguous reading gives {count} and '{why}'");
        }

        FuzzCounters.Hit(packets.Count >= 2 ? $"{Name}.packets>=2" : $"{Name}.packets<2");
        if (!parse)
        {
            return;
        }

        for (var i = 0; i < packets.Count; i++)
        {
            if (i == 0)
            {
                Greeting(packets[i].Payload);
            }
            else
            {
                Response(packets[i].Payload);
            }
        }
    }

    /// <summary>How many packets reading <paramref name="data"/> as one buffer gives, and the start of the error that ends it.</summary>
    private static (int Count, string Why) Contiguous(byte[] data, byte first, int maxLength)
    {
        var offset = 0;
        var count = 0;
        var sequence = first;
        while (data.Length - offset >= 4)
        {
            var length = data[offset] | (data[offset + 1] << 8) | (data[offset + 2] << 16);
            if (length > maxLength)
            {
                return (count, $"packet of {length} bytes during login exceeds {maxLength}");
            }

            if (data[offset + 3] != sequence)
            {
                return (count, $"packets out of order during login: sequence {data[offset + 3]}, expected {sequence}");
            }

            if (data.Length - offset < 4 + length)
            {
                break;
            }

            offset += 4 + length;
            sequence++;
            count++;
        }

        return (count, "the connection closed during login");
    }

    private static async Task<(List<MySqlPacket> Packets, MySqlProtocolException Failure)> ReadAllAsync(PipeReader reader, byte first, int maxLength)
    {
        var packets = new List<MySqlPacket>();
        var sequence = first;
        try
        {
            while (true)
            {
                packets.Add(await MySqlHandshakeIO.ReadAsync(reader, sequence++, maxLength, CancellationToken.None));
            }
        }
        catch (MySqlProtocolException ex)
        {
            return (packets, ex);
        }
    }

    /// <summary>The greeting written back as a server sends it; part 2 of the scramble padded with NULs as the parser expects.</summary>
    private static byte[] Write(MySqlGreeting greeting)
    {
        var caps = (uint)greeting.Capabilities;
        var part2 = greeting.Scramble.AsSpan(8);
        var body = new List<byte> { 10 };
        body.AddRange(Encoding.UTF8.GetBytes(greeting.ServerVersion));
        body.Add(0);
        body.AddRange(BitConverter.GetBytes(greeting.ConnectionId));
        body.AddRange(greeting.Scramble.AsSpan(0, 8).ToArray());
        body.Add(0);
        body.AddRange(BitConverter.GetBytes((ushort)caps));
        body.Add(45);
        body.AddRange(BitConverter.GetBytes((ushort)2));
        body.AddRange(BitConverter.GetBytes((ushort)(caps >> 16)));
        var padded = Math.Max(13, part2.Length); // part 2 has no trailing NUL left, so padding to 13 reads back the same
        body.Add((byte)(8 + padded));
        body.AddRange(new byte[10]);
        if ((caps & MySqlMessages.SecureConnection) != 0)
        {
            body.AddRange(part2.ToArray());
            body.AddRange(new byte[padded - part2.Length]);
        }

        if ((caps & MySqlMessages.PluginAuth) != 0)
        {
            body.AddRange(Encoding.UTF8.GetBytes(greeting.AuthPlugin));
            body.Add(0);
        }

        return [.. body];
    }

    private static string Describe(MySqlGreeting g) => $"({g.ServerVersion}, {g.ConnectionId}, {Convert.ToHexString(g.Scramble)}, 0x{(uint)g.Capabilities:X8}, {g.AuthPlugin})";

    private static string Describe(MySqlHandshakeResponse r)
        => $"(0x{(uint)r.Capabilities:X8}, {r.User}, {Convert.ToHexString(r.AuthData)}, {r.Database ?? "null"}, {r.AuthPlugin})";
}
