using Microsoft.Win32.SafeHandles;

namespace Gatehouse.Proxy.Core.Recording;

/// <summary>
/// A segment file whose records are written over zeros laid down ahead of them, so that the sync each commit
/// waits for is an fdatasync of the records' pages alone. Appending past the end instead changes the file's
/// size and block map, which every sync must then write too (PostgreSQL zero-fills its WAL segments for the
/// same reason). Zeros are added a chunk at a time, growing with the file, and the sync after that is a full
/// fsync. <see cref="StopZeroFilling"/> gives the unused zeros back before the seal is appended, so a crash can
/// leave zeros after the last record of an open segment (readers take them as its end, see
/// <see cref="SegmentScan"/>) but never after a seal.
/// </summary>
internal sealed class ZeroFilledSegmentFile : ISegmentFile
{
    private const int MinChunk = 64 * 1024;
    private const int MaxChunk = 4 * 1024 * 1024;
    private static readonly byte[] Zeros = new byte[MinChunk];

    private readonly SafeFileHandle _handle;
    private long _zeroedTo;
    private bool _sizeChanged;
    private bool _appendOnly;

    private ZeroFilledSegmentFile(SafeFileHandle handle, long length)
    {
        _handle = handle;
        Length = _zeroedTo = length;
    }

    public long Length { get; private set; }

    public static ZeroFilledSegmentFile Create(string path)
        => new(File.OpenHandle(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read), 0);

    /// <summary>Opens an existing segment to append after its first <paramref name="length"/> bytes, cutting the rest.</summary>
    public static ZeroFilledSegmentFile OpenAt(string path, long length)
    {
        var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.Read);
        RandomAccess.SetLength(handle, length);
        return new ZeroFilledSegmentFile(handle, length) { _sizeChanged = true };
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        if (Length + data.Length > _zeroedTo && !_appendOnly)
        {
            ZeroFill(Length + data.Length);
        }

        RandomAccess.Write(_handle, data, Length);
        Length += data.Length;
    }

    public void Sync()
    {
        if (_sizeChanged || !OperatingSystem.IsLinux())
        {
            RandomAccess.FlushToDisk(_handle);
            _sizeChanged = false;
            return;
        }

        var added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            if (Libc.fdatasync((int)_handle.DangerousGetHandle()) != 0)
            {
                throw new IOException($"fdatasync failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    public void StopZeroFilling()
    {
        _appendOnly = true;
        _sizeChanged = true; // appends from here on change the size
        if (_zeroedTo != Length)
        {
            RandomAccess.SetLength(_handle, Length);
            _zeroedTo = Length;
        }
    }

    public void Dispose() => _handle.Dispose();

    /// <summary>Writes zeros from the zeroed end to past <paramref name="needed"/>, a chunk as large as the file so far (within bounds).</summary>
    private void ZeroFill(long needed)
    {
        var chunk = Math.Clamp(_zeroedTo, MinChunk, MaxChunk);
        var end = Math.Max(needed, _zeroedTo + chunk);
        end = (end + MinChunk - 1) / MinChunk * MinChunk;
        for (var at = _zeroedTo; at < end; at += MinChunk)
        {
            RandomAccess.Write(_handle, Zeros.AsSpan(0, (int)Math.Min(MinChunk, end - at)), at);
        }

        _zeroedTo = end;
        _sizeChanged = true;
    }
}
