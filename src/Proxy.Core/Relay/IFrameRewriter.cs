using System.Buffers;
using Gatehouse.Proxy.Core.Framing;

namespace Gatehouse.Proxy.Core.Relay;

/// <summary>
/// The seam that policy, masking and recording plug into. One instance serves one session and sees every
/// frame in both directions; the two directions run concurrently, so state shared between them must be
/// synchronised by the implementation.
/// </summary>
public interface IFrameRewriter
{
    /// <summary>
    /// Called once per frame with its header only. <see cref="FrameInterest.Pass"/> streams the frame through
    /// untouched however large it is; <see cref="FrameInterest.Inspect"/> buffers the whole frame (up to the
    /// relay's inspection limit) and calls <see cref="OnFrame"/>.
    /// </summary>
    FrameInterest OnHeader(Direction direction, in FrameHeader header);

    /// <summary>
    /// Decides what happens to an inspected frame. Bytes written to <see cref="RewriteContext.Forward"/> go out
    /// in the frame's direction before it (Pass) or instead of it (Replace); bytes written to
    /// <see cref="RewriteContext.Reply"/> go back to the frame's sender. A Hold writes nothing: after it completes,
    /// the relay calls this again for the same frame, so the second answer is the final one (and writes).
    /// Forward writes into the outgoing pipe itself, so nothing written there can be taken back.
    /// </summary>
    RewriteDecision OnFrame(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context);

    /// <summary>
    /// Whether the upstream frame whose header <see cref="OnHeader"/> just saw is a result row (continuations
    /// of one included). Asked only when a recording leaves rows out, so only rewriters that know their
    /// protocol's rows answer it.
    /// </summary>
    bool IsResultRow(in FrameHeader header) => false;

    /// <summary>
    /// Whether an inspected frame larger than the relay's inspection limit (whose header <see cref="OnHeader"/>
    /// just saw) can be rewritten in parts by <see cref="OnFramePart"/> instead of ending the session.
    /// </summary>
    bool CanRewriteInParts(Direction direction, in FrameHeader header) => false;

    /// <summary>
    /// Rewrites a frame that <see cref="CanRewriteInParts"/> accepted, part by part in order as its bytes
    /// arrive, the header's bytes first. What is written to <see cref="RewriteContext.Forward"/> goes out
    /// instead of the part; <paramref name="final"/> marks the frame's last part. Answer
    /// <see cref="RewriteDecision.Replace"/> or <see cref="RewriteDecision.End"/> (a part cannot be held).
    /// </summary>
    RewriteDecision OnFramePart(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> part, bool final, RewriteContext context)
        => RewriteDecision.End(SessionEndReason.ProtocolViolation, "the gateway cannot rewrite this message in parts");
}

/// <summary>Whether a rewriter needs to see a frame whole.</summary>
public enum FrameInterest : byte
{
    /// <summary>Forward untouched, streaming; <see cref="IFrameRewriter.OnFrame"/> is not called.</summary>
    Pass,
    /// <summary>Buffer the whole frame and call <see cref="IFrameRewriter.OnFrame"/>.</summary>
    Inspect,
}

/// <summary>Where a rewriter writes frames it creates; valid only during <see cref="IFrameRewriter.OnFrame"/>.</summary>
public sealed class RewriteContext
{
    internal RewriteContext(IBufferWriter<byte> forward, IBufferWriter<byte> reply)
    {
        Forward = forward;
        Reply = reply;
    }

    /// <summary>Bytes that continue in the frame's direction (injected before it, or replacing it).</summary>
    public IBufferWriter<byte> Forward { get; internal set; }

    /// <summary>Bytes sent back to the frame's sender, after the frames already relayed to it.</summary>
    public IBufferWriter<byte> Reply { get; }
}
