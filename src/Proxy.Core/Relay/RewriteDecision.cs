namespace Gatehouse.Proxy.Core.Relay;

/// <summary>What a rewriter decided for one inspected frame.</summary>
public readonly struct RewriteDecision
{
    private RewriteDecision(RewriteAction action, Task? hold, SessionEndReason endReason, string? message)
    {
        Action = action;
        HoldUntil = hold;
        EndReason = endReason;
        Message = message;
    }

    /// <summary>The action.</summary>
    public RewriteAction Action { get; }

    /// <summary>For <see cref="RewriteAction.Hold"/>: the direction pauses until this completes.</summary>
    public Task? HoldUntil { get; }

    /// <summary>For <see cref="RewriteAction.End"/>: why the session ends.</summary>
    public SessionEndReason EndReason { get; }

    /// <summary>For <see cref="RewriteAction.End"/>: a reason a person understands.</summary>
    public string? Message { get; }

    /// <summary>Forward the frame untouched (after anything written to Forward).</summary>
    public static RewriteDecision Pass => default;

    /// <summary>Forward what was written to Forward instead of the frame.</summary>
    public static RewriteDecision Replace => new(RewriteAction.Replace, null, default, null);

    /// <summary>Forward nothing for this frame.</summary>
    public static RewriteDecision Drop => new(RewriteAction.Drop, null, default, null);

    /// <summary>Pause this direction (nothing after the frame moves) until <paramref name="until"/> completes, then ask again.</summary>
    public static RewriteDecision Hold(Task until) => new(RewriteAction.Hold, until, default, null);

    /// <summary>End the session.</summary>
    public static RewriteDecision End(SessionEndReason reason, string message) => new(RewriteAction.End, null, reason, message);
}

/// <summary>The kinds of <see cref="RewriteDecision"/>.</summary>
public enum RewriteAction : byte
{
    /// <summary>Forward untouched.</summary>
    Pass,
    /// <summary>Forward the rewriter's bytes instead.</summary>
    Replace,
    /// <summary>Forward nothing.</summary>
    Drop,
    /// <summary>Wait, then decide again.</summary>
    Hold,
    /// <summary>End the session.</summary>
    End,
}
