using System.Buffers;
using Gatehouse.Proxy.Core.Framing;

namespace Gatehouse.Proxy.Core.Relay;

/// <summary>A rewriter that inspects nothing: every frame streams through untouched.</summary>
public sealed class PassThroughRewriter : IFrameRewriter
{
    /// <summary>The shared instance; it has no state.</summary>
    public static readonly PassThroughRewriter Instance = new();

    /// <inheritdoc />
    public FrameInterest OnHeader(Direction direction, in FrameHeader header) => FrameInterest.Pass;

    /// <inheritdoc />
    public RewriteDecision OnFrame(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context)
        => RewriteDecision.Pass;
}
