using System.Buffers;
using System.Buffers.Binary;
using Gatehouse.Proxy.Core.Framing;

namespace Gatehouse.Protocols.Postgres;

/// <summary>
/// Frames regular PostgreSQL messages: one type byte, then a big-endian int32 length that counts itself
/// but not the type byte (55.7). Each direction has its own instance, which knows the valid type bytes of
/// that direction and a cap per type, so an unknown type or an absurd length ends the session before a
/// byte of its body is awaited. An instance is immutable once built and is shared by sessions.
/// </summary>
internal sealed class PgFrameDecoder : IFrameDecoder
{
    /// <summary>
    /// The server's own ceiling on a message (PQ_LARGE_MESSAGE_LIMIT, 1 GiB - 1): DataRow and CopyData are
    /// streamed, never buffered, so this is the only bound they need.
    /// </summary>
    public const int LargeMessageLimit = 0x3FFFFFFF;

    private readonly int[] _maxLength = new int[256]; // 0 = type not valid in this direction

    private PgFrameDecoder()
    {
    }

    /// <summary>Decoder for messages from the client; Query, Parse, Bind and FunctionCall are capped at <paramref name="maxStatement"/>.</summary>
    public static PgFrameDecoder ForFrontend(int maxStatement)
    {
        var d = new PgFrameDecoder();
        d.Allow(FrontendCode.Query, maxStatement);
        d.Allow(FrontendCode.Parse, maxStatement);
        d.Allow(FrontendCode.Bind, maxStatement);
        d.Allow(FrontendCode.FunctionCall, maxStatement);
        d.Allow(FrontendCode.CopyData, LargeMessageLimit);
        d.Allow(FrontendCode.CopyFail, 65536);
        d.Allow(FrontendCode.Describe, 65536);
        d.Allow(FrontendCode.Close, 65536);
        d.Allow(FrontendCode.Execute, 65536);
        // Messages with no body: anything but exactly 4 is a violation (PostgreSQL checks the same).
        d.Allow(FrontendCode.CopyDone, 4);
        d.Allow(FrontendCode.Flush, 4);
        d.Allow(FrontendCode.Sync, 4);
        d.Allow(FrontendCode.Terminate, 4);
        return d;
    }

    /// <summary>Decoder for messages from the database after login; immutable, so one serves every session.</summary>
    public static PgFrameDecoder Backend { get; } = ForBackend();

    private static PgFrameDecoder ForBackend()
    {
        var d = new PgFrameDecoder();
        foreach (var code in Enum.GetValues<BackendCode>())
        {
            d._maxLength[(byte)code] = LargeMessageLimit;
        }

        return d;
    }

    private void Allow(FrontendCode code, int max) => _maxLength[(byte)code] = max;

    public int MaxHeaderLength => 5;

    public FrameStatus TryReadHeader(in ReadOnlySequence<byte> buffer, out FrameHeader header, out string? error)
        => FrameHeaders.Read(this, buffer, out header, out error);

    public FrameStatus TryReadHeader(ReadOnlySpan<byte> buffer, out FrameHeader header, out string? error)
    {
        header = default;
        error = null;
        if (buffer.Length < 5)
        {
            return FrameStatus.Incomplete;
        }

        var type = buffer[0];
        var length = BinaryPrimitives.ReadInt32BigEndian(buffer[1..]);
        var max = _maxLength[type];
        if (max == 0)
        {
            error = $"unexpected message type 0x{type:X2}";
            return FrameStatus.Invalid;
        }

        if (length < 4 || length > max)
        {
            error = $"invalid length {length} for message type '{(char)type}'";
            return FrameStatus.Invalid;
        }

        header = new FrameHeader(type, 5, 1L + length);
        return FrameStatus.Complete;
    }
}
