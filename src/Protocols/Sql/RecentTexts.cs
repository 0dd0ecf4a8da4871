namespace Gatehouse.Protocols.Sql;

/// <summary>
/// What strict mode's reading said of a masked session's last few statement texts. Applications repeat their
/// statements, and reading one (a token list, a string per word) is what strict mode costs per statement. A
/// verdict depends only on the text, a tag the caller gives (the statement's kind), the session's rules and the
/// catalog's names (functions, and view columns that show sensitive ones), so it holds while those sets are
/// the same objects: a reload makes new ones. Texts over <see cref="MaxText"/> are read each time, so that
/// one huge statement does not stay held per session.
/// </summary>
internal sealed class RecentTexts<TVerdict>
{
    public const int MaxText = 4 * 1024;

    private const int Slots = 8;

    private readonly Entry[] _entries = new Entry[Slots];
    private int _next;

    private sealed class Entry
    {
        public byte[] Text = [];
        public int Length;
        public int Tag;
        public object? Functions;
        public SensitiveViewColumns? ViewColumns;
        public TVerdict Verdict = default!;
    }

    public bool TryGet(ReadOnlySpan<byte> sql, int tag, object? functions, SensitiveViewColumns? viewColumns, out TVerdict verdict)
    {
        foreach (var entry in _entries)
        {
            if (entry is not null && entry.Tag == tag && ReferenceEquals(entry.Functions, functions) && ReferenceEquals(entry.ViewColumns, viewColumns)
                && sql.SequenceEqual(entry.Text.AsSpan(0, entry.Length)))
            {
                verdict = entry.Verdict;
                return true;
            }
        }

        verdict = default!;
        return false;
    }

    public void Remember(ReadOnlySpan<byte> sql, int tag, object? functions, SensitiveViewColumns? viewColumns, TVerdict verdict)
    {
        if (sql.Length > MaxText)
        {
            return;
        }

        var slot = _entries[_next] ??= new Entry();
        _next = (_next + 1) % Slots;
        if (slot.Text.Length < sql.Length)
        {
            slot.Text = new byte[Math.Max(sql.Length, 64)];
        }

        sql.CopyTo(slot.Text);
        (slot.Length, slot.Tag, slot.Functions, slot.ViewColumns, slot.Verdict) = (sql.Length, tag, functions, viewColumns, verdict);
    }
}
