using Microsoft.Win32.SafeHandles;

namespace Gatehouse.Proxy.Core.Recording;

/// <summary>A segment open for reading at offsets, without holding it in memory (see <see cref="SegmentWalk"/>).</summary>
public interface ISegmentSource : IDisposable
{
    /// <summary>The segment's length when it was opened.</summary>
    long Length { get; }

    /// <summary>Reads from <paramref name="offset"/> into <paramref name="destination"/>; fewer bytes only at the end.</summary>
    int Read(Span<byte> destination, long offset);
}

/// <summary>A segment's bytes already in the heap, as <see cref="ISegmentStore.OpenSource"/> gives them by default.</summary>
public sealed class HeapSegmentSource(byte[] data) : ISegmentSource
{
    public long Length => data.Length;

    public int Read(Span<byte> destination, long offset)
    {
        var available = data.AsSpan((int)Math.Min(offset, data.Length));
        var count = Math.Min(available.Length, destination.Length);
        available[..count].CopyTo(destination);
        return count;
    }

    public void Dispose()
    {
    }
}

/// <summary>A segment file read with positioned reads (pread): only the bytes asked for are copied.</summary>
internal sealed class FileSegmentSource(SafeFileHandle handle) : ISegmentSource
{
    public long Length { get; } = RandomAccess.GetLength(handle);

    public int Read(Span<byte> destination, long offset)
    {
        var total = 0;
        while (total < destination.Length)
        {
            var read = RandomAccess.Read(handle, destination[total..], offset + total);
            if (read == 0)
            {
                break; // cut short since it was opened: the walk reports the segment truncated
            }

            total += read;
        }

        return total;
    }

    public void Dispose() => handle.Dispose();
}
