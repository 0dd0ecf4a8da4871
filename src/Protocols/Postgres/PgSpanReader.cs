using System.Buffers.Binary;
using System.Text;

namespace Gatehouse.Protocols.Postgres;

/// <summary>
/// Bounds-checked big-endian reader over one message's bytes (MySqlConnector <c>ByteArrayReader</c>).
/// Every read reports failure instead of throwing, so hostile input costs no exception.
/// </summary>
internal ref struct PgSpanReader
{
    private readonly ReadOnlySpan<byte> _span;
    private int _at;

    public PgSpanReader(ReadOnlySpan<byte> span)
    {
        _span = span;
        _at = 0;
    }

    public readonly int Remaining => _span.Length - _at;

    public readonly ReadOnlySpan<byte> Rest => _span[_at..];

    public bool TryReadByte(out byte value)
    {
        if (_at < _span.Length)
        {
            value = _span[_at++];
            return true;
        }

        value = 0;
        return false;
    }

    public bool TryReadInt32(out int value)
    {
        if (Remaining >= 4)
        {
            value = BinaryPrimitives.ReadInt32BigEndian(_span[_at..]);
            _at += 4;
            return true;
        }

        value = 0;
        return false;
    }

    public bool TryReadBytes(int count, out ReadOnlySpan<byte> bytes)
    {
        if (count >= 0 && Remaining >= count)
        {
            bytes = _span.Slice(_at, count);
            _at += count;
            return true;
        }

        bytes = default;
        return false;
    }

    /// <summary>Reads a null-terminated UTF-8 string; fails on a missing terminator or invalid UTF-8.</summary>
    public bool TryReadCString(out string value)
    {
        if (!TryReadCStringUtf8(out var utf8))
        {
            value = string.Empty;
            return false;
        }

        value = Encoding.UTF8.GetString(utf8);
        return true;
    }

    /// <summary><see cref="TryReadCString"/> without making a string: the text's bytes, checked to be UTF-8.</summary>
    public bool TryReadCStringUtf8(out ReadOnlySpan<byte> value)
    {
        value = default;
        var end = _span[_at..].IndexOf((byte)0);
        if (end < 0 || !System.Text.Unicode.Utf8.IsValid(_span.Slice(_at, end)))
        {
            return false;
        }

        value = _span.Slice(_at, end);
        _at += end + 1;
        return true;
    }
}
