using System.Buffers;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Fuzz.Support;

/// <summary>
/// <see cref="ModelRewriter"/> for MySQL frames, which start with their length: inspects every frame and
/// drops the packets of one type (never continuations, which carry no type byte of their own), checking
/// that each frame it is handed is the one its header describes.
/// </summary>
internal sealed class MySqlModelRewriter(byte? dropType) : IFrameRewriter
{
    public FrameInterest OnHeader(Direction direction, in FrameHeader header) => FrameInterest.Inspect;

    public RewriteDecision OnFrame(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context)
    {
        if (frame.Length != header.TotalLength || header.HeaderLength != 4)
        {
            throw new FuzzInvariantException($"OnFrame got {frame.Length} bytes for a frame of {header.TotalLength}");
        }

        Span<byte> head = stackalloc byte[5];
        frame.Slice(0, Math.Min(5, frame.Length)).CopyTo(head);
        var length = head[0] | (head[1] << 8) | (head[2] << 16);
        if (length != header.PayloadLength || head[3] != header.Sequence || (!header.Continuation && (frame.Length < 5 || head[4] != header.Type)))
        {
            throw new FuzzInvariantException($"OnFrame got a frame starting {Convert.ToHexString(head)} for {header}");
        }

        return !header.Continuation && header.Type == dropType ? RewriteDecision.Drop : RewriteDecision.Pass;
    }
}
