using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>What the masker does with one result column: mask it with an action, scan it with the detectors, or neither.</summary>
internal readonly record struct PgColumnPlan(MaskAction? Action, bool Scan, uint Type, short Format)
{
    public bool HasWork => Action is not null || Scan;
}

/// <summary>The plan for every column of one result; rows with no planned work stream through unread.</summary>
internal sealed class PgResultShape
{
    public PgResultShape(PgColumnPlan[] columns)
    {
        Columns = columns;
        _hasWork = columns.Any(c => c.HasWork);
    }

    private readonly bool _hasWork;

    public PgColumnPlan[] Columns { get; }

    public bool HasWork => _hasWork || IsUnknown;

    /// <summary>
    /// Rows whose shape the gateway does not know (which should not happen): every value is masked to NULL,
    /// keeping the column count of each row, rather than passing anything it cannot attribute.
    /// </summary>
    public static PgResultShape Unknown { get; } = new([]);

    public bool IsUnknown => ReferenceEquals(this, Unknown);

    /// <summary>The same plan with the formats a Bind asked for (none = all text, one = all that, else per column).</summary>
    public PgResultShape WithFormats(ReadOnlySpan<short> formats)
    {
        if (IsUnknown || formats.Length == 0)
        {
            return this;
        }

        var columns = new PgColumnPlan[Columns.Length];
        for (var i = 0; i < columns.Length; i++)
        {
            columns[i] = Columns[i] with { Format = formats.Length == 1 ? formats[0] : i < formats.Length ? formats[i] : (short)0 };
        }

        return new PgResultShape(columns);
    }
}
