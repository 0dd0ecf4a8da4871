using System.Buffers.Binary;
using System.Numerics;

namespace Gatehouse.Proxy.Core.Recording;

/// <summary>
/// CRC-32C (Castagnoli, iSCSI) with the usual pre- and post-inversion, on the CPU's CRC32 instruction through
/// <see cref="BitOperations.Crc32C(uint, ulong)"/>. Written here because System.IO.Hashing is not available.
/// </summary>
public static class Crc32C
{
    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(~0u, data);

    /// <summary>Continues a running (inverted) CRC; start with ~0 and invert the result.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (var b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return crc;
    }
}
