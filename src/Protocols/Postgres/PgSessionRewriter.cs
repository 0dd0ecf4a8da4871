using System.Buffers;
using System.Runtime.CompilerServices;
using Gatehouse.Protocols.Masking;
using Gatehouse.Protocols.Postgres.Masking;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Protocols.Postgres;

/// <summary>
/// The PostgreSQL session's own rules on the relay: the gateway reads SQL as UTF-8 with standard conforming
/// strings, so a ParameterStatus reporting anything else ends the session rather than letting later
/// statements be read one way by the gateway and another by the server (DESIGN §3). With a statement gate,
/// Query, Parse and FunctionCall are judged by policy (<see cref="PgStatementGate"/>); with a masker, result
/// rows are masked (<see cref="PgResultMasker"/>). Every other frame streams through untouched.
/// </summary>
/// <param name="onDdl">Without a masker: told of DDL the session ran, for the masked sessions' shared catalog.</param>
internal sealed class PgSessionRewriter(PgStatementGate? gate = null, PgResultMasker? masker = null, Action? onDdl = null) : IFrameRewriter, ISessionActivity
{
    private volatile bool _awaitingServer;
    private CatalogNamesWait _catalogNames;

    /// <summary>The client said Terminate: the server closing next is the client's doing.</summary>
    public bool TerminateSeen { get; private set; }

    /// <summary>No request outstanding: the last word was the server's ReadyForQuery.</summary>
    public bool IsIdle => !_awaitingServer;

    public FrameInterest OnHeader(Direction direction, in FrameHeader header)
    {
        if (direction == Direction.ClientToUpstream)
        {
            // Every request the server answers with ReadyForQuery ends in one of these (55.2.2, 55.2.3, 55.2.5).
            if (header.Type is (byte)FrontendCode.Query or (byte)FrontendCode.Sync or (byte)FrontendCode.FunctionCall)
            {
                _awaitingServer = true;
                gate?.SyncPointSent();
            }
            else if (header.Type == (byte)FrontendCode.Terminate)
            {
                TerminateSeen = true;
            }

            masker?.OnRequestHeader(header.Type);
            return (gate is not null && IsGated(header.Type)) || (masker is not null && PgResultMasker.InspectsRequest(header.Type))
                || (header.Type == (byte)FrontendCode.Sync && masker is { SyncAmongCopyData: true })
                ? FrameInterest.Inspect
                : FrameInterest.Pass;
        }

        var interest = masker?.OnResponseHeader(header.Type) ?? FrameInterest.Pass;
        switch (header.Type)
        {
            case (byte)BackendCode.ReadyForQuery:
                _awaitingServer = false;
                gate?.ReadyForQuerySeen();
                return interest == FrameInterest.Inspect || masker is { NeedsReadyStatus: true } // its status: a transaction's cursors and portals end with it
                    ? FrameInterest.Inspect
                    : FrameInterest.Pass;
            case (byte)BackendCode.ErrorResponse when gate is { ExpectsError: true } || masker is not null:
            case (byte)BackendCode.NoticeResponse or (byte)BackendCode.NotificationResponse when masker is not null:
            case (byte)BackendCode.ParameterStatus:
            case (byte)BackendCode.CommandComplete when masker is null && onDdl is not null:
                return FrameInterest.Inspect;
            default:
                return interest;
        }
    }

    /// <summary>DataRow and COPY TO STDOUT's CopyData: what <c>results: row_count</c> leaves out of a recording (the tag keeps the count).</summary>
    public bool IsResultRow(in FrameHeader header) => header.Type is (byte)BackendCode.DataRow or (byte)BackendCode.CopyData;

    /// <summary>A masked DataRow over the relay's inspection limit is masked column by column as it streams.</summary>
    public bool CanRewriteInParts(Direction direction, in FrameHeader header)
        => direction == Direction.UpstreamToClient && masker is not null && masker.BeginParts(header.Type);

    public RewriteDecision OnFramePart(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> part, bool final, RewriteContext context)
        => masker!.OnResponsePart(part, final, context);

