using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Protocols.MySql.Masking;

/// <summary>What the masker does with one result column: mask it with an action, scan it with the detectors, or neither.</summary>
internal readonly record struct MySqlColumnPlan(MaskAction? Action, bool Scan, MySqlColumn Column)
{
    public bool HasWork => Action is not null || Scan;
}

/// <summary>The plan for every column of one result; rows with no planned work stream through unread.</summary>
internal sealed class MySqlResultShape
{
    public MySqlResultShape(MySqlColumnPlan[] columns)
    {
        Columns = columns;
        HasWork = columns.Any(c => c.HasWork);
    }

    public MySqlColumnPlan[] Columns { get; }

    public bool HasWork { get; }

    /// <summary>No columns: a result the gateway does not know the shape of is never passed (see MySqlRowMasker).</summary>
    public static MySqlResultShape None { get; } = new([]);
}
