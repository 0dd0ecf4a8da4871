using System.Buffers;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Protocols.MySql;

/// <summary>
/// Masked rows of 16 MiB or more: the server splits such a row into packets of 0xFFFFFF bytes and a shorter
/// last one, and the masker rewrites them as they stream (<see cref="Masking.MySqlRowStream"/>). Masking may
/// make the row one packet longer or shorter; clients check every sequence id, so the rest of that response
/// goes out renumbered, however it would otherwise have been forwarded. (A MySQL packet is never larger than the
/// relay's inspection limit, 0xFFFFFF + 4 bytes, so every packet reaches the rewriter whole.)
/// </summary>
internal sealed partial class MySqlSessionRewriter
{
    private bool _streamFrame;   // the upstream packet now arriving belongs to a streamed row
    private bool _renumberOnly;  // it is read only to be renumbered (nothing else would have read it)
    private byte _shift;         // added to the sequence id of each later packet of the same response
    private long _shiftResponse; // the response the shift belongs to (the tracker's count of ended responses)

    private FrameInterest OnUpstreamHeader(in FrameHeader header)
    {
        if (_shift != 0 && _responses.ResponsesDone != _shiftResponse)
        {
            _shift = 0; // that response ended: the next one starts at its own sequence ids
        }

        FrameInterest interest;
        if (header.Continuation)
        {
            _streamFrame = _masker is { StreamingRow: true };
            interest = _streamFrame ? FrameInterest.Inspect : FrameInterest.Pass;
        }
        else
        {
            _awaitingServer = false;
            interest = _responses.OnHeader(header);
            _lastServerPacketIsRow = _responses.Role == PacketRole.Row;
            _streamFrame = interest == FrameInterest.Inspect && _responses.Role == PacketRole.Row && header.PayloadLength == MySqlFrameDecoder.MaxPayload;
            if (_streamFrame)
            {
                _masker!.BeginRowStream((byte)(header.Sequence + _shift));
            }
        }

        // A packet nothing reads (a row of a later result with nothing to mask, a continuation) is still renumbered.
        _renumberOnly = _shift != 0 && interest == FrameInterest.Pass;
        return _renumberOnly ? FrameInterest.Inspect : interest;
    }

    /// <summary>A packet of a streamed row: its payload goes to the masker, which writes the packets that filled.</summary>
    private RewriteDecision OnRowStreamPacket(in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context)
    {
        _streamFrame = false;
        foreach (var segment in frame.Slice(header.HeaderLength))
        {
            if (_masker!.StreamRowBytes(segment.Span, context) is { Action: RewriteAction.End } end)
            {
                return end;
            }
        }

        var decision = _masker!.EndRowPacket(last: header.PayloadLength < MySqlFrameDecoder.MaxPayload, context);
        TakeShift();
        return decision;
    }

    /// <summary>A row the masker streamed went out in more or fewer packets than it came in: later packets of the response move.</summary>
    private void TakeShift()
    {
        if (_masker?.TakeRowSequenceShift() is { } shift and not 0)
        {
            _shift = (byte)(_shift + shift);
            _shiftResponse = _responses.ResponsesDone;
        }
    }

    /// <summary>Copies a packet with its sequence id (its 4th byte) moved by <paramref name="shift"/>.</summary>
    private static void Resequence(in ReadOnlySequence<byte> frame, byte shift, IBufferWriter<byte> output)
    {
        var length = (int)frame.Length;
        var target = output.GetSpan(length);
        frame.CopyTo(target);
        target[3] += shift;
        output.Advance(length);
    }
}
