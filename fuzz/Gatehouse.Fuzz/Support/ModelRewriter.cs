using System.Buffers;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Fuzz.Support;

/// <summary>
/// A stateless rewriter the <see cref="RelayModel"/> understands: inspects every frame (so every frame is
/// buffered whole, up to the relay's limit) and drops those of one type, passing the rest.
/// </summary>
internal sealed class ModelRewriter(byte? dropType) : IFrameRewriter
{
    public FrameInterest OnHeader(Direction direction, in FrameHeader header) => FrameInterest.Inspect;

    public RewriteDecision OnFrame(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context)
    {
        if (frame.Length != header.TotalLength)
        {
            throw new FuzzInvariantException($"OnFrame got {frame.Length} bytes for a frame of {header.TotalLength}");
        }

        if (frame.FirstSpan[0] != header.Type)
        {
            throw new FuzzInvariantException($"OnFrame got a frame starting 0x{frame.FirstSpan[0]:X2} for type 0x{header.Type:X2}");
        }

        return header.Type == dropType ? RewriteDecision.Drop : RewriteDecision.Pass;
    }
}
