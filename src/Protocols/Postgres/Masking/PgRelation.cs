namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>A column by catalog identity: relation OID and attribute number (0 = the whole row).</summary>
internal readonly record struct PgColumnRef(uint Relation, short Attribute);

/// <summary>
/// What the gateway knows of one relation from the upstream's catalog: its qualified name, its columns by
/// attribute number, and for a view where each column comes from (<see cref="Origins"/>) and which columns
/// its definition reads (<see cref="Reads"/>).
/// </summary>
internal sealed class PgRelation
{
    public required uint Oid { get; init; }

    public required string Schema { get; init; }

    public required string Name { get; init; }

    /// <summary>pg_class.relkind: r table, v view, m materialized view, p partitioned table, f foreign table...</summary>
    public required char Kind { get; init; }

    /// <summary>Column names by attribute number (index 0 unused); null where a number is not a live column.</summary>
    public required string?[] Columns { get; init; }

    /// <summary>For a view: the column each view column is a plain reference to; Relation 0 = an expression.</summary>
    public PgColumnRef[] Origins { get; init; } = [];

    /// <summary>For a view: every column its definition reads (Attribute 0 = a whole-row reference).</summary>
    public PgColumnRef[] Reads { get; init; } = [];

    /// <summary>
    /// For a view: its definition calls a function or operator the database defines outside pg_catalog and
    /// information_schema, which may read a sensitive table itself (<c>SELECT * FROM cards_of()</c>): what it
    /// returns is no column the catalog can follow, so strict mode counts it like a sensitive read.
    /// </summary>
    public bool CallsOwnFunction { get; init; }

    /// <summary>
    /// The tables it inherits from, transitively (a partition's partitioned tables, an inheritance child's
    /// parents): a rule that names a parent table names its column in every child too, since a child's rows
    /// are the parent's rows read another way.
    /// </summary>
    public (string Schema, string Name)[] Ancestors { get; init; } = [];

    public bool IsView => Kind is 'v' or 'm';

    public string? ColumnName(short attribute) => attribute > 0 && attribute < Columns.Length ? Columns[attribute] : null;
}
