using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;

namespace Gatehouse.Proxy.Core.Recording;

/// <summary>
/// How records make a segment. A segment file (<c>000000000001.seg</c>, numbered from 1) is a run of records:
/// <code>
///  SegmentStart | record | record | ... | Seal
/// </code>
/// SegmentStart's payload: magic <c>GHSEG1</c> (8 bytes), the segment number (u64), the previous segment's seal
/// (32 bytes, zero for segment 1) and the creation time (i64 µs). Every record, SegmentStart included, extends
/// the segment's hash chain: <c>chain = SHA-256(chain ‖ header ‖ payload)</c>, starting from 32 zero bytes. The
/// Seal's payload: the number of records before it (u64), the chain over them (32 bytes) and the seal,
/// <c>HMAC-SHA-256(key, "gatehouse seal v1" ‖ number ‖ count ‖ chain ‖ previous seal)</c> (32 bytes). So an
/// edited, inserted, deleted or reordered record breaks the chain; a truncated segment has no seal; a deleted
/// or swapped segment breaks the link the next SegmentStart carries; and no seal verifies under another key.
/// The segment being written may end in zeros laid down ahead of its records (no record has kind 0); a sealed
/// one ends with its seal.
/// </summary>
public static class SegmentFormat
{
    public const int HashSize = 32;
    public const string Extension = ".seg";
    public const int StartPayloadSize = 8 + 8 + HashSize + 8;
    public const int SealPayloadSize = 8 + HashSize + HashSize;

    private static ReadOnlySpan<byte> Magic => "GHSEG1\0\0"u8;

    private static ReadOnlySpan<byte> SealLabel => "gatehouse seal v1"u8;

    public static string FileName(long number) => number.ToString("D12", CultureInfo.InvariantCulture) + Extension;

    /// <summary>The segment number a file name carries; false for files that are not segments.</summary>
    public static bool TryParseFileName(string name, out long number)
    {
        number = 0;
        return name.Length == 12 + Extension.Length && name.EndsWith(Extension, StringComparison.Ordinal)
            && long.TryParse(name.AsSpan(0, 12), NumberStyles.None, CultureInfo.InvariantCulture, out number) && number > 0;
    }

    public static byte[] StartPayload(long number, ReadOnlySpan<byte> previousSeal, long createdMicros)
    {
        var payload = new byte[StartPayloadSize];
        Magic.CopyTo(payload);
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(8), number);
        previousSeal.CopyTo(payload.AsSpan(16));
        BinaryPrimitives.WriteInt64LittleEndian(payload.AsSpan(16 + HashSize), createdMicros);
        return payload;
    }

    public static bool TryReadStart(ReadOnlySpan<byte> payload, out long number, out byte[] previousSeal)
    {
        number = 0;
        previousSeal = [];
        if (payload.Length != StartPayloadSize || !payload[..8].SequenceEqual(Magic))
        {
            return false;
        }

        number = BinaryPrimitives.ReadInt64LittleEndian(payload[8..]);
        previousSeal = payload.Slice(16, HashSize).ToArray();
        return true;
    }

    public static byte[] SealPayload(ReadOnlySpan<byte> key, long number, long count, ReadOnlySpan<byte> chain, ReadOnlySpan<byte> previousSeal)
    {
        var payload = new byte[SealPayloadSize];
        BinaryPrimitives.WriteInt64LittleEndian(payload, count);
        chain.CopyTo(payload.AsSpan(8));
        Seal(key, number, count, chain, previousSeal, payload.AsSpan(8 + HashSize));
        return payload;
    }

    public static bool TryReadSeal(ReadOnlySpan<byte> payload, out long count, out byte[] chain, out byte[] seal)
    {
        count = 0;
        chain = seal = [];
        if (payload.Length != SealPayloadSize)
        {
            return false;
        }

        count = BinaryPrimitives.ReadInt64LittleEndian(payload);
        chain = payload.Slice(8, HashSize).ToArray();
        seal = payload.Slice(8 + HashSize, HashSize).ToArray();
        return true;
    }

    public static void Seal(ReadOnlySpan<byte> key, long number, long count, ReadOnlySpan<byte> chain, ReadOnlySpan<byte> previousSeal, Span<byte> destination)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        Span<byte> numbers = stackalloc byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(numbers, number);
        BinaryPrimitives.WriteInt64LittleEndian(numbers[8..], count);
        hmac.AppendData(SealLabel);
        hmac.AppendData(numbers);
        hmac.AppendData(chain);
        hmac.AppendData(previousSeal);
        hmac.GetHashAndReset(destination);
    }
}

/// <summary>A segment's running hash chain (see <see cref="SegmentFormat"/>).</summary>
public sealed class SegmentChain : IDisposable
{
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private readonly byte[] _current = new byte[SegmentFormat.HashSize];

    public long Count { get; private set; }

    public ReadOnlySpan<byte> Current => _current;

    /// <summary>Extends the chain by one record as stored (header and payload).</summary>
    public void Add(ReadOnlySpan<byte> record)
    {
        _sha.AppendData(_current);
        _sha.AppendData(record);
        _sha.GetHashAndReset(_current);
        Count++;
    }

    public void Dispose() => _sha.Dispose();
}
