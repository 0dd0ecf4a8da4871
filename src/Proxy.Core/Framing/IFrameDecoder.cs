using System.Buffers;

namespace Gatehouse.Proxy.Core.Framing;

/// <summary>
/// Reads one frame header from the start of a buffer. Synchronous by contract: the relay's async loop stays
/// dumb and the decoder never awaits (Kestrel <c>Http1Connection.TryParseRequest</c>).
/// </summary>
public interface IFrameDecoder
{
    /// <summary>The most bytes any header takes: with this many contiguous at a frame's start, the relay decodes from a span.</summary>
    int MaxHeaderLength { get; }

    /// <summary>
    /// Decodes the header at the start of <paramref name="buffer"/>, which holds at least <see cref="MaxHeaderLength"/>
    /// bytes or every byte there is. Returns <see cref="FrameStatus.Incomplete"/> when more bytes are needed,
    /// <see cref="FrameStatus.Invalid"/> (with <paramref name="error"/>) when the bytes can never form a valid
    /// frame; the declared length is checked against its limit here, before any byte of the body is waited for.
    /// </summary>
    FrameStatus TryReadHeader(ReadOnlySpan<byte> buffer, out FrameHeader header, out string? error);

    /// <summary>The same for a header that may straddle a sequence's segments (<see cref="FrameHeaders.Read"/> implements it).</summary>
    FrameStatus TryReadHeader(in ReadOnlySequence<byte> buffer, out FrameHeader header, out string? error);
}

/// <summary>What every decoder's sequence overload does: its span overload, on a header copied together when it straddles segments (rare).</summary>
public static class FrameHeaders
{
    public static FrameStatus Read<TDecoder>(TDecoder decoder, in ReadOnlySequence<byte> buffer, out FrameHeader header, out string? error)
        where TDecoder : IFrameDecoder
    {
        if (buffer.FirstSpan.Length >= decoder.MaxHeaderLength || buffer.IsSingleSegment)
        {
            return decoder.TryReadHeader(buffer.FirstSpan, out header, out error);
        }

        Span<byte> head = stackalloc byte[decoder.MaxHeaderLength];
        var available = (int)Math.Min(buffer.Length, head.Length);
        buffer.Slice(0, available).CopyTo(head);
        return decoder.TryReadHeader(head[..available], out header, out error);
    }
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
