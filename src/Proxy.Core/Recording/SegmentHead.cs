using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Gatehouse.Proxy.Core.Recording;

/// <summary>
/// The head file names the newest sealed segment and its seal, under the key: <c>number (u64) ‖ seal (32) ‖
/// HMAC-SHA-256(key, "gatehouse head v1" ‖ number ‖ seal) (32)</c>. Segments link backwards, so without it
/// deleting the newest segments would leave an intact-looking prefix; with it, they are missed, and the head
/// cannot be rolled back to an older segment without the key... except to an older head file kept aside,
/// which is why the verifier also requires every segment after the head's to be at most the one being written.
/// </summary>
public static class SegmentHead
{
    public const string FileName = "HEAD";
    private const int Size = 8 + SegmentFormat.HashSize + SegmentFormat.HashSize;

    private static ReadOnlySpan<byte> Label => "gatehouse head v1"u8;

    public static byte[] Create(ReadOnlySpan<byte> key, long number, ReadOnlySpan<byte> seal)
    {
        var head = new byte[Size];
        BinaryPrimitives.WriteInt64LittleEndian(head, number);
        seal.CopyTo(head.AsSpan(8));
        Mac(key, head.AsSpan(0, 8 + SegmentFormat.HashSize), head.AsSpan(8 + SegmentFormat.HashSize));
        return head;
    }

    /// <summary>The segment number and seal the head names; false when it is malformed or not made with this key.</summary>
    public static bool TryRead(ReadOnlySpan<byte> key, ReadOnlySpan<byte> head, out long number, out byte[] seal)
    {
        number = 0;
        seal = [];
        if (head.Length != Size)
        {
            return false;
        }

        Span<byte> mac = stackalloc byte[SegmentFormat.HashSize];
        Mac(key, head[..(8 + SegmentFormat.HashSize)], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, head[(8 + SegmentFormat.HashSize)..]))
        {
            return false;
        }

        number = BinaryPrimitives.ReadInt64LittleEndian(head);
        seal = head.Slice(8, SegmentFormat.HashSize).ToArray();
        return true;
    }

    private static void Mac(ReadOnlySpan<byte> key, ReadOnlySpan<byte> content, Span<byte> destination)
    {
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        hmac.AppendData(Label);
        hmac.AppendData(content);
        hmac.GetHashAndReset(destination);
    }
}
