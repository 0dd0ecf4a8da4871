namespace Gatehouse.Proxy.Core.Framing;

/// <summary>
/// What a protocol's decoder learned from the first bytes of a frame: its type code, how many bytes the
/// header itself takes and the frame's total length (header included). Lengths are <see cref="long"/> so
/// re-framing arithmetic cannot wrap (Npgsql CVE-2024-32655).
/// </summary>
/// <param name="Type">The message type (PostgreSQL's type byte; MySQL's first payload byte).</param>
/// <param name="HeaderLength">Bytes of header before the payload.</param>
/// <param name="TotalLength">The whole frame's length.</param>
/// <param name="Sequence">MySQL's sequence id; 0 for protocols without one.</param>
/// <param name="Continuation">True for a frame that continues a larger logical packet (MySQL's 16 MiB split).</param>
public readonly record struct FrameHeader(byte Type, int HeaderLength, long TotalLength, byte Sequence = 0, bool Continuation = false)
{
    /// <summary>Bytes of payload after the header.</summary>
    public long PayloadLength => TotalLength - HeaderLength;
}
