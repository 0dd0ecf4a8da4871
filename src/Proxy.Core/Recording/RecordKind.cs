namespace Gatehouse.Proxy.Core.Recording;

/// <summary>What one record of a segment holds. Values are stored on disk: never renumber.</summary>
public enum RecordKind : byte
{
    /// <summary>First record of every segment: its number and the previous segment's seal (<see cref="SegmentStart"/>).</summary>
    SegmentStart = 1,
    /// <summary>Last record of a closed segment: record count, chain hash and the keyed seal (<see cref="SegmentSeal"/>).</summary>
    Seal = 2,
    /// <summary>Appended after a crash: how many bytes of a torn tail were cut off the segment.</summary>
    Recovery = 3,
    SessionStart = 10,
    Statement = 11,
    Decision = 12,
    Result = 13,
    Error = 14,
    SessionEnd = 15,
    /// <summary>A configured cap cut something short: the cap is itself on record, never silent.</summary>
    Capped = 16,
    /// <summary>Result rows that went to the client but are not in the recording (<c>results: row_count</c>): their count, 8 bytes little-endian.</summary>
    RowsOmitted = 17,
}

/// <summary>How much of the results a session's recording keeps (per upstream).</summary>
public enum ResultRecording : byte
{
    /// <summary>Every byte the client saw, after masking.</summary>
    Full,
    /// <summary>Everything but the result rows, which are counted instead (a RowsOmitted record where they were).</summary>
    RowCount,
}

/// <summary>Which way the recorded bytes went.</summary>
public enum RecordDirection : byte
{
    None = 0,
    ClientToUpstream = 1,
    UpstreamToClient = 2,
}
