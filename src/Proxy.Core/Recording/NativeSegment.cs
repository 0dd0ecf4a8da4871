using System.Buffers;
using System.Runtime.InteropServices;

namespace Gatehouse.Proxy.Core.Recording;

/// <summary>
/// A segment read whole into native memory instead of a heap array, for <c>gatehouse verify</c> and
/// <c>sessions</c>, which read segments of up to 64 MiB one after another: a managed copy of that size would stay
/// in the large object heap until a full collection. Native memory goes back when this is disposed. (The
/// gateway's own indexer reads no segment whole: it walks the headers, see <see cref="SegmentWalk"/>.)
/// Not a memory map: a mapped file that someone else cuts short kills the process (SIGBUS) when its lost pages
/// are read, and `verify` must report such a file, not die on it. A copy holds what was there when it was read.
/// The buffer is kept for the next segment a while after this is disposed (see <see cref="Park"/>).
/// </summary>
internal sealed unsafe partial class NativeSegment : MemoryManager<byte>
{
    /// <summary>
    /// How long a buffer waits for the next segment before it goes back to the system: long enough for a reader
    /// going through the segments one after another, short enough not to hold 64 MiB for good.
    /// </summary>
    internal static readonly TimeSpan KeepFor = TimeSpan.FromSeconds(10);

    private static readonly Timer Release = new(_ => FreeParked(), null, Timeout.Infinite, Timeout.Infinite);
    private static Buffer? s_parked;

    private Buffer? _buffer;
    private readonly int _length;

    private NativeSegment(Buffer buffer, int length)
    {
        _buffer = buffer;
        _length = length;
    }

    /// <summary>Whether a buffer is waiting to be reused (for tests).</summary>
    internal static bool HasParked => Volatile.Read(ref s_parked) is not null;

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

        var buffer = Take((nuint)length);
        var pointer = buffer.Pointer;
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
            Park(buffer);
            throw;
        }

        return new NativeSegment(buffer, read);
    }

    private const nuint HugePage = 2 * 1024 * 1024;
    private const int MadvHugePage = 14;

    /// <summary>
    /// Fresh pages fault in one by one as the read fills them, which made reading a segment three times slower
    /// than mapping it; aligned to huge pages and advised so, they fault in 2 MiB at a time.
    /// </summary>
    private static Buffer Allocate(nuint length)
    {
        if (length < HugePage)
        {
            return new Buffer((byte*)NativeMemory.AlignedAlloc(length, 64), length);
        }

        var rounded = (length + HugePage - 1) & ~(HugePage - 1);
        var pointer = (byte*)NativeMemory.AlignedAlloc(rounded, HugePage);
        if (OperatingSystem.IsLinux())
        {
            _ = Madvise(pointer, rounded, MadvHugePage); // only advice: where huge pages are off, small ones serve
        }

        return new Buffer(pointer, rounded);
    }

    /// <summary>The parked buffer when it is large enough, else a new one.</summary>
    private static Buffer Take(nuint length)
    {
        var parked = Interlocked.Exchange(ref s_parked, null);
        if (parked is not null && parked.Capacity >= length)
        {
            return parked;
        }

        parked?.Free();
        return Allocate(length);
    }

    /// <summary>
    /// Keeps <paramref name="buffer"/> for the next segment, for <see cref="KeepFor"/>. Fresh pages are what a
    /// read into new memory mostly costs (the kernel zeroes each, and on a VM the host may have to back it
    /// first): a new 64 MiB buffer for each segment made reading them back a tenth of the gateway's CPU when
    /// its indexer still read them whole. Only one is kept; another is freed.
    /// </summary>
    private static void Park(Buffer buffer)
    {
        Interlocked.Exchange(ref s_parked, buffer)?.Free();
        Release.Change(KeepFor, Timeout.InfiniteTimeSpan);
    }

    private static void FreeParked() => Interlocked.Exchange(ref s_parked, null)?.Free();

    [LibraryImport("libc", EntryPoint = "madvise")]
    private static partial int Madvise(void* address, nuint length, int advice);

    public override Span<byte> GetSpan() => new(Live.Pointer, _length);

    public override MemoryHandle Pin(int elementIndex = 0) => new(Live.Pointer + elementIndex);

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _buffer, null) is { } buffer)
        {
            Park(buffer);
        }
    }

    private Buffer Live => _buffer ?? throw new ObjectDisposedException(nameof(NativeSegment));

    /// <summary>A block of native memory and its size.</summary>
    private sealed class Buffer(byte* pointer, nuint capacity)
    {
        public byte* Pointer { get; } = pointer;

        public nuint Capacity { get; } = capacity;

        public void Free() => NativeMemory.AlignedFree(Pointer);
    }
}
