using System.Buffers;
using System.Runtime.InteropServices;

namespace Gatehouse.Proxy.Core.Recording;

/// <summary>
/// A segment read whole into native memory instead of a heap array: the gateway indexes each segment it seals
/// (up to 64 MiB), and a managed copy of that size would stay in the large object heap until a full collection,
/// which an allocation-free relay rarely triggers. Native memory goes back when this is disposed.
/// Not a memory map: a mapped file that someone else cuts short kills the process (SIGBUS) when its lost pages
/// are read, and `verify` must report such a file, not die on it. A copy holds what was there when it was read.
/// </summary>
internal sealed unsafe partial class NativeSegment : MemoryManager<byte>
{
    private byte* _pointer;
    private readonly int _length;

    private NativeSegment(byte* pointer, int length)
    {
        _pointer = pointer;
        _length = length;
    }

    /// <summary>Reads <paramref name="path"/>; null for an empty file, which holds no records.</summary>
    public static NativeSegment? Read(string path)
    {
        using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        var length = RandomAccess.GetLength(handle);
        if (length == 0)
        {
            return null;
        }

        if (length > int.MaxValue)
        {
            throw new IOException($"{path} is larger than a segment can be");
        }

        var pointer = Allocate((nuint)length);
        var read = 0;
        try
        {
            // A file cut short while it is read ends the copy there; the scan then finds the segment truncated.
            while (read < length)
            {
                var n = RandomAccess.Read(handle, new Span<byte>(pointer + read, (int)length - read), read);
                if (n == 0)
                {
                    break;
                }

                read += n;
            }
        }
        catch
        {
            Free(pointer);
            throw;
        }

        return new NativeSegment(pointer, read);
    }

    private const nuint HugePage = 2 * 1024 * 1024;
    private const int MadvHugePage = 14;

    /// <summary>
    /// Fresh pages fault in one by one as the read fills them, which made reading a segment three times slower
    /// than mapping it; aligned to huge pages and advised so, they fault in 2 MiB at a time.
    /// </summary>
    private static byte* Allocate(nuint length)
    {
        if (length < HugePage)
        {
            return (byte*)NativeMemory.AlignedAlloc(length, 64);
        }

        var rounded = (length + HugePage - 1) & ~(HugePage - 1);
        var pointer = (byte*)NativeMemory.AlignedAlloc(rounded, HugePage);
        if (OperatingSystem.IsLinux())
        {
            _ = Madvise(pointer, rounded, MadvHugePage); // only advice: where huge pages are off, small ones serve
        }

        return pointer;
    }

    private static void Free(byte* pointer) => NativeMemory.AlignedFree(pointer);

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);

    public override Span<byte> GetSpan() => new(_pointer, _length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(_pointer + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        Free(_pointer);
        _pointer = null;
    }
}
