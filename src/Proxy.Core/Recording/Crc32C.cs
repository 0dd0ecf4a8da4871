using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Gatehouse.Proxy.Core.Recording;

/// <summary>
/// CRC-32C (Castagnoli, iSCSI) with the usual pre- and post-inversion, on the CPU's CRC32 instruction through
/// <see cref="BitOperations.Crc32C(uint, ulong)"/>. Written here because System.IO.Hashing is not available.
/// </summary>
/// <remarks>
/// One CRC32 instruction waits for the one before it (3 cycles on x64) but the CPU can start one per cycle, so
/// long inputs run three independent CRCs over three adjacent lanes and join them: the CRC register is linear,
/// so the CRC over lanes <c>A‖B‖C</c> is <c>shift(shift(crc(A)) ⊕ crc(B)) ⊕ crc(C)</c>, where <c>shift</c>
/// advances a register over one lane of zeros (<see cref="LaneShift"/>). Every result byte of a recording
/// passes through here once when written and again whenever it is read or verified.
/// </remarks>
public static class Crc32C
{
    private static readonly LaneShift Long = new(4096);
    private static readonly LaneShift Short = new(256);

    public static uint Compute(ReadOnlySpan<byte> data) => ~Append(~0u, data);

    /// <summary>Continues a running (inverted) CRC; start with ~0 and invert the result.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        if (BitConverter.IsLittleEndian)
        {
            crc = Long.AppendBlocks(crc, ref data);
            crc = Short.AppendBlocks(crc, ref data);
        }

        return AppendSerial(crc, data);
    }

    /// <summary>One instruction after the other: short inputs and what the lanes leave over.</summary>
    internal static uint AppendSerial(uint crc, ReadOnlySpan<byte> data)
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

    /// <summary>
    /// Three lanes of <c>length</c> bytes at a time, and the operator that advances a CRC register over
    /// <c>length</c> zero bytes, as four 256-entry tables (one per register byte). The tables are derived from
    /// the instruction itself, by running it over zeros from each single-bit register, so they agree with it
    /// by construction.
    /// </summary>
    private sealed class LaneShift
    {
        private readonly int _length;
        private readonly uint[] _table = new uint[4 * 256];

        public LaneShift(int length)
        {
            _length = length;
            Span<uint> basis = stackalloc uint[32];
            for (var bit = 0; bit < 32; bit++)
            {
                var register = 1u << bit;
                for (var i = 0; i < length / 8; i++)
                {
                    register = BitOperations.Crc32C(register, 0UL);
                }

                basis[bit] = register;
            }

            for (var index = 0; index < _table.Length; index++)
            {
                var (byteOfRegister, value) = (index >> 8, index & 0xFF);
                var shifted = 0u;
                for (var k = 0; k < 8; k++)
                {
                    if ((value & (1 << k)) != 0)
                    {
                        shifted ^= basis[(8 * byteOfRegister) + k];
                    }
                }

                _table[index] = shifted;
            }
        }

        /// <summary>Consumes whole blocks of three lanes from the front of <paramref name="data"/>.</summary>
        public uint AppendBlocks(uint crc, ref ReadOnlySpan<byte> data)
        {
            var block = 3 * _length;
            while (data.Length >= block)
            {
                var a = MemoryMarshal.Cast<byte, ulong>(data[.._length]);
                var b = MemoryMarshal.Cast<byte, ulong>(data.Slice(_length, _length));
                var c = MemoryMarshal.Cast<byte, ulong>(data.Slice(2 * _length, _length));
                uint crcB = 0, crcC = 0;
                for (var i = 0; i < a.Length && i < b.Length && i < c.Length; i++)
                {
                    crc = BitOperations.Crc32C(crc, a[i]);
                    crcB = BitOperations.Crc32C(crcB, b[i]);
                    crcC = BitOperations.Crc32C(crcC, c[i]);
                }

                crc = Shift(Shift(crc) ^ crcB) ^ crcC;
                data = data[block..];
            }

            return crc;
        }

        private uint Shift(uint register)
        {
            var table = _table.AsSpan();
            return table[(int)(register & 0xFF)] ^ table[256 + (int)((register >> 8) & 0xFF)]
                ^ table[512 + (int)((register >> 16) & 0xFF)] ^ table[768 + (int)(register >> 24)];
        }
    }
}
