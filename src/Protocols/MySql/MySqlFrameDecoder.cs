using System.Buffers;
using Gatehouse.Proxy.Core.Framing;

namespace Gatehouse.Protocols.MySql;

/// <summary>
/// Frames MySQL packets: a 3-byte little-endian payload length and a sequence id (MySQL internals,
/// "MySQL Packets"). A payload of exactly 0xFFFFFF bytes means the logical packet continues in the next
/// packet; the decoder keeps that state, caps the reassembled total, and checks sequence ids. One instance per
/// direction; the relay decodes each header exactly once, so the state follows the stream.
/// </summary>
internal sealed class MySqlFrameDecoder : IFrameDecoder
{
    /// <summary>The largest payload of one packet; a packet this large is continued by the next one.</summary>
    public const int MaxPayload = 0xFFFFFF;

    /// <summary>The server's own ceiling (max_allowed_packet can be at most 1 GiB).</summary>
    public const long MaxLogicalPacket = 1L << 30;

    private readonly bool _fromClient;
    private readonly long _maxLogical;
    private readonly MySqlFrameDecoder? _commands;
    private int _responseStart = 1;
    private bool _continuing;
    private byte _continuedType;
    private byte _lastSequence;
    private long _logicalLength;

    private MySqlFrameDecoder(bool fromClient, long maxLogical, MySqlFrameDecoder? commands = null)
    {
        _fromClient = fromClient;
        _maxLogical = maxLogical;
        _commands = commands;
    }

    /// <summary>Client commands: each starts a new exchange at sequence 0 (the gateway never allows LOCAL INFILE uploads).</summary>
    public static MySqlFrameDecoder ForClient(long maxLogical = MaxLogicalPacket) => new(true, maxLogical);

    /// <summary>Server responses.</summary>
    public static MySqlFrameDecoder ForServer(long maxLogical = MaxLogicalPacket) => new(false, maxLogical);

    /// <summary>
    /// Server responses to the commands <paramref name="commands"/> decodes: the answer to a command sent as
    /// several packets (0xFFFFFF and continuations) starts at the command's last sequence id + 1, not at 1.
    /// </summary>
    public static MySqlFrameDecoder ForServer(MySqlFrameDecoder commands, long maxLogical = MaxLogicalPacket) => new(false, maxLogical, commands);

    /// <summary>The sequence id the answer to the last whole command starts at (client decoder).</summary>
    private byte ResponseStart => (byte)Volatile.Read(ref _responseStart);

    public int MaxHeaderLength => 5;

    public FrameStatus TryReadHeader(in ReadOnlySequence<byte> buffer, out FrameHeader header, out string? error)
        => FrameHeaders.Read(this, buffer, out header, out error);

    /// <summary>The header at the start of <paramref name="buffer"/>: 4 bytes, and the packet's first (its type) unless it continues one.</summary>
    public FrameStatus TryReadHeader(ReadOnlySpan<byte> buffer, out FrameHeader header, out string? error)
    {
        header = default;
        error = null;
        var head = buffer.Length > 5 ? buffer[..5] : buffer;
        var available = head.Length;
        if (available < 4)
        {
            return FrameStatus.Incomplete;
        }

        var length = head[0] | (head[1] << 8) | (head[2] << 16);
        var sequence = head[3];
        byte type;
        if (_continuing)
        {
            if (sequence != (byte)(_lastSequence + 1))
            {
                error = $"packet out of order: sequence {sequence} after {_lastSequence}";
                return FrameStatus.Invalid;
            }

            type = _continuedType;
            if (_logicalLength + length > _maxLogical)
            {
                error = $"packet of more than {_maxLogical} bytes";
                return FrameStatus.Invalid;
            }
        }
        else
        {
            if (length == 0)
            {
                error = "empty packet";
                return FrameStatus.Invalid;
            }

            if (available < 5)
            {
                return FrameStatus.Incomplete;
            }

            // A client command always opens a new exchange; a server packet continues the exchange the
            // command opened (1 for the first answer) or its own previous packet.
            if (_fromClient ? sequence != 0 : sequence != 1 && sequence != (byte)(_lastSequence + 1) && sequence != _commands?.ResponseStart)
            {
                error = $"packet out of order: sequence {sequence}";
                return FrameStatus.Invalid;
            }

            type = head[4];
            if (length > _maxLogical)
            {
                error = $"packet of more than {_maxLogical} bytes";
                return FrameStatus.Invalid;
            }
        }

        var continuation = _continuing;
        _logicalLength = continuation ? _logicalLength + length : length;
        _continuing = length == MaxPayload;
        _continuedType = type;
        _lastSequence = sequence;
        if (_fromClient && !_continuing)
        {
            // Decoded before the packet is forwarded, so set before the server can answer it.
            Volatile.Write(ref _responseStart, (byte)(sequence + 1));
        }

        header = new FrameHeader(type, 4, 4L + length, sequence, continuation);
        return FrameStatus.Complete;
    }
}
