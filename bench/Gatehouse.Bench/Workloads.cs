using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Bench;

/// <summary>What a relay benchmark pushes through.</summary>
public enum Workload
{
    /// <summary>Result rows from the database: DataRow messages of about 100 bytes.</summary>
    DataRow,

    /// <summary>Simple queries from the client: Query then Sync, two messages per statement.</summary>
    QuerySync,
}

/// <summary>Batches of typical messages, shared by the benchmarks and the allocation-budget check.</summary>
internal static class Workloads
{
    /// <summary>A DataRow of four text columns: 100 bytes on the wire.</summary>
    public static byte[] TypicalDataRow() => PgMessages.DataRow("1042", "alice@example.com", "2024-06-01 12:34:56.789+00", "a text column of thirty bytes.");

    /// <summary>A batch of exactly <paramref name="messages"/> messages of the workload.</summary>
    public static byte[] Batch(Workload workload, int messages)
    {
        if (workload == Workload.DataRow)
        {
            var row = TypicalDataRow();
            return PgMessages.Concat([.. Enumerable.Repeat(row, messages)]);
        }

        if (messages % 2 != 0)
        {
            throw new ArgumentException("Query+Sync batches hold an even number of messages", nameof(messages));
        }

        var statement = PgMessages.Concat(PgMessages.Query("select id, email, created from users where id = 1042"), PgMessages.Sync());
        return PgMessages.Concat([.. Enumerable.Repeat(statement, messages / 2)]);
    }

    public static Direction DirectionOf(Workload workload) => workload == Workload.DataRow ? Direction.UpstreamToClient : Direction.ClientToUpstream;

    public static IFrameDecoder DecoderFor(Workload workload)
        => workload == Workload.DataRow ? PgFrameDecoder.Backend : PgFrameDecoder.ForFrontend(16 * 1024 * 1024);
}
