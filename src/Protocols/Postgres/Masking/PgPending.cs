namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>A client request whose answer the server has not finished yet, in the order the server answers.</summary>
internal enum PgPendingKind : byte { Query, Parse, DescribeStatement, DescribePortal, Bind, Execute, Close, Sync, FunctionCall }

/// <param name="CopyEnds">How many CopyDone and CopyFail the client had sent before it: which COPY's input a Sync is among.</param>
internal readonly record struct PgPending(PgPendingKind Kind, string Name = "", string Statement = "", byte[]? Sql = null,
    short[]? Formats = null, bool Injected = false, byte Target = 0, long CopyEnds = 0)
{
    /// <summary>Requests answered by ReadyForQuery; an extended-protocol error discards everything before the next Sync.</summary>
    public bool EndsAtReady => Kind is PgPendingKind.Query or PgPendingKind.Sync or PgPendingKind.FunctionCall;
}

/// <summary>A prepared statement as the server confirmed it, and the shape of its rows once described.</summary>
internal sealed class PgStatementInfo(byte[] sql)
{
    private PgResultShape? _shape;
    private short[]? _boundFormats;
    private PgResultShape? _boundShape;

    public byte[] Sql { get; } = sql;

    /// <summary>For a statement that FETCHes: the cursors' stamp when its rows were described (<see cref="PgCursors.Stamp"/>).</summary>
    public long? FetchStamp { get; set; }

    public PgResultShape? Shape
    {
        get => _shape;
        set
        {
            _shape = value;
            _boundShape = null;
        }
    }

    /// <summary>
    /// The shape with a Bind's result formats. A prepared statement is bound over and over with the same
    /// formats, so the last answer is kept: a Bind then costs a comparison, not a new plan.
    /// </summary>
    public PgResultShape? ShapeFor(short[] formats)
    {
        if (_shape is null)
        {
            return null;
        }

        if (_boundShape is null || !formats.AsSpan().SequenceEqual(_boundFormats))
        {
            _boundFormats = formats;
            _boundShape = _shape.WithFormats(formats);
        }

        return _boundShape;
    }
}
