using System.Buffers;
using System.Buffers.Binary;
using Gatehouse.Proxy.Core.Framing;

namespace Gatehouse.Protocols.Postgres;

/// <summary>What an untyped startup-phase packet asked for (55.2.1, 55.7).</summary>
internal enum StartupKind : byte
{
    Startup,
    SslRequest,
    GssEncRequest,
    CancelRequest,
}

/// <summary>A decoded startup-phase packet.</summary>
internal sealed class PgStartupPacket
{
    public StartupKind Kind { get; private init; }

    public int MajorVersion { get; private init; }

    public int MinorVersion { get; private init; }

    public List<KeyValuePair<string, string>> Parameters { get; } = [];

    public int CancelProcessId { get; private init; }

    public int CancelSecret { get; private init; }

    /// <summary>The packet's length, header included.</summary>
    public int Length { get; private init; }

    public string? Get(string name)
    {
        foreach (var (k, v) in Parameters)
        {
            if (k == name)
            {
                return v;
            }
        }

        return null;
    }

    /// <summary>
    /// Decodes one startup-phase packet: int32 length (which counts itself) then int32 code. The length is
    /// checked against 55.2.1's 10000-byte cap before the body is awaited.
    /// </summary>
    public static FrameStatus TryRead(in ReadOnlySequence<byte> buffer, out PgStartupPacket? packet, out string? error)
    {
        packet = null;
        error = null;
        if (buffer.Length < 8)
        {
            return FrameStatus.Incomplete;
        }

        Span<byte> head = stackalloc byte[8];
        buffer.Slice(0, 8).CopyTo(head);
        var length = BinaryPrimitives.ReadInt32BigEndian(head);
        var code = BinaryPrimitives.ReadInt32BigEndian(head[4..]);
        if (length < 8 || length > StartupCodes.MaxStartupPacket)
        {
            error = $"invalid startup packet length {length}";
            return FrameStatus.Invalid;
        }

        switch (code)
        {
            case StartupCodes.SslRequest or StartupCodes.GssEncRequest:
                if (length != 8)
                {
                    error = "invalid length of an encryption request";
                    return FrameStatus.Invalid;
                }

                packet = new PgStartupPacket { Kind = code == StartupCodes.SslRequest ? StartupKind.SslRequest : StartupKind.GssEncRequest, Length = 8 };
                return FrameStatus.Complete;
            case StartupCodes.CancelRequest:
                // Protocol 3.2 allows longer keys; the gateway mints 4-byte secrets, so only 16 bytes can match.
                if (length < 16 || length > 8 + 4 + 256)
                {
                    error = "invalid length of a cancel request";
                    return FrameStatus.Invalid;
                }

                if (buffer.Length < length)
                {
                    return FrameStatus.Incomplete;
                }

                Span<byte> cancel = stackalloc byte[8];
                buffer.Slice(8, 8).CopyTo(cancel);
                packet = new PgStartupPacket
                {
                    Kind = StartupKind.CancelRequest,
                    Length = length,
                    CancelProcessId = BinaryPrimitives.ReadInt32BigEndian(cancel),
                    CancelSecret = length == 16 ? BinaryPrimitives.ReadInt32BigEndian(cancel[4..]) : 0,
                };
                return FrameStatus.Complete;
        }

        var major = code >> 16;
        if (major != 3)
        {
            error = $"unsupported frontend protocol {major}.{code & 0xFFFF}: the gateway speaks 3.0";
            return FrameStatus.Invalid;
        }

        if (buffer.Length < length)
        {
            return FrameStatus.Incomplete;
        }

        var body = buffer.Slice(8, length - 8).ToArray();
        var result = new PgStartupPacket { Kind = StartupKind.Startup, MajorVersion = major, MinorVersion = code & 0xFFFF, Length = length };
        var reader = new PgSpanReader(body);
        while (true)
        {
            if (!reader.TryReadCString(out var name))
            {
                error = "malformed startup packet: parameter name not terminated";
                return FrameStatus.Invalid;
            }

            if (name.Length == 0)
            {
                break;
            }

            if (!reader.TryReadCString(out var value))
            {
                error = $"malformed startup packet: value of \"{name}\" not terminated";
                return FrameStatus.Invalid;
            }

            result.Parameters.Add(new(name, value));
        }

        if (reader.Remaining != 0)
        {
            error = "malformed startup packet: bytes after the terminator";
            return FrameStatus.Invalid;
        }

        packet = result;
        return FrameStatus.Complete;
    }
}
