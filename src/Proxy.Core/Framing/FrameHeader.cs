namespace Gatehouse.Proxy.Core.Framing;

/// <summary>
/// What a protocol's decoder learned from the first bytes of a frame: its type code, how many bytes the
/// header itself takes and the frame's total length (header included). Lengths are <see cref="long"/> so
/// re-framing arithmetic cannot wrap (Npgsql CVE-2024-32655).
/// </summary>
public readonly record struct FrameHeader(byte Type, int HeaderLength, long TotalLength)
{
    /// <summary>Bytes of payload after the header.</summary>
    public long PayloadLength => TotalLength - HeaderLength;
}
