using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Protocols.Sql;

/// <summary>
/// A masked session's last few storing statements and what <see cref="StrictReferences.FindStore"/> said of
/// each. An application repeats its writes, and reading one again (a token list, a string per word) is the
/// check's cost; the verdict depends only on the text, its kind and the catalog's names (functions, and view
/// columns that show sensitive ones), so it holds while those sets are the same objects. Reads cleared by the byte scan are not remembered: that scan
/// is cheaper than a copy.
/// </summary>
internal sealed class StoreVerdicts(MaskingSession masking)
{
    private const int Slots = 8;

    private readonly Entry[] _entries = new Entry[Slots];
    private int _next;

    private sealed class Entry
    {
        public byte[] Text = [];
        public int Length;
        public StatementKind Kind;
        public IReadOnlySet<string>? Functions;
        public SensitiveViewColumns? ViewColumns;
        public string? Why;
    }

    public string? Find<TLexer>(ref TLexer lexer, ReadOnlySpan<byte> sql, StatementKind kind, IReadOnlySet<string>? functions, SensitiveViewColumns? viewColumns)
        where TLexer : ISqlLexer, allows ref struct
    {
        var remember = functions is not null && viewColumns is not null && kind is not (StatementKind.Read or StatementKind.Transaction) && masking.HasColumnRules;
        if (remember)
        {
            foreach (var entry in _entries)
            {
                if (entry is not null && entry.Kind == kind && ReferenceEquals(entry.Functions, functions) && ReferenceEquals(entry.ViewColumns, viewColumns) && sql.SequenceEqual(entry.Text.AsSpan(0, entry.Length)))
                {
                    return entry.Why;
                }
            }
        }

        var why = StrictReferences.FindStore(ref lexer, sql, kind, masking, functions, viewColumns);
        if (remember)
        {
            var slot = _entries[_next] ??= new Entry();
            _next = (_next + 1) % Slots;
            if (slot.Text.Length < sql.Length)
            {
                slot.Text = new byte[Math.Max(sql.Length, 64)];
            }

            sql.CopyTo(slot.Text);
            (slot.Length, slot.Kind, slot.Functions, slot.ViewColumns, slot.Why) = (sql.Length, kind, functions, viewColumns, why);
        }

        return why;
    }
}
