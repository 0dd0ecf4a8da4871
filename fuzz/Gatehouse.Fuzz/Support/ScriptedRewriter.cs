using System.Buffers;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Fuzz.Support;

/// <summary>
/// A rewriter that uses every <see cref="RewriteDecision"/> except End, decided by the frame's own bytes so the
/// <see cref="RelayModel"/> can predict it: frames of <c>specialType</c> are replaced by an injected frame and
/// answered on the reply side; other frames whose size is odd get an injected frame before them. With
/// <c>hold</c>, every frame whose size is a multiple of 3 is first held (on an already completed task, or one
/// that completes on the thread pool) and passes when the relay asks again; the model, built without
/// <c>hold</c>, expects the same bytes.
/// </summary>
internal sealed class ScriptedRewriter(byte specialType, bool hold) : IFrameRewriter
{
    private static readonly byte[] Injected = [(byte)'H', 0, 0, 0, 4];
    private static readonly byte[] Reply = [(byte)'Z', 0, 0, 0, 5, (byte)'I'];
    private bool _held;
    private int _holds;

    public FrameInterest OnHeader(Direction direction, in FrameHeader header) => FrameInterest.Inspect;

    public RewriteDecision OnFrame(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context)
    {
        if (hold && frame.Length % 3 == 0 && !_held)
        {
            _held = true;
            // Alternate a completed task with a real wait, so both paths through the relay's hold run.
            return RewriteDecision.Hold(_holds++ % 2 == 0 ? Task.CompletedTask : Task.Run(static () => { }));
        }

        _held = false;
        if (header.Type == specialType)
        {
            context.Forward.Write(Injected);
            context.Reply.Write(Reply);
            return RewriteDecision.Replace;
        }

        if (frame.Length % 2 == 1)
        {
            context.Forward.Write(Injected);
        }

        return RewriteDecision.Pass;
    }
}
