using System.Buffers;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Fuzz.Support;

/// <summary>
/// What a relay must produce for an input, worked out the slow, obvious way: one contiguous buffer, one
/// frame at a time, no streaming state. A relay run over any chunking must agree with it exactly (output
/// bytes, reply bytes, outcome, frame and byte counts). The rewriter must decide by the frame alone and
/// never hold (hold is invisible in the bytes, so a holding rewriter is modelled by its non-holding twin).
/// </summary>
internal static class RelayModel
{
    public const string ClosedMidMessage = "connection closed in the middle of a message";

    public static RelayRun Expect(Direction direction, IFrameDecoder decoder, IFrameRewriter rewriter, RelayLimits limits, ReadOnlySpan<byte> input)
    {
        var data = input.ToArray();
        var output = new ArrayBufferWriter<byte>(Math.Max(1, data.Length));
        var closed = direction == Direction.ClientToUpstream ? SessionEndReason.ClientClosed : SessionEndReason.UpstreamClosed;
        var forward = new ArrayBufferWriter<byte>();
        var reply = new ArrayBufferWriter<byte>();
        var context = new RewriteContext(forward, reply);
        long frames = 0;
        var at = 0;
        RelayOutcome outcome;
        while (true)
        {
            if (at == data.Length)
            {
                outcome = new RelayOutcome(closed, direction);
                break;
            }

            var rest = new ReadOnlySequence<byte>(data, at, data.Length - at);
            var status = decoder.TryReadHeader(rest, out var header, out var error);
            if (status == FrameStatus.Incomplete)
            {
                outcome = new RelayOutcome(SessionEndReason.ProtocolViolation, direction, ClosedMidMessage);
                break;
            }

            if (status == FrameStatus.Invalid)
            {
                outcome = new RelayOutcome(SessionEndReason.ProtocolViolation, direction, error);
                break;
            }

            frames++;
            if (rewriter.OnHeader(direction, header) == FrameInterest.Pass)
            {
                // Streamed: whatever part of it arrived goes out, even if the rest never comes.
                var take = (int)Math.Min(header.TotalLength, data.Length - at);
                output.Write(data.AsSpan(at, take));
                at += take;
                if (take < header.TotalLength)
                {
                    outcome = new RelayOutcome(SessionEndReason.ProtocolViolation, direction, ClosedMidMessage);
                    break;
                }

                continue;
            }

            if (header.TotalLength > limits.MaxInspectedFrame)
            {
                outcome = new RelayOutcome(SessionEndReason.ProtocolViolation, direction,
                    $"message of {header.TotalLength} bytes exceeds the gateway's limit of {limits.MaxInspectedFrame}");
                break;
            }

            if (data.Length - at < header.TotalLength)
            {
                frames--;
                outcome = new RelayOutcome(SessionEndReason.ProtocolViolation, direction, ClosedMidMessage);
                break;
            }

            var frame = new ReadOnlySequence<byte>(data, at, (int)header.TotalLength);
            forward.ResetWrittenCount();
            var decision = rewriter.OnFrame(direction, header, frame, context);
            output.Write(forward.WrittenSpan); // before the frame (Pass) or instead of it (Replace, Drop, End)
            switch (decision.Action)
            {
                case RewriteAction.Replace:
                    at += (int)header.TotalLength;
                    continue;
                case RewriteAction.Pass:
                    output.Write(data.AsSpan(at, (int)header.TotalLength));
                    at += (int)header.TotalLength;
                    continue;
                case RewriteAction.Drop:
                    at += (int)header.TotalLength;
                    continue;
                case RewriteAction.End:
                    at += (int)header.TotalLength;
                    outcome = new RelayOutcome(decision.EndReason, direction, decision.Message);
                    break;
                default:
                    throw new NotSupportedException($"the model does not handle {decision.Action}");
            }

            break;
        }

        return new RelayRun(outcome, output.WrittenSpan.ToArray(), reply.WrittenSpan.ToArray(), frames, at, 0);
    }

    /// <summary>Throws <see cref="FuzzInvariantException"/> when <paramref name="actual"/> differs from <paramref name="expected"/>.</summary>
    public static void AssertSame(RelayRun expected, RelayRun actual, string context)
    {
        if (actual.Outcome != expected.Outcome)
        {
            throw new FuzzInvariantException($"{context}: outcome {actual.Outcome}, expected {expected.Outcome}");
        }

        if (!actual.Output.AsSpan().SequenceEqual(expected.Output))
        {
            var firstDiff = FirstDifference(actual.Output, expected.Output);
            throw new FuzzInvariantException(
                $"{context}: output of {actual.Output.Length} bytes, expected {expected.Output.Length}; first difference at {firstDiff}");
        }

        if (actual.Frames != expected.Frames || actual.Bytes != expected.Bytes)
        {
            throw new FuzzInvariantException(
                $"{context}: counted {actual.Frames} frames / {actual.Bytes} bytes, expected {expected.Frames} / {expected.Bytes}");
        }

        if (!actual.Reply.AsSpan().SequenceEqual(expected.Reply))
        {
            throw new FuzzInvariantException($"{context}: {actual.Reply.Length} reply bytes, expected {expected.Reply.Length}");
        }

        if (actual.LeakedBlocks != 0)
        {
            throw new FuzzInvariantException($"{context}: {actual.LeakedBlocks} pool blocks not returned after both ends of the pipe completed");
        }
    }

    private static int FirstDifference(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        var n = Math.Min(a.Length, b.Length);
        for (var i = 0; i < n; i++)
        {
            if (a[i] != b[i])
            {
                return i;
            }
        }

        return n;
    }
}
