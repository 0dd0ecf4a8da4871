using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Protocols.Sql;

/// <summary>
/// What <see cref="StrictReferences.FindStore"/> said of a masked session's last few storing statements
/// (<see cref="RecentTexts{TVerdict}"/>). Reads cleared by the byte scan are not remembered: that scan is
/// cheaper than a copy.
/// </summary>
internal sealed class StoreVerdicts(MaskingSession masking)
{
    private readonly RecentTexts<string?> _recent = new();

    public string? Find<TLexer>(ref TLexer lexer, ReadOnlySpan<byte> sql, StatementKind kind, IReadOnlySet<string>? functions, SensitiveViewColumns? viewColumns)
        where TLexer : ISqlLexer, allows ref struct
    {
        var remember = functions is not null && viewColumns is not null && kind is not (StatementKind.Read or StatementKind.Transaction) && masking.HasColumnRules;
        if (remember && _recent.TryGet(sql, (int)kind, functions, viewColumns, out var known))
        {
            return known;
        }

        var why = StrictReferences.FindStore(ref lexer, sql, kind, masking, functions, viewColumns);
        if (remember)
        {
            _recent.Remember(sql, (int)kind, functions, viewColumns, why);
        }

        return why;
    }
}
