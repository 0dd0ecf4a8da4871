using System.Diagnostics;
using System.Security.Cryptography;
using Gatehouse.Proxy.Core.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Proxy.Core.Policy;

/// <summary>
/// One session's view of the statement policy: who the session is (roles, upstream), its dialect's classifier
/// and a reusable classification buffer. Judges a SQL text as a whole: every statement in it must be allowed,
/// and the first that is not decides for the text, so nothing after (or before) an offender runs.
/// Not thread-safe: a session judges on its client-to-upstream loop only.
/// </summary>
public sealed class StatementGuard(StatementPolicy policy, ISqlClassifier classifier, PolicySubject subject,
    GatehouseMetrics? metrics = null, ILogger? logger = null, TimeProvider? time = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;
    private readonly SqlClassification _classification = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly List<string> _objects = new(8);
    private readonly ClassificationCache _cache = new();
    private readonly RecentCells<(string, string, string)>? _counted = metrics is null ? null : new(metrics.PolicyDecisions);

    // What this session prepared at the SQL level and the gateway allowed: EXECUTE is judged as that.
    private readonly Dictionary<string, (StatementKind Kind, StatementRisk Risks, string[] Objects)> _prepared = new(StringComparer.Ordinal);

    /// <summary>Called with every verdict and the text it was about (the session recording keeps them).</summary>
    public JudgedHandler? Judged { get; set; }

    /// <summary>
    /// Whether the text judged last may change what names the catalog resolves: DDL, text the classifier could not
    /// read, and statements that run other SQL (EXECUTE, CALL, DO). Masking drops its cached catalog after one runs.
    /// </summary>
    public bool MayChangeCatalog { get; private set; }

    /// <summary>
    /// The text judged last as the classification cache keeps it (an immutable copy), or null when it is too long
    /// to keep: masking keeps each statement's text for planning its results, and reuses this (<see cref="TextOf"/>)
    /// instead of copying the same few texts again on every statement.
    /// </summary>
    public byte[]? LastText { get; private set; }

    /// <summary><paramref name="judged"/> when it holds exactly <paramref name="text"/>, else a copy of the text.</summary>
    public static byte[] TextOf(ReadOnlySpan<byte> text, byte[]? judged) => judged is not null && text.SequenceEqual(judged) ? judged : text.ToArray();

    /// <summary>
    /// Set in a masked session: why an allowed statement must still not run because it would store or send a
    /// sensitive value where masking cannot follow it (into another column, a variable, a renamed table), or null.
    /// </summary>
    public SensitiveStoreCheck? SensitiveStores { get; set; }

    /// <summary>
    /// The longest a judgement of <paramref name="length"/> bytes takes when its thread keeps the CPU: 20 µs plus
    /// 20 ns a byte, several times what the linear classifier needs when its caches are cold. A judgement that
    /// took longer was preempted (for milliseconds: a time slice) and counts as this, so that on a loaded
    /// machine the time spent judging stays the policy's own cost rather than other threads' turns.
    /// </summary>
    private static long UninterruptedTicks(int length) => (long)((20e-6 + 20e-9 * length) * Stopwatch.Frequency);

    public PolicyVerdict Judge(ReadOnlySpan<byte> sql)
    {
        var start = metrics is null ? 0 : Stopwatch.GetTimestamp();
        var verdict = JudgeText(sql);
        metrics?.AddPolicyTime(Math.Min(Stopwatch.GetTimestamp() - start, UninterruptedTicks(sql.Length)));
        Judged?.Invoke(verdict, sql);
        return verdict;
    }

    private PolicyVerdict JudgeText(ReadOnlySpan<byte> sql)
    {
        _classification.Clear();
        var cached = _cache.ShouldLookUp(sql);
        var hash = cached ? ClassificationCache.Hash(sql) : 0;
        byte[]? text = null;
        if (!cached || !_cache.TryFill(sql, hash, _classification, out text))
        {
            classifier.Classify(sql, _classification);
            text = cached ? _cache.Add(sql, hash, _classification) : null;
        }

        LastText = text;

        var now = policy.UsesTime ? _time.GetUtcNow() : default;
        PolicyVerdict? allowed = null;
        MayChangeCatalog = false;
        foreach (var statement in _classification.Statements)
        {
            _objects.Clear();
            for (var i = 0; i < statement.ObjectCount; i++)
            {
                _objects.Add(_classification.Objects[statement.FirstObject + i]);
            }

            var (kind, risks) = (statement.Kind, statement.Risks);
            if (statement.Prepared == PreparedAction.Execute && statement.PreparedName is { } executed
                && PreparedEarlierInText(executed, statement.Start, out var known) switch
                {
                    true => true,
                    false => false, // deallocated earlier in this text: nothing to run, so what it would be is unknown
                    null => _prepared.TryGetValue(executed, out known),
                })
            {
                (kind, risks) = (known.Kind, known.Risks | StatementRisk.DynamicSql);
                _objects.AddRange(known.Objects);
            }

            MayChangeCatalog |= kind is StatementKind.Ddl or StatementKind.Unknown || (risks & (StatementRisk.DynamicSql | StatementRisk.RoutineBody)) != 0;
            var verdict = policy.Evaluate(new StatementFacts(kind, risks, _objects, subject.Roles, subject.Upstream), now);
            if (verdict.Allowed && SensitiveStores is { } stores && stores(kind, sql.Slice(statement.Start, statement.Length)) is { } why)
            {
                verdict = new PolicyVerdict(PolicyDecision.Deny, StatementPolicy.MaskedStoreRule,
                    $"this session is masked, and the statement would store or send a sensitive value where masking cannot follow it: {why}", kind, risks);
            }

            Count(verdict);
            if (!verdict.Allowed)
            {
                PolicyLog.Refused(_logger, subject.SessionId, subject.Subject, subject.Upstream,
                    Fingerprint(sql.Slice(statement.Start, statement.Length)), PolicyNames.Label(verdict.Decision), verdict.Rule,
                    PolicyNames.Label(verdict.Kind), PolicyNames.Describe(verdict.Risks), string.Join(", ", _objects));
                return verdict;
            }

            if (_logger.IsEnabled(LogLevel.Debug))
            {
                PolicyLog.Allowed(_logger, subject.SessionId, subject.Subject, subject.Upstream,
                    Fingerprint(sql.Slice(statement.Start, statement.Length)), verdict.Rule, PolicyNames.Label(verdict.Kind), PolicyNames.Describe(verdict.Risks));
            }

            allowed ??= verdict;
        }

        // Only a text allowed whole reaches the server, so only then do its PREPAREs exist there.
        foreach (var statement in _classification.Statements)
        {
            Remember(statement);
        }

        // An empty text (only comments or semicolons) is the server's to answer (EmptyQueryResponse).
        return allowed ?? new PolicyVerdict(PolicyDecision.Allow, StatementPolicy.DefaultAllowRule, null, StatementKind.Session, StatementRisk.None);
    }

    /// <summary>
    /// PREPARE s ...; EXECUTE s in one text: the EXECUTE runs what the same text prepared before it (the whole
    /// text is judged before any of it runs, so a PREPARE refused here makes the EXECUTE's text refused too).
    /// </summary>
    private bool? PreparedEarlierInText(string name, int before, out (StatementKind Kind, StatementRisk Risks, string[] Objects) prepared)
    {
        for (var i = _classification.Statements.Count - 1; i >= 0; i--)
        {
            var earlier = _classification.Statements[i];
            if (earlier.Start >= before || earlier.PreparedName != name && !(earlier.Prepared == PreparedAction.Deallocate && earlier.PreparedName is null))
            {
                continue;
            }

            if (earlier.Prepared == PreparedAction.Prepare)
            {
                prepared = (earlier.Kind, earlier.Risks, _classification.Objects.GetRange(earlier.FirstObject, earlier.ObjectCount).ToArray());
                return true;
            }

            if (earlier.Prepared == PreparedAction.Deallocate)
            {
                prepared = default;
                return false;
            }
        }

        prepared = default;
        return null;
    }

    private void Remember(in ClassifiedStatement statement)
    {
        switch (statement.Prepared)
        {
            case PreparedAction.Prepare when statement.PreparedName is { } name:
                // Bounded like the server's own limit on prepared statements, so a client cannot grow it forever.
                if (_prepared.Count < 10_000 || _prepared.ContainsKey(name))
                {
                    _prepared[name] = (statement.Kind, statement.Risks, _classification.Objects.GetRange(statement.FirstObject, statement.ObjectCount).ToArray());
                }

                break;
            case PreparedAction.Deallocate when statement.PreparedName is { } name:
                _prepared.Remove(name);
                break;
            case PreparedAction.Deallocate:
                _prepared.Clear();
                break;
        }
    }

    /// <summary>Refuses a request that carries no SQL the gateway can read (counted and logged like any refusal).</summary>
    public PolicyVerdict RefuseUnreadable(string reason)
    {
        var verdict = new PolicyVerdict(PolicyDecision.Deny, StatementPolicy.DefaultUnknownRule, reason, StatementKind.Unknown, StatementRisk.None);
        Count(verdict);
        PolicyLog.Refused(_logger, subject.SessionId, subject.Subject, subject.Upstream, "-", "deny", verdict.Rule, "unknown", "none", "");
        Judged?.Invoke(verdict, []);
        return verdict;
    }

    private void Count(in PolicyVerdict verdict) =>
        _counted?.Increment((PolicyNames.Label(verdict.Decision), verdict.Rule, PolicyNames.Label(verdict.Kind)));

    /// <summary>
    /// A short stable fingerprint of a statement for logs: the same text gives the same value, and the text
    /// itself (which may hold personal data in literals) stays out of the log.
    /// </summary>
    public static string Fingerprint(ReadOnlySpan<byte> sql)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(sql, hash);
        return Convert.ToHexStringLower(hash[..8]);
    }

    /// <summary>The message a refused client sees: the rule, its reason, and for a hold that approval is needed.</summary>
    public static string Message(in PolicyVerdict verdict) => verdict.Decision == PolicyDecision.Hold
        ? $"permission denied by gateway policy: rule \"{verdict.Rule}\" requires approval for this statement{(verdict.Reason is null ? "" : $" ({verdict.Reason})")}; approval is not available yet, so it was not run"
        : $"permission denied by gateway policy: rule \"{verdict.Rule}\"{(verdict.Reason is null ? "" : $": {verdict.Reason}")}";
}

/// <summary>Why a statement of the given kind would store a sensitive value where masking cannot follow it, or null.</summary>
public delegate string? SensitiveStoreCheck(StatementKind kind, ReadOnlySpan<byte> statement);

/// <summary>Receives a verdict and the SQL text it judged.</summary>
public delegate void JudgedHandler(in PolicyVerdict verdict, ReadOnlySpan<byte> sql);

/// <summary>Who a guard judges for: the session, its user, the roles the token mapped to, and the upstream.</summary>
public sealed record PolicySubject(string SessionId, string Subject, IReadOnlyList<string> Roles, string Upstream);
