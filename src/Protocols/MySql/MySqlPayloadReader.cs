using System.Buffers.Binary;
using System.Text;

namespace Gatehouse.Protocols.MySql;

/// <summary>
/// Bounds-checked little-endian reader over one payload (MySqlConnector <c>ByteArrayReader</c>). Reads report
/// failure instead of throwing, so hostile input costs no exception on the hot path.
/// </summary>
internal ref struct MySqlPayloadReader
{
    private readonly ReadOnlySpan<byte> _span;
    private int _at;

    public MySqlPayloadReader(ReadOnlySpan<byte> span)
    {
        _span = span;
        _at = 0;
    }

    public readonly int Remaining => _span.Length - _at;

    public readonly ReadOnlySpan<byte> Rest => _span[_at..];

    public bool TryByte(out byte value)
    {
        value = 0;
        if (_at >= _span.Length)
        {
            return false;
        }

        value = _span[_at++];
        return true;
    }

    public bool TryUInt16(out ushort value)
    {
        value = 0;
        if (Remaining < 2)
        {
            return false;
        }

        value = BinaryPrimitives.ReadUInt16LittleEndian(_span[_at..]);
        _at += 2;
        return true;
    }

    public bool TryUInt32(out uint value)
    {
        value = 0;
        if (Remaining < 4)
        {
            return false;
        }

        value = BinaryPrimitives.ReadUInt32LittleEndian(_span[_at..]);
        _at += 4;
        return true;
    }

    public bool TryBytes(int count, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (count < 0 || Remaining < count)
        {
            return false;
        }

        value = _span.Slice(_at, count);
        _at += count;
        return true;
    }

    public bool TrySkip(int count) => TryBytes(count, out _);

    public bool TryNullTerminated(out ReadOnlySpan<byte> value)
    {
        value = default;
        var end = _span[_at..].IndexOf((byte)0);
        if (end < 0)
        {
            return false;
        }

        value = _span.Slice(_at, end);
        _at += end + 1;
        return true;
    }

    public bool TryNullTerminatedString(out string value)
    {
        value = "";
        if (!TryNullTerminated(out var bytes))
        {
            return false;
        }

        value = Encoding.UTF8.GetString(bytes);
        return true;
    }

    /// <summary>Length-encoded integer; 0xFB (NULL) and 0xFF (an ERR marker) are not integers.</summary>
    public bool TryLengthEncoded(out ulong value)
    {
        value = 0;
        if (!TryByte(out var first))
        {
            return false;
        }

        switch (first)
        {
            case < 0xFB:
                value = first;
                return true;
            case 0xFC when Remaining >= 2:
                value = BinaryPrimitives.ReadUInt16LittleEndian(_span[_at..]);
                _at += 2;
                return true;
            case 0xFD when Remaining >= 3:
                value = (ulong)(_span[_at] | (_span[_at + 1] << 8) | (_span[_at + 2] << 16));
                _at += 3;
                return true;
            case 0xFE when Remaining >= 8:
                value = BinaryPrimitives.ReadUInt64LittleEndian(_span[_at..]);
                _at += 8;
                return true;
            default:
                return false;
        }
    }

    public bool TryLengthEncodedBytes(out ReadOnlySpan<byte> value)
    {
        value = default;
        return TryLengthEncoded(out var length) && length <= int.MaxValue && TryBytes((int)length, out value);
    }
}
