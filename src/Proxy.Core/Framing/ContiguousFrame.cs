using System.Buffers;

namespace Gatehouse.Proxy.Core.Framing;

/// <summary>
/// A frame's bytes as one span, for a rewriter that reads them whole. When the frame lies in one buffer segment
/// this is the buffer itself. When it spans two reads' buffers (about once per read) the bytes are copied into an
/// array rented from the shared pool, and <see cref="Dispose"/> gives it back. A new array each time was an
/// allocation per statement or row. The span must not outlive the <c>using</c>.
/// </summary>
public readonly ref struct ContiguousFrame
{
    private readonly byte[]? _rented;

    public ContiguousFrame(in ReadOnlySequence<byte> bytes)
    {
        if (bytes.IsSingleSegment)
        {
            Span = bytes.FirstSpan;
            return;
        }

        _rented = ArrayPool<byte>.Shared.Rent(checked((int)bytes.Length));
        bytes.CopyTo(_rented);
        Span = _rented.AsSpan(0, (int)bytes.Length);
    }

    public ReadOnlySpan<byte> Span { get; }

    public void Dispose()
    {
        if (_rented is not null)
        {
            ArrayPool<byte>.Shared.Return(_rented);
        }
    }
}
