namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>A client request whose answer the server has not finished yet, in the order the server answers.</summary>
internal enum PgPendingKind : byte { Query, Parse, DescribeStatement, DescribePortal, Bind, Execute, Close, Sync, FunctionCall }

internal readonly record struct PgPending(PgPendingKind Kind, string Name = "", string Statement = "", byte[]? Sql = null,
    short[]? Formats = null, bool Injected = false, byte Target = 0)
{
    /// <summary>Requests answered by ReadyForQuery; an extended-protocol error discards everything before the next Sync.</summary>
    public bool EndsAtReady => Kind is PgPendingKind.Query or PgPendingKind.Sync or PgPendingKind.FunctionCall;
}

/// <summary>A prepared statement as the server confirmed it, and the shape of its rows once described.</summary>
internal sealed class PgStatementInfo(byte[] sql)
{
    public byte[] Sql { get; } = sql;

    public PgResultShape? Shape { get; set; }
}
