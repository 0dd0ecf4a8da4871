using System.Buffers;

namespace Gatehouse.Proxy.Core.Framing;

/// <summary>
/// Reads one frame header from the start of a buffer. Synchronous by contract: the relay's async loop stays
/// dumb and the decoder never awaits (Kestrel <c>Http1Connection.TryParseRequest</c>).
/// </summary>
public interface IFrameDecoder
{
    /// <summary>
    /// Decodes the header at the start of <paramref name="buffer"/>. Returns <see cref="FrameStatus.Incomplete"/>
    /// when more bytes are needed, <see cref="FrameStatus.Invalid"/> (with <paramref name="error"/>) when the
    /// bytes can never form a valid frame; the declared length is checked against its limit here, before any
    /// byte of the body is waited for.
    /// </summary>
    FrameStatus TryReadHeader(in ReadOnlySequence<byte> buffer, out FrameHeader header, out string? error);
}

/// <summary>Outcome of <see cref="IFrameDecoder.TryReadHeader"/>.</summary>
public enum FrameStatus : byte
{
    /// <summary>A header was decoded.</summary>
    Complete,
    /// <summary>More bytes are needed before the header can be decoded.</summary>
    Incomplete,
    /// <summary>The bytes violate the protocol; the session must end.</summary>
    Invalid,
}
