namespace Gatehouse.Proxy.Core.Recording;

/// <summary>
/// Where segments live. The recorder writes only through this seam, so tests can put a full disk or a failing
/// fsync under it (a real directory cannot be made to fail on demand).
/// </summary>
public interface ISegmentStore
{
    /// <summary>Segment numbers present, ascending.</summary>
    IReadOnlyList<long> List();

    byte[] ReadAll(long number);

    /// <summary>
    /// A segment's bytes for reading once through (verifying it); dispose it when done. A store of files reads
    /// them into native memory rather than the heap.
    /// </summary>
    System.Buffers.IMemoryOwner<byte> Open(long number) => new HeapSegment(ReadAll(number));

    /// <summary>A segment open for reading at offsets, for walking its records without reading it whole; dispose it when done.</summary>
    ISegmentSource OpenSource(long number) => new HeapSegmentSource(ReadAll(number));

    /// <summary>A segment's length with its first <paramref name="head"/> and last <paramref name="tail"/> bytes (fewer when it is shorter), without reading the rest.</summary>
    SegmentEnds ReadEnds(long number, int head, int tail)
    {
        var data = ReadAll(number);
        return new SegmentEnds(data.Length, data[..Math.Min(head, data.Length)], data[Math.Max(0, data.Length - tail)..]);
    }

    /// <summary>
    /// Tells the system a sealed segment's pages need not stay cached (it has been read back for its index).
    /// A store of files drops them from the page cache; others need do nothing.
    /// </summary>
    void ForgetCached(long number)
    {
    }

    /// <summary>Creates a new segment file (failing if it exists) open for appending.</summary>
    ISegmentFile Create(long number);

    /// <summary>Opens an existing segment for appending after cutting it to <paramref name="length"/> bytes.</summary>
    ISegmentFile OpenTruncated(long number, long length);

    void Delete(long number);

    /// <summary>The head file (see <see cref="SegmentHead"/>); null when there is none.</summary>
    byte[]? ReadHead();

    /// <summary>Replaces the head file atomically and durably.</summary>
    void WriteHead(byte[] head);

    /// <summary>A segment's index file (see <see cref="SegmentIndex"/>); null when there is none, or the store keeps none.</summary>
    byte[]? ReadIndex(long number) => null;

    /// <summary>Replaces a segment's index file atomically and durably.</summary>
    void WriteIndex(long number, byte[] index) => throw new NotSupportedException("this store keeps no segment indexes");
}

/// <summary>A segment's length and the bytes at its two ends (see <see cref="ISegmentStore.ReadEnds"/>).</summary>
public readonly record struct SegmentEnds(long Length, byte[] Head, byte[] Tail);

/// <summary>A segment's bytes already in the heap, as <see cref="ISegmentStore.Open"/> gives them by default.</summary>
public sealed class HeapSegment(byte[] data) : System.Buffers.IMemoryOwner<byte>
{
    public Memory<byte> Memory => data;

    public void Dispose()
    {
    }
}

/// <summary>One segment open for appending.</summary>
public interface ISegmentFile : IDisposable
{
    long Length { get; }

    void Append(ReadOnlySpan<byte> data);

    /// <summary>Makes everything appended so far durable (fsync); throws when the device says it could not.</summary>
    void Sync();

    /// <summary>
    /// Gives back any space laid down ahead of the records and appends at the end from now on (before the seal,
    /// so nothing but the seal ever ends a sealed segment); the next <see cref="Sync"/> makes that durable.
    /// </summary>
    void StopZeroFilling();
}

/// <summary>Segments as files in one directory.</summary>
public sealed class DirectorySegmentStore(string directory) : ISegmentStore
{
    public string Directory { get; } = directory;

    public IReadOnlyList<long> List()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        var numbers = new List<long>();
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*" + SegmentFormat.Extension))
        {
            if (SegmentFormat.TryParseFileName(Path.GetFileName(path), out var number))
            {
                numbers.Add(number);
            }
        }

