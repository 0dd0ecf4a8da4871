namespace Gatehouse.Proxy.Core.Recording;

/// <summary>The key that seals segments, read from a file (its bytes, a trailing newline ignored).</summary>
public static class RecordingKey
{
    public const int MinLength = 32;

    public static byte[] Load(string path)
    {
        var bytes = File.ReadAllBytes(path).AsSpan().TrimEnd("\r\n"u8).ToArray();
        return bytes.Length >= MinLength
            ? bytes
            : throw new IOException($"{path}: a recording key needs at least {MinLength} bytes, the file has {bytes.Length}");
    }
}