    private static bool IsGated(byte type) => type is (byte)FrontendCode.Query or (byte)FrontendCode.Parse or (byte)FrontendCode.FunctionCall;

    /// <summary>
    /// A masked DataRow, the frame a result inspects by the million, takes a path of its own: with every other
    /// frame's handling inlined beside it, each row paid for a 600-byte stack frame zeroed and spilled into.
    /// </summary>
    public RewriteDecision OnFrame(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context)
        => direction == Direction.UpstreamToClient && header.Type == (byte)BackendCode.DataRow
            ? masker!.OnDataRow(frame, header.HeaderLength, context) // inspected only when a masker asked for it (OnHeader)
            : OnOtherFrame(direction, header, frame, context);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private RewriteDecision OnOtherFrame(Direction direction, in FrameHeader header, in ReadOnlySequence<byte> frame, RewriteContext context)
    {
        if (direction == Direction.ClientToUpstream && gate is not null && IsGated(header.Type)
            && _catalogNames.Before(masker?.Planner.CatalogNamesLoading()) is { } hold)
        {
            return hold;
        }

        using var body = new ContiguousFrame(frame.Slice(header.HeaderLength));
        var bytes = body.Span;
        if (direction == Direction.ClientToUpstream)
        {
            if (header.Type == (byte)FrontendCode.Sync && masker is { SyncAmongCopyData: true })
            {
                // Inspected only among COPY data (PgResultMasker.CopyIn): where the server answers it is not known.
                return RewriteDecision.End(SessionEndReason.ProtocolViolation, "a Sync among COPY data: a masked session sends CopyDone or CopyFail first");
            }

            var decision = gate is not null && IsGated(header.Type) ? gate.OnRequest(header.Type, bytes, context) : RewriteDecision.Pass;
            if (masker is not null && PgResultMasker.InspectsRequest(header.Type) && decision.Action is RewriteAction.Pass or RewriteAction.Replace
                && masker.OnRequest(header.Type, bytes, frame, context, decision.Action == RewriteAction.Replace, gate?.LastText))
            {
                return RewriteDecision.Replace;
            }

            return decision;
        }

        if (header.Type is (byte)BackendCode.ErrorResponse or (byte)BackendCode.NoticeResponse)
        {
            // The gate's own refusals first; any other error or notice of a masked session may quote a value.
            var ours = header.Type == (byte)BackendCode.ErrorResponse && gate is { ExpectsError: true } ? gate.OnError(bytes, context) : RewriteDecision.Pass;
            return ours.Action != RewriteAction.Pass || masker is null ? ours : PgServerMessageMasker.Mask(header.Type, bytes, context.Forward, masker);
        }

        if (header.Type == (byte)BackendCode.NotificationResponse)
        {
            return PgServerMessageMasker.MaskNotification(bytes, context.Forward);
        }

        if (header.Type == (byte)BackendCode.CommandComplete && masker is null)
        {
            if (PgResultMasker.IsDdl(bytes))
            {
                onDdl!();
            }

            return RewriteDecision.Pass;
        }

        if (header.Type != (byte)BackendCode.ParameterStatus)
        {
            return masker!.OnResponse(header.Type, bytes, context);
        }

        var reader = new PgSpanReader(bytes);
        if (!reader.TryReadCString(out var name) || !reader.TryReadCString(out var value))
        {
            return RewriteDecision.End(SessionEndReason.ProtocolViolation, "malformed ParameterStatus from the upstream");
        }

        if (name == "client_encoding" && !value.Equals("UTF8", StringComparison.OrdinalIgnoreCase))
        {
            return RewriteDecision.End(SessionEndReason.Enforced, $"client_encoding changed to {value}; the gateway only relays UTF8 sessions");
        }

        if (name == "standard_conforming_strings" && !value.Equals("on", StringComparison.OrdinalIgnoreCase))
        {
            return RewriteDecision.End(SessionEndReason.Enforced, "standard_conforming_strings was turned off; the gateway only relays sessions where it is on");
        }

        return RewriteDecision.Pass;
    }
}
