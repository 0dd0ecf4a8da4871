using System.Buffers;
using System.Collections.Concurrent;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Tests.Framing;

/// <summary>
/// Inspects the frames <c>inspect</c> picks (all, by default) and records every header it was offered and
/// every whole frame it saw (type and bytes), passing everything.
/// </summary>
internal sealed class RecordingRewriter(Func<FrameHeader, bool>? inspect = null) : IFrameRewriter
{
    public ConcurrentQueue<FrameHeader> Headers { get; } = new();

    public ConcurrentQueue<(byte Type, byte[] Bytes)> Frames { get; } = new();

    public FrameInterest OnHeader(Direction direction, in FrameHeader header)
    {
        Headers.Enqueue(header);
        return inspect is null || inspect(header) ? FrameInterest.Inspect : FrameInterest.Pass;
    }

    public RewriteDecision OnFrame(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context)
    {
        Assert.Equal(header.TotalLength, frame.Length);
        Assert.Equal(header.Type, frame.FirstSpan[0]);
        Frames.Enqueue((header.Type, frame.ToArray()));
        return RewriteDecision.Pass;
    }
}
