using System.Buffers;
using System.IO.Pipelines;

namespace Gatehouse.Proxy.Core.Relay;

/// <summary>
/// Where a rewriter's frames go: straight into the target pipe's memory, advanced once per run of rewritten
/// frames instead of once per frame (Kestrel's <c>BufferWriter&lt;T&gt;</c>). Staging each frame and copying it into
/// the pipe cost a copy and an Advance per masked row, and an in-memory pipe's Advance takes a lock. The relay
/// commits before anything else is written to the pipe, so the stream keeps its order, and before it lets go
/// of the pipe's gate at the end of each read.
/// </summary>
/// <param name="committed">Told of the bytes of each commit, while they are still readable (the relay's tap).</param>
internal sealed class RelayOutput(PipeWriter writer, RelayOutput.Committed committed) : IBufferWriter<byte>
{
    public delegate void Committed(ReadOnlySpan<byte> bytes);

    private Memory<byte> _memory; // the pipe's memory handed out by its last GetMemory; empty once committed
    private int _buffered; // bytes written into _memory and not yet advanced

    /// <summary>Bytes written since the relay began, committed or not: a rewriter wrote if this moved.</summary>
    public long Written { get; private set; }

    public void Advance(int count)
    {
        if ((uint)count > (uint)(_memory.Length - _buffered))
        {
            throw new ArgumentOutOfRangeException(nameof(count), "advanced past the memory handed out");
        }

        _buffered += count;
        Written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _memory[_buffered..];
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _memory.Span[_buffered..];
    }

    /// <summary>Advances the pipe past what was written.</summary>
    public void Commit()
    {
        if (_buffered > 0)
        {
            committed(_memory.Span[.._buffered]);
            writer.Advance(_buffered);
            _buffered = 0;
        }

        _memory = default; // a PipeWriter's memory is valid only until Advance
    }

    /// <summary>Drops what was written and not committed: it never reaches the pipe.</summary>
    public void Discard()
    {
        _buffered = 0;
        _memory = default;
    }

    private void Ensure(int sizeHint)
    {
        if (_memory.Length - _buffered >= Math.Max(sizeHint, 1))
        {
            return;
        }

        Commit();
        _memory = writer.GetMemory(sizeHint);
    }
}
