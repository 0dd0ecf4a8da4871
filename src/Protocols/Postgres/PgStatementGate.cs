using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Proxy.Core.Policy;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Protocols.Postgres;

/// <summary>
/// Statement policy on the PostgreSQL wire. A refused Query, Parse or FunctionCall is not dropped: it is
/// replaced by a statement that fails on the server itself (<c>SELECT gatehouse_denied_…</c>, a column that
/// cannot exist), and that server error is rewritten into the policy's 42501 on its way back. So the server
/// does what it does for any failed statement — discards the rest of an extended batch until Sync, aborts an
/// open transaction block, answers ReadyForQuery with the true status — and the client's error arrives in
/// order behind pipelined requests, without the gateway re-implementing any of that.
/// </summary>
internal sealed class PgStatementGate(StatementGuard guard)
{
    /// <summary>The text judged last, as the guard keeps it (<see cref="StatementGuard.LastText"/>).</summary>
    public byte[]? LastText => guard.LastText;

    // Per process and unguessable, so no real column or client text can mimic a marker.
    private static readonly string Nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    private static readonly string MarkerPrefix = $"gatehouse_denied_{Nonce}_";
    private static readonly byte[] MarkerPrefixBytes = Encoding.ASCII.GetBytes(MarkerPrefix);

    // Made at the first refusal: most sessions never have one, and an empty queue costs ~800 bytes a session.
    private ConcurrentQueue<Refusal>? _refusals;
    private long _nextId;
    private long _syncPointsSent;
    private long _readySeen;

    private sealed record Refusal(long Id, long SyncPoint, string Message);

    /// <summary>Whether an upstream ErrorResponse may be one of ours and must be inspected.</summary>
    public bool ExpectsError => Volatile.Read(ref _refusals) is { IsEmpty: false };

    /// <summary>Client sent Query, Sync or FunctionCall: the server will answer with one ReadyForQuery.</summary>
    public void SyncPointSent() => _syncPointsSent++;

    /// <summary>Judges a Query ('Q'), Parse ('P') or FunctionCall ('F') body.</summary>
    public RewriteDecision OnRequest(byte type, ReadOnlySpan<byte> body, RewriteContext context)
    {
        PolicyVerdict verdict;
        var name = ReadOnlySpan<byte>.Empty;
        ReadOnlySpan<byte> sql;
        switch (type)
        {
            case (byte)FrontendCode.Query:
                sql = CString(body, out _);
                break;
            case (byte)FrontendCode.Parse:
                name = CString(body, out var rest);
                sql = CString(rest, out _);
                break;
            default:
                // The fast path calls a function by OID: no SQL to read, so it is what the gateway cannot read.
                sql = default;
                break;
        }

        verdict = type == (byte)FrontendCode.FunctionCall
            ? guard.RefuseUnreadable("the function-call protocol calls functions by number, which the gateway cannot judge")
            : guard.Judge(sql);
        if (verdict.Allowed)
        {
            return RewriteDecision.Pass;
        }

        var id = ++_nextId;
        // A Parse's error is answered at the next Sync; a Query's or FunctionCall's at its own end.
        var syncPoint = type == (byte)FrontendCode.Parse ? _syncPointsSent + 1 : _syncPointsSent;
        Refusals().Enqueue(new Refusal(id, syncPoint, StatementGuard.Message(verdict)));
        var failing = $"SELECT {MarkerPrefix}{id}";
        if (type == (byte)FrontendCode.Parse)
        {
            PgWriter.Parse(context.Forward, name, failing);
        }
        else
        {
            PgWriter.Query(context.Forward, failing);
        }

        return RewriteDecision.Replace;
    }

    /// <summary>Upstream ReadyForQuery: refusals of that batch the server never reached (it was discarding) are done.</summary>
    public void ReadyForQuerySeen()
    {
        var ready = Interlocked.Increment(ref _readySeen);
        var refusals = Volatile.Read(ref _refusals);
        while (refusals is not null && refusals.TryPeek(out var head) && head.SyncPoint <= ready)
        {
            refusals.TryDequeue(out _);
        }
    }

    /// <summary>An upstream ErrorResponse: ours becomes the policy's error, anything else passes.</summary>
    public RewriteDecision OnError(ReadOnlySpan<byte> body, RewriteContext context)
    {
        var at = body.IndexOf(MarkerPrefixBytes);
        if (at < 0 || !TryReadId(body[(at + MarkerPrefixBytes.Length)..], out var id))
        {
            return RewriteDecision.Pass;
        }

        var refusals = Volatile.Read(ref _refusals);
        while (refusals is not null && refusals.TryDequeue(out var refusal))
        {
            if (refusal.Id == id)
            {
                PgWriter.ErrorResponse(context.Forward, "ERROR", SqlState.InsufficientPrivilege, refusal.Message);
                return RewriteDecision.Replace;
            }
        }

        return RewriteDecision.Pass;
    }

    private ConcurrentQueue<Refusal> Refusals()
    {
        // Written by the client-to-upstream loop only; the other loop reads it.
        if (_refusals is { } refusals)
        {
            return refusals;
        }

        Volatile.Write(ref _refusals, refusals = new ConcurrentQueue<Refusal>());
        return refusals;
    }

    private static bool TryReadId(ReadOnlySpan<byte> digits, out long id)
    {
        id = 0;
        var n = 0;
        while (n < digits.Length && n < 18 && digits[n] is >= (byte)'0' and <= (byte)'9')
        {
            id = id * 10 + (digits[n] - '0');
            n++;
        }

        return n > 0;
    }

    private static ReadOnlySpan<byte> CString(ReadOnlySpan<byte> span, out ReadOnlySpan<byte> rest)
    {
        var end = span.IndexOf((byte)0);
        if (end < 0)
        {
            rest = default;
            return span;
        }

        rest = span[(end + 1)..];
        return span[..end];
    }
}
