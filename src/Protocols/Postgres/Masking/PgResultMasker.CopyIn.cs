namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// COPY FROM STDIN and the queue of requests. While the server takes a COPY's input it reads only CopyData,
/// CopyDone, CopyFail, Flush and Sync, and swallows the Syncs (55.2.6: libpq sends one right after the
/// Execute of a COPY, and another after CopyDone). A swallowed Sync gets no ReadyForQuery, so it must leave
/// the queue: until 2026-12-07 it stayed, every later answer was matched to the request before its own, and
/// a Query's rows were planned by the previous Query's text (reverse(card) came out whole). Which Syncs the
/// server swallows follows from the client's stream alone: those sent after the COPY's request and before the
/// CopyDone or CopyFail that ends its input. A Sync among CopyData is refused: if the COPY fails on a row, the
/// server leaves copy mode at a message the gateway cannot know, and answers the Syncs after it.
/// </summary>
internal sealed partial class PgResultMasker
{
    private long _copyEndsSent;       // client direction: CopyDone and CopyFail sent so far
    private bool _copyDataSinceEnd;   // client direction: CopyData sent since the last of them
    private bool _copyInActive;       // under _lock: the server is taking a COPY's input
    private long _copyInWindow;       // under _lock: the CopyEnds of the Syncs it swallows
    private int _copyInsInRequest;    // under _lock: COPYs the request at the head has started (a Query may hold several)

    /// <summary>The client sent a Sync among COPY data (client direction): the session cannot go on paired.</summary>
    public bool SyncAmongCopyData => _copyDataSinceEnd;

    private void NoteCopyInput(byte type)
    {
        if (type == (byte)FrontendCode.CopyData)
        {
            _copyDataSinceEnd = true;
            return;
        }

        _copyDataSinceEnd = false;
        _copyEndsSent++; // the other direction reads it only through the entries queued with it
    }

    /// <summary>The server started taking a COPY's input: the Syncs queued within it are swallowed.</summary>
    private void OnCopyInResponse()
    {
        lock (_lock)
        {
            if (!_pending.TryPeek(out var head))
            {
                return;
            }

            // The request's first COPY takes input up to the first CopyDone or CopyFail sent after it; a Query's
            // next COPY up to the one after that.
            _copyInWindow = head.CopyEnds + _copyInsInRequest++;
            _copyInActive = true;
            var kept = _pending.ToArray();
            _pending.Clear();
            _pending.Enqueue(kept[0]);
            foreach (var pending in kept.AsSpan(1))
            {
                if (!SwallowedByCopy(pending))
                {
                    _pending.Enqueue(pending);
                }
            }
        }
    }

    /// <summary>A COPY's input ended (CommandComplete or ErrorResponse): Syncs are answered again.</summary>
    private void CopyInEnded()
    {
        lock (_lock)
        {
            _copyInActive = false;
        }
    }

    private bool SwallowedByCopy(in PgPending pending)
        => _copyInActive && pending.Kind == PgPendingKind.Sync && pending.CopyEnds == _copyInWindow;
}
