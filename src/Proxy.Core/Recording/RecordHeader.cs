using System.Buffers.Binary;

namespace Gatehouse.Proxy.Core.Recording;

/// <summary>
/// The fixed header in front of every record's payload, little-endian:
/// <code>
///  0        4      5      6        8                                24             32       36
///  +--------+------+------+--------+--------------------------------+--------------+--------+----------------+
///  | length | kind | dir  | flags  | session id (16-byte GUID)      | time (i64 µs) | crc32c | payload ...    |
///  | u32    | u8   | u8   | u16    |                                | Unix, UTC     | u32    | length bytes   |
///  +--------+------+------+--------+--------------------------------+--------------+--------+----------------+
/// </code>
/// <c>length</c> is the payload's; the CRC-32C covers bytes 0-31 of the header and the payload, so a flipped
/// bit anywhere in a record is found without reading any other record. <c>flags</c> is 0 (reserved).
/// </summary>
public readonly record struct RecordHeader(uint Length, RecordKind Kind, RecordDirection Direction, Guid Session, long TimestampMicros)
{
    public const int Size = 36;

    /// <summary>A payload larger than this is refused at write and read as corruption: records are statements and rows, not files.</summary>
    public const int MaxPayload = 64 * 1024 * 1024;

    private const int CrcOffset = 32;

    public DateTimeOffset Timestamp => DateTimeOffset.FromUnixTimeMilliseconds(TimestampMicros / 1000).AddTicks(TimestampMicros % 1000 * 10);

    /// <summary>Writes header and payload into <paramref name="destination"/> (at least <see cref="Size"/> + payload bytes); returns the bytes written.</summary>
    public static int Write(Span<byte> destination, RecordKind kind, RecordDirection direction, Guid session, long timestampMicros, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > MaxPayload)
        {
            throw new ArgumentOutOfRangeException(nameof(payload), $"a record payload of {payload.Length} bytes exceeds {MaxPayload}");
        }

        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)payload.Length);
        destination[4] = (byte)kind;
        destination[5] = (byte)direction;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], 0);
        session.TryWriteBytes(destination[8..24]);
        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], timestampMicros);
        payload.CopyTo(destination[Size..]);
        var crc = Crc32C.Append(Crc32C.Append(~0u, destination[..CrcOffset]), payload);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[CrcOffset..], ~crc);
        return Size + payload.Length;
    }

    /// <summary>Reads the header at the start of <paramref name="data"/>; false with why when it is short, torn or corrupt.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out RecordHeader header, out string? problem)
    {
        if (!TryReadFields(data, out header, out problem))
        {
            return false;
        }

        if (data.Length - Size < header.Length)
        {
            problem = $"the record claims {header.Length} payload bytes, {data.Length - Size} remain";
            header = default;
            return false;
        }

        var crc = ~Crc32C.Append(Crc32C.Append(~0u, data[..CrcOffset]), data.Slice(Size, (int)header.Length));
        if (crc != BinaryPrimitives.ReadUInt32LittleEndian(data[CrcOffset..]))
        {
            problem = "CRC-32C mismatch";
            header = default;
            return false;
        }

        return true;
    }

    /// <summary>
    /// Reads the header's fields without the CRC check, which needs the payload: for walking a segment record by
    /// record (<see cref="SegmentWalk"/>) where most payloads are skipped. False with why when it is short or its
    /// length is impossible.
    /// </summary>
    public static bool TryReadFields(ReadOnlySpan<byte> data, out RecordHeader header, out string? problem)
    {
        header = default;
        if (data.Length < Size)
        {
            problem = $"a record header needs {Size} bytes, {data.Length} remain";
            return false;
        }

        var length = BinaryPrimitives.ReadUInt32LittleEndian(data);
        if (length > MaxPayload)
        {
            problem = $"record length {length} exceeds {MaxPayload}";
            return false;
        }

        header = new RecordHeader(length, (RecordKind)data[4], (RecordDirection)data[5], new Guid(data[8..24]), BinaryPrimitives.ReadInt64LittleEndian(data[24..]));
        problem = null;
        return true;
    }
}
