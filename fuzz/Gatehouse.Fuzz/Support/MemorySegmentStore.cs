using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Fuzz.Support;

/// <summary>Segments in memory, for building seeds with the real writer.</summary>
internal sealed class MemorySegmentStore : ISegmentStore
{
    private readonly SortedDictionary<long, MemoryStream> _segments = [];
    private byte[]? _head;

    public IReadOnlyList<long> List() => [.. _segments.Keys];

    public byte[] ReadAll(long number) => _segments[number].ToArray();

    public ISegmentFile Create(long number) => new File(_segments[number] = new MemoryStream());

    public ISegmentFile OpenTruncated(long number, long length)
    {
        var stream = _segments[number];
        stream.SetLength(length);
        stream.Position = length;
        return new File(stream);
    }

    public void Delete(long number) => _segments.Remove(number);

    public byte[]? ReadHead() => _head;

    public void WriteHead(byte[] head) => _head = head;

    private sealed class File(MemoryStream stream) : ISegmentFile
    {
        public long Length => stream.Length;

        public void Append(ReadOnlySpan<byte> data) => stream.Write(data);

        public void Sync()
        {
        }

        public void StopZeroFilling()
        {
        }

        public void Dispose()
        {
        }
    }
}
