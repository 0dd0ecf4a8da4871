using System.Buffers;
using System.IO.MemoryMappedFiles;

namespace Gatehouse.Proxy.Core.Recording;

/// <summary>
/// A sealed segment read through a read-only memory map instead of into a heap array: the gateway indexes each
/// segment it seals (up to 64 MiB), and a managed copy of that size would stay in the large object heap until a
/// full collection, which an allocation-free relay rarely triggers. Mapped pages belong to the page cache and
/// leave the process when the view is disposed.
/// </summary>
internal sealed unsafe class MappedSegment : MemoryManager<byte>
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _pointer;
    private readonly int _length;

    private MappedSegment(MemoryMappedFile file, MemoryMappedViewAccessor view, int length)
    {
        _file = file;
        _view = view;
        _length = length;
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _pointer = pointer + view.PointerOffset;
    }

    /// <summary>Maps <paramref name="path"/>; null for an empty file, which cannot be mapped (and holds no records).</summary>
    public static MappedSegment? Open(string path)
    {
        var length = new FileInfo(path).Length;
        if (length == 0)
        {
            return null;
        }

        if (length > int.MaxValue)
        {
            throw new IOException($"{path} is larger than a segment can be");
        }

        var file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, 0, MemoryMappedFileAccess.Read);
        try
        {
            return new MappedSegment(file, file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read), (int)length);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    public override Span<byte> GetSpan() => new(_pointer, _length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }
}