        numbers.Sort();
        return numbers;
    }

    public byte[] ReadAll(long number) => File.ReadAllBytes(PathOf(number));

    public System.Buffers.IMemoryOwner<byte> Open(long number) => (System.Buffers.IMemoryOwner<byte>?)NativeSegment.Read(PathOf(number)) ?? new HeapSegment([]);

    public ISegmentSource OpenSource(long number)
        => new FileSegmentSource(File.OpenHandle(PathOf(number), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));

    public SegmentEnds ReadEnds(long number, int head, int tail)
    {
        using var handle = File.OpenHandle(PathOf(number), FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        var length = RandomAccess.GetLength(handle);
        var first = new byte[(int)Math.Min(head, length)];
        var last = new byte[(int)Math.Min(tail, length)];
        var read = RandomAccess.Read(handle, first, 0);
        read += RandomAccess.Read(handle, last, length - last.Length);
        if (read != first.Length + last.Length)
        {
            throw new IOException($"{PathOf(number)} was cut short while being read");
        }

        return new SegmentEnds(length, first, last);
    }

    /// <summary>
    /// A recording is written once and rarely read, so its pages would only crowd out what is read (in a sidecar,
    /// the database's own files) until memory runs short; PostgreSQL drops its WAL segments' pages the same way.
    /// Dropped pages are also what the next segment's pages are made from: without this, every recorded byte
    /// took a page the system had not used before, which on a VM can mean the host backing it first, and that was
    /// the largest single cost of recording a stream.
    /// </summary>
    public void ForgetCached(long number)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            using var handle = File.OpenHandle(PathOf(number), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            _ = Libc.posix_fadvise((int)handle.DangerousGetHandle(), 0, 0, Libc.PosixFadvDontNeed); // advice only: nothing to do if refused
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Gone or unreadable since it was indexed: its pages are the system's business, and verify reports the file.
        }
    }

    public ISegmentFile Create(long number)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var file = ZeroFilledSegmentFile.Create(PathOf(number));
        SyncDirectory(); // the new name itself must survive a crash
        return file;
    }

    public ISegmentFile OpenTruncated(long number, long length) => ZeroFilledSegmentFile.OpenAt(PathOf(number), length);

    public void Delete(long number)
    {
        File.Delete(PathOf(number));
        SyncDirectory();
    }

    public byte[]? ReadHead()
    {
        var path = Path.Combine(Directory, SegmentHead.FileName);
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }

    public void WriteHead(byte[] head) => Replace(Path.Combine(Directory, SegmentHead.FileName), ".new", head);

    public byte[]? ReadIndex(long number)
    {
        var path = Path.Combine(Directory, SegmentIndex.FileName(number));
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }

    // Per process: `gatehouse index` may write the same index as the gateway does, and must not write into its temporary file.
    public void WriteIndex(long number, byte[] index)
        => Replace(Path.Combine(Directory, SegmentIndex.FileName(number)), $".{Environment.ProcessId}.new", index);

    /// <summary>
    /// Replaces a file so that a crash leaves the old or the new one, never a torn one: write a temporary file,
    /// fsync it, rename it over the old, fsync the directory. (An index cut short would read as tampered with.)
    /// </summary>
    private void Replace(string path, string temporarySuffix, byte[] content)
    {
        var temporary = path + temporarySuffix;
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.None))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path, overwrite: true);
        SyncDirectory();
    }

    private string PathOf(long number) => Path.Combine(Directory, SegmentFormat.FileName(number));

    private void SyncDirectory()
    {
        // fsync of the directory makes a created or deleted name durable (POSIX); .NET has no API for it.
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var fd = Libc.open(Directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            throw new IOException($"cannot open {Directory} to sync it (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Libc.fsync(fd) != 0)
            {
                throw new IOException($"fsync of {Directory} failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Libc.close(fd);
        }
    }
}

#pragma warning disable SA1300, IDE1006 // libc's own names
internal static class Libc
{
    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    public static extern int open([System.Runtime.InteropServices.MarshalAs(System.Runtime.InteropServices.UnmanagedType.LPUTF8Str)] string path, int flags);

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    public static extern int fsync(int fd);

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    public static extern int fdatasync(int fd);

    [System.Runtime.InteropServices.DllImport("libc", SetLastError = true)]
    public static extern int close(int fd);

    public const int PosixFadvDontNeed = 4;

    [System.Runtime.InteropServices.DllImport("libc")]
    public static extern int posix_fadvise(int fd, long offset, long length, int advice);
}
#pragma warning restore SA1300, IDE1006
