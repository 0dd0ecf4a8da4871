using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Protocols.Postgres.Masking;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Metrics;
using Gatehouse.Proxy.Core.Relay;
using Gatehouse.Proxy.Core.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Fuzz.Support;

/// <summary>
/// bench/e2e-postgres.sh's masked workload without the databases: rows of <c>SELECT id, card_number, note FROM
/// stream_cards</c> through a PostgreSQL session's upstream-to-client relay, the card number partially masked
/// (keep 4) as the demo masks it for contractors. The session is real (statement tracking, the column planner,
/// the row masker, live metrics); only the catalog is seeded instead of loaded, since there is no upstream.
/// </summary>
internal static class MaskedStream
{
    public const int TableOid = 16384;
    public const string Sql = "SELECT id, card_number, note FROM stream_cards";

    /// <summary>Row <paramref name="id"/>: as the e2e table has it (id, 4000000000000000 + id, md5 of id).</summary>
    public static byte[] Row(int id) => PgMessages.DataRow(id.ToString(CultureInfo.InvariantCulture),
        (4000000000000000L + id).ToString(CultureInfo.InvariantCulture),
        Convert.ToHexStringLower(MD5.HashData(Encoding.ASCII.GetBytes(id.ToString(CultureInfo.InvariantCulture)))));

    public static byte[] Batch(int rows) => PgMessages.Concat([.. Enumerable.Range(1, rows).Select(Row)]);

    /// <summary>
    /// The session's upstream-to-client relay after the query was sent and described, so every row pumped next is
    /// a row of its result. Exempt: the same session without a masker (an analyst's), whose rows stream untouched.
    /// </summary>
    public static SteadyRelay Create(bool masked, GatehouseMetrics? metrics)
    {
        if (!masked)
        {
            var exempt = new SteadyRelay(Direction.UpstreamToClient, PgFrameDecoder.Backend, new PgSessionRewriter());
            Describe(exempt);
            return exempt;
        }

        var rewriter = MaskedRewriter(metrics, out var dialer);

        // The client's Query goes through the client direction's relay, which queues it for the masker.
        using (var client = new SteadyRelay(Direction.ClientToUpstream, PgFrameDecoder.ForFrontend(16 * 1024 * 1024), rewriter))
        {
            client.Pump(PgMessages.Query(Sql));
        }

        var relay = new SteadyRelay(Direction.UpstreamToClient, PgFrameDecoder.Backend, rewriter, owned: dialer);
        Describe(relay);
        return relay;
    }

    /// <summary>A statement whose result is one derived column (strict mode reads its text) that reads no sensitive column.</summary>
    public const string CountSql = "SELECT count(*) FROM stream_cards WHERE note LIKE 'a%' AND id > 100";

    /// <summary>The answer to a statement with one derived column: RowDescription, one DataRow, CommandComplete, ReadyForQuery.</summary>
    public static byte[] DerivedResponse(string value) => PgMessages.Concat(
        PgMessages.RowDescription(20, "count"), PgMessages.DataRow(value), PgMessages.CommandComplete("SELECT 1"), PgMessages.ReadyForQuery());

    /// <summary>
    /// Both directions of a contractor's session, for statements sent one after another: the client's relay
    /// (which queues each statement for the masker) and the upstream's (which plans and masks its results).
    /// </summary>
    public static (SteadyRelay Client, SteadyRelay Upstream) CreateSession(GatehouseMetrics? metrics)
    {
        var rewriter = MaskedRewriter(metrics, out var dialer);
        return (new SteadyRelay(Direction.ClientToUpstream, PgFrameDecoder.ForFrontend(16 * 1024 * 1024), rewriter),
            new SteadyRelay(Direction.UpstreamToClient, PgFrameDecoder.Backend, rewriter, owned: dialer));
    }

    /// <summary>Both directions of an analyst's session, without a masker: <see cref="CreateSession"/>'s baseline.</summary>
    public static (SteadyRelay Client, SteadyRelay Upstream) CreateExemptSession()
    {
        var rewriter = new PgSessionRewriter();
        return (new SteadyRelay(Direction.ClientToUpstream, PgFrameDecoder.ForFrontend(16 * 1024 * 1024), rewriter),
            new SteadyRelay(Direction.UpstreamToClient, PgFrameDecoder.Backend, rewriter));
    }

    private static PgSessionRewriter MaskedRewriter(GatehouseMetrics? metrics, out UpstreamDialer dialer)
    {
        var rule = new MaskingRule { Name = "cards", Columns = [Pattern("card_number")], Action = new MaskAction("cards", MaskStrategy.Partial) };
        var detected = DetectorActions.RedactEach();
        var session = new MaskingPolicy([rule], ContentKinds.All, detected, DetectorScope.Derived, strict: true, tokenKey: []).ForSession([], "app")!;
        var options = new PgUpstreamOptions { Name = "bench", Host = "127.0.0.1", Database = "app", User = "bench", Password = static () => "" };
        // Never dials: the catalog is seeded. The relay disposes the dialer (its memory pool) with itself.
        dialer = new UpstreamDialer();
        var catalog = new PgCatalog(new PgUpstreamConnector(dialer), options, "app", TimeProvider.System, NullLogger.Instance);
        catalog.Seed(new PgRelation { Oid = TableOid, Schema = "public", Name = "stream_cards", Kind = 'r', Columns = [null, "id", "card_number", "note"] });
        catalog.SeedNames(new HashSet<string>(), []); // a database without functions or views of its own
        var masker = new PgResultMasker(new PgColumnPlanner(session, catalog), new PgRowMasker(session, new MaskingCounter(metrics)));
        return new PgSessionRewriter(masker: masker);
    }

    private static void Describe(SteadyRelay relay)
        => relay.Pump(PgMessages.RowDescriptionOfTable(TableOid, 25, "id", "card_number", "note"));

    private static ColumnPattern Pattern(string text) => ColumnPattern.TryParse(text, out var pattern) ? pattern : throw new ArgumentException(text);
}
