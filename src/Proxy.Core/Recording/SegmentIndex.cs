using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gatehouse.Proxy.Core.Recording;

/// <summary>
/// One session as one sealed segment holds it: its start and end when they are in this segment, how many
/// statements it sent here and their distinct texts, up to a cap. <see cref="TextsCapped"/>: some texts were left
/// out, so a text search that finds none of these must read the session's records. <see cref="Partial"/>: the
/// session's client stream could not be followed here (how it went on from the previous segment was lost), so
/// its count and texts are unknown and only its records can tell.
/// </summary>
public sealed record SegmentIndexEntry(
    Guid Session, SessionStartInfo? Start, DateTimeOffset? Started, SessionEndInfo? End, DateTimeOffset? Ended,
    int Statements, IReadOnlyList<string> Texts, bool TextsCapped, bool Partial);

/// <summary>
/// A session still open when its segment ends, and what reading its client stream in the next segment needs:
/// its protocol and the client bytes after its last whole statement (a message can straddle a roll). Either is
/// null when lost, and the session's later entries are then partial.
/// </summary>
public sealed record OpenSession(Guid Session, string? Protocol, byte[]? Pending);

/// <summary>Everything one segment's index holds: its sessions in the order they first appear, and those still open at its end.</summary>
public sealed record SegmentIndexContent(long Segment, IReadOnlyList<SegmentIndexEntry> Sessions, IReadOnlyList<OpenSession> Open);

/// <summary>
/// The index file beside a sealed segment (<c>000000000001.seg.idx</c>), derived data for listing sessions
/// without transcribing the segment: magic <c>GHIDX1</c> (8 bytes), the content as JSON, then
/// <c>HMAC-SHA-256(index key, number ‖ the segment's seal ‖ magic ‖ JSON)</c> (32 bytes). The index key is
/// <c>HMAC-SHA-256(recording key, "gatehouse index v1")</c>, so the seal key itself never authenticates
/// anything but seals and heads. The segment's seal in the MAC binds the index to that one segment: an edited
/// index, one copied from another segment or recording, or one left beside a replaced segment does not verify.
/// </summary>
public static class SegmentIndex
{
    public const string Extension = ".idx";

    private static ReadOnlySpan<byte> Magic => "GHIDX1\0\0"u8;

    private static ReadOnlySpan<byte> KeyLabel => "gatehouse index v1"u8;

    /// <summary>The index file's name: the segment's, plus <see cref="Extension"/>.</summary>
    public static string FileName(long number) => SegmentFormat.FileName(number) + Extension;

    /// <summary>The index file for <paramref name="content"/>, bound to the segment sealed with <paramref name="seal"/>.</summary>
    public static byte[] Create(ReadOnlySpan<byte> key, ReadOnlySpan<byte> seal, SegmentIndexContent content)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(content, SegmentIndexJson.Default.SegmentIndexContent);
        var file = new byte[Magic.Length + json.Length + SegmentFormat.HashSize];
        Magic.CopyTo(file);
        json.CopyTo(file, Magic.Length);
        Mac(key, content.Segment, seal, file.AsSpan(0, Magic.Length + json.Length), file.AsSpan(Magic.Length + json.Length));
        return file;
    }

    /// <summary>The content of segment <paramref name="number"/>'s index, if it verifies against that segment's seal; otherwise why not.</summary>
    public static bool TryRead(ReadOnlySpan<byte> key, long number, ReadOnlySpan<byte> seal, ReadOnlySpan<byte> file,
        [NotNullWhen(true)] out SegmentIndexContent? content, [NotNullWhen(false)] out string? problem)
    {
        content = null;
        if (file.Length < Magic.Length + SegmentFormat.HashSize || !file.StartsWith(Magic))
        {
            problem = "not an index file (cut short or overwritten)";
            return false;
        }

        var signed = file[..^SegmentFormat.HashSize];
        Span<byte> expected = stackalloc byte[SegmentFormat.HashSize];
        Mac(key, number, seal, signed, expected);
        if (!CryptographicOperations.FixedTimeEquals(expected, file[^SegmentFormat.HashSize..]))
        {
            problem = "does not verify: edited, made for another segment or recording, or with another key";
            return false;
        }

        try
        {
            content = JsonSerializer.Deserialize(signed[Magic.Length..], SegmentIndexJson.Default.SegmentIndexContent);
        }
        catch (JsonException ex)
        {
            problem = $"verifies but cannot be read: {ex.Message}";
            return false;
        }

        problem = content is null || content.Segment != number ? $"verifies but names segment {content?.Segment}" : null;
        return problem is null;
    }

    private static void Mac(ReadOnlySpan<byte> key, long number, ReadOnlySpan<byte> seal, ReadOnlySpan<byte> signed, Span<byte> destination)
    {
        Span<byte> indexKey = stackalloc byte[SegmentFormat.HashSize];
        HMACSHA256.HashData(key, KeyLabel, indexKey);
        using var hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, indexKey);
        Span<byte> segment = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(segment, number);
        hmac.AppendData(segment);
        hmac.AppendData(seal);
        hmac.AppendData(signed);
        hmac.GetHashAndReset(destination);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(SegmentIndexContent))]
internal sealed partial class SegmentIndexJson : JsonSerializerContext;
