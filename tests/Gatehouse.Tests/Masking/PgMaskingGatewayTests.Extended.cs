using Gatehouse.Tests.Postgres;
using Npgsql;
using static Gatehouse.Fuzz.Support.PgMessages;

namespace Gatehouse.Tests.Masking;

/// <summary>
/// The protocol's edges, hand-spoken: rows read through a cursor (FETCH names no column, so they are masked by
/// the query behind the cursor; cursors and protocol portals share one namespace, and a prepared FETCH reads
/// whatever cursor has its name when it runs), and requests the server discards or swallows, after which every
/// answer must still be matched to its own request.
/// </summary>
public sealed partial class PgMaskingGatewayTests
{
    private string Reversed => new(Card.Reverse().ToArray());

    [Fact]
    public async Task A_fetch_from_a_bound_portal_is_masked_by_the_portals_query()
    {
        // Until 2026-12-07 FETCH was judged by its own words: the portal's reverse(card) came out whole.
        await using var client = await ConnectRawAsync();
        await client.SendAsync(Query("BEGIN"));
        await client.UntilReadyAsync();
        await client.SendAsync(Concat(Parse("", $"SELECT card, reverse(card) AS r, name FROM {_schema}.people WHERE id = 1"), Bind("p", ""), Sync()));
        await client.UntilReadyAsync();

        await client.SendAsync(Query("FETCH 1 FROM p"));
        Assert.Equal([[MaskedCard, null, "Ada"]], DataRows(await client.UntilReadyAsync()));

        // An error the server composes from the portal's values while fetching them keeps its code, not its text.
        await client.SendAsync(Concat(Parse("", $"SELECT ('x' || replace(card, ' ', ''))::regtype FROM {_schema}.people WHERE id = 1"), Bind("q", ""), Sync()));
        await client.UntilReadyAsync();
        await client.SendAsync(Query("FETCH 1 FROM q"));
        var error = Assert.Single(await client.UntilReadyAsync(), m => m.Type == 'E');
        Assert.Contains("42704", PgRawClient.ErrorText(error.Body), StringComparison.Ordinal);
        Assert.DoesNotContain("4111", PgRawClient.ErrorText(error.Body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_prepared_fetch_is_not_masked_by_a_plan_its_cursor_has_outlived()
    {
        await using var client = await ConnectRawAsync();
        await client.SendAsync(Query($"BEGIN; DECLARE h CURSOR FOR SELECT upper(name) AS u, id FROM {_schema}.people ORDER BY id"));
        await client.UntilReadyAsync();

        // A FETCH parsed, described and run at once (psycopg's server-side cursors, Npgsql) is planned by its cursor's query.
        await client.SendAsync(Concat(Parse("", "FETCH 1 FROM h"), Bind("", ""), Describe('P', ""), Execute("", 0), Sync()));
        Assert.Equal([["ADA", "1"]], DataRows(await client.UntilReadyAsync()));

        // Parsed before its cursor existed (described as no rows), then run against a portal of that name: until
        // 2026-12-07 its rows passed unplanned, card numbers whole. Now whatever it reads is masked whole.
        await client.SendAsync(Concat(Parse("early", "FETCH 1 FROM c"), Parse("cards", $"SELECT card, reverse(card) AS r, name FROM {_schema}.people WHERE id = 1"),
            Bind("c", "cards"), Bind("", "early"), Execute("", 0), Sync()));
        Assert.Equal([[null, null, null]], DataRows(await client.UntilReadyAsync()));

        // Described while h read names, run after h was declared anew over reverse(card): masked whole too.
        await client.SendAsync(Concat(Parse("later", "FETCH 1 FROM h"), Sync()));
        await client.UntilReadyAsync();
        await client.SendAsync(Query($"CLOSE h; DECLARE h CURSOR FOR SELECT reverse(card) AS u, id FROM {_schema}.people ORDER BY id"));
        await client.UntilReadyAsync();
        await client.SendAsync(Concat(Bind("", "later"), Execute("", 0), Sync()));
        Assert.Equal([[null, null]], DataRows(await client.UntilReadyAsync()));

        // A cursor run as a portal, described first: by its DECLARE; not described after it was declared anew: whole.
        await client.SendAsync(Query($"CLOSE h; DECLARE h CURSOR FOR SELECT card, upper(name) AS u FROM {_schema}.people ORDER BY id"));
        await client.UntilReadyAsync();
        await client.SendAsync(Concat(Describe('P', "h"), Execute("h", 1), Sync()));
        Assert.Equal([[MaskedCard, null]], DataRows(await client.UntilReadyAsync()));
        await client.SendAsync(Query($"CLOSE h; DECLARE h CURSOR FOR SELECT name, card FROM {_schema}.people ORDER BY id"));
        await client.UntilReadyAsync();
        await client.SendAsync(Concat(Execute("h", 1), Sync()));
        Assert.Equal([[null, null]], DataRows(await client.UntilReadyAsync()));
    }

    [Fact]
    public async Task A_cursor_a_function_opened_is_masked_as_unseen()
    {
        // open_people OPENs a refcursor over reverse(card): the gateway never saw that query. Through Npgsql
        // (extended protocol) and psql (simple Query), the reversed card came out whole until 2026-12-07.
        await using var connection = await OpenAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await RowsAsync(connection, $"SELECT {_schema}.open_people('fc')");
        Assert.Equal([null, null], (await RowsAsync(connection, "FETCH 1 FROM fc"))[0]);

        var psql = await Psql.RunOnPortAsync(Port, Token(), null, "-At", "-c", $"BEGIN; SELECT {_schema}.open_people('fc'); FETCH 1 FROM fc; COMMIT");
        Assert.True(psql.ExitCode == 0, psql.Stderr);
        Assert.DoesNotContain(Reversed, psql.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("ADA", psql.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Psql_fetches_a_masked_result_through_a_cursor()
    {
        // FETCH_COUNT makes psql DECLARE a cursor and FETCH from it: DECLARE over card was refused until 2026-12-07.
        var psql = await Psql.RunOnPortAsync(Port, Token(), null, "-At", "-v", "FETCH_COUNT=1",
            "-c", $"SELECT id, card, reverse(card), upper(name) FROM {_schema}.people WHERE id <= 2 ORDER BY id",
            "-c", $"SELECT upper(name) FROM {_schema}.people WHERE id = 1");
        Assert.True(psql.ExitCode == 0, psql.Stderr);
        Assert.Equal($"1|{MaskedCard}||\n2|**** **** **** 0004||\nADA\n", psql.Stdout);

        var dba = await Psql.RunOnPortAsync(Port, Token("dba"), null, "-At", "-v", "FETCH_COUNT=1",
            "-c", $"SELECT card, reverse(card) FROM {_schema}.people WHERE id = 1");
        Assert.Equal($"{Card}|{Reversed}\n", dba.Stdout);
    }

    [Fact]
    public async Task A_query_the_server_discards_after_an_extended_error_plans_nothing_after_it()
    {
        // After an extended-protocol error the server discards everything up to Sync, a Query among them. The
        // masker kept that Query queued, so each later Query's rows were planned by the text before it: the third
        // statement's reverse(card) was judged by upper(name) and came out whole until 2026-12-07.
        await using var client = await ConnectRawAsync();
        await client.SendAsync(Concat(Parse("", $"SELECT * FROM {_schema}.no_such_table"), Query("SELECT 1 AS discarded"), Sync()));
        var first = await client.UntilReadyAsync();
        Assert.Equal("EZ", string.Concat(first.Select(m => m.Type)));

        await client.SendAsync(Query($"SELECT upper(name) FROM {_schema}.people WHERE id = 1"));
        Assert.Equal([["ADA"]], DataRows(await client.UntilReadyAsync()));
        await client.SendAsync(Query($"SELECT reverse(card) FROM {_schema}.people WHERE id = 1"));
        Assert.Equal([[null]], DataRows(await client.UntilReadyAsync()));
    }

    [Fact]
    public async Task Requests_sent_after_an_extended_error_and_before_sync_are_discarded_with_it()
    {
        // The error came back after a Flush, so the queue held nothing more; the Query sent next was discarded by
        // the server (it skips to Sync) but queued by the masker, which until 2026-12-07 then planned each later
        // Query by the text before it.
        await using var client = await ConnectRawAsync();
        await client.SendAsync(Concat(Parse("", $"SELECT * FROM {_schema}.no_such_table"), Flush()));
        Assert.Equal('E', (await client.ReadAsync())!.Value.Type);
        await client.SendAsync(Concat(Query("SELECT 1 AS discarded"), Parse("", "SELECT 2"), Sync()));
        Assert.Equal("Z", string.Concat((await client.UntilReadyAsync()).Select(m => m.Type)));
        Assert.Equal([["ADA"], [null]], await NameAndReversedCardAsync(client));
    }

    [Fact]
    public async Task Syncs_the_server_swallows_during_copy_input_leave_answers_paired()
    {
        // libpq's COPY through the extended protocol sends Sync after Execute and again after CopyDone; the server
        // swallows the first. The masker kept it queued, so until 2026-12-07 each later Query was planned by the
        // text before it, and reverse(card) came out whole.
        await using var client = await ConnectRawAsync();
        await StartExtendedCopyAsync(client);
        await client.SendAsync(Concat(CopyData("x\n"u8), CopyDone(), Sync()));
        Assert.Equal("CZ", string.Concat((await client.UntilReadyAsync()).Select(m => m.Type)));
        Assert.Equal([["ADA"], [null]], await NameAndReversedCardAsync(client));

        // A Query of two COPYs, a Sync before each one's data: both swallowed.
        await client.SendAsync(Concat(Query("COPY typed FROM STDIN; COPY typed FROM STDIN"), Sync(), CopyData("y\n"u8), CopyDone(), Sync(), CopyData("z\n"u8), CopyDone()));
        Assert.Equal("GCGCZ", string.Concat((await client.UntilReadyAsync()).Select(m => m.Type)));
        Assert.Equal([["ADA"], [null]], await NameAndReversedCardAsync(client));
        await client.SendAsync(Query("SELECT count(*) FROM typed"));
        Assert.Equal([["3"]], DataRows(await client.UntilReadyAsync()));
    }

    /// <summary>upper(name), then reverse(card), of Ada, each in a Query of its own.</summary>
    private async Task<List<string?[]>> NameAndReversedCardAsync(PgRawClient client)
    {
        await client.SendAsync(Query($"SELECT upper(name) FROM {_schema}.people WHERE id = 1"));
        var rows = DataRows(await client.UntilReadyAsync());
        await client.SendAsync(Query($"SELECT reverse(card) FROM {_schema}.people WHERE id = 1"));
        rows.AddRange(DataRows(await client.UntilReadyAsync()));
        return rows;
    }

    [Fact]
    public async Task A_sync_among_copy_data_ends_the_session_with_an_error()
    {
        // Were the COPY to fail on a row, the server would leave copy mode at a message the gateway cannot know,
        // and answer the Syncs after it: pairing could not be kept, so the session ends instead.
        await using var client = await ConnectRawAsync();
        await StartExtendedCopyAsync(client);
        await client.SendAsync(Concat(CopyData("x\n"u8), Sync()));
        var error = await client.ReadAsync();
        Assert.Equal('E', error!.Value.Type);
        Assert.Contains("08P01 a Sync among COPY data", PgRawClient.ErrorText(error.Value.Body), StringComparison.Ordinal);
        Assert.Null(await client.ReadAsync());
    }

    [Fact]
    public async Task Answers_stay_paired_through_any_order_of_the_protocols_edges()
    {
        // Each step's result is exact: a harmless derived value must come back, a sensitive one masked. A request
        // left queued, or dropped, that the server treated otherwise shifts every later plan by one, which shows
        // here as a masked "ADA" or a reversed card. 40 sequences of 8 steps, seeded, each on a fresh session.
        var ada = $"SELECT upper(name) FROM {_schema}.people WHERE id = 1";
        var reversed = $"SELECT reverse(card) FROM {_schema}.people WHERE id = 1";
        var steps = new (string Name, Func<PgRawClient, Task> Run)[]
        {
            ("harmless Query", async c => Assert.Equal([["ADA"]], await QueryRowsAsync(c, Query(ada)))),
            ("sensitive Query", async c => Assert.Equal([[null]], await QueryRowsAsync(c, Query(reversed)))),
            ("sensitive extended", async c => Assert.Equal([[null]], await QueryRowsAsync(c, Concat(Parse("", reversed), Bind("", ""), Execute("", 0), Sync())))),
            ("harmless extended", async c => Assert.Equal([["ADA"]], await QueryRowsAsync(c, Concat(Parse("", ada), Bind("", ""), Execute("", 0), Sync())))),
            ("error, Query discarded", async c => Assert.Empty(await QueryRowsAsync(c, Concat(Parse("", "SELECT * FROM no_such_table"), Query(ada), Sync())))),
            ("error after Flush", async c =>
            {
                await c.SendAsync(Concat(Parse("", "SELECT * FROM no_such_table"), Flush()));
                Assert.Equal('E', (await c.ReadAsync())!.Value.Type);
                Assert.Empty(await QueryRowsAsync(c, Concat(Query(reversed), Sync())));
            }),
            ("extended COPY", async c =>
            {
                await c.SendAsync(Concat(Parse("", "COPY typed FROM STDIN"), Bind("", ""), Execute("", 0), Sync()));
                while ((await c.ReadAsync())!.Value.Type != 'G')
                {
                }

                Assert.Empty(await QueryRowsAsync(c, Concat(CopyData("x\n"u8), CopyDone(), Sync())));
            }),
            ("two COPYs, a Sync before each", async c => Assert.Empty(await QueryRowsAsync(c,
                Concat(Query("COPY typed FROM STDIN; COPY typed FROM STDIN"), Sync(), CopyData("y\n"u8), CopyDone(), Sync(), CopyDone())))),
            ("FETCH from a portal", async c =>
            {
                Assert.Empty(await QueryRowsAsync(c, Concat(Query("BEGIN"), Parse("", reversed), Bind("p", ""), Sync()), readies: 2));
                Assert.Equal([[null]], await QueryRowsAsync(c, Query("FETCH 1 FROM p")));
                Assert.Empty(await QueryRowsAsync(c, Query("COMMIT")));
            }),
            ("cursors, simple and extended FETCH", async c =>
            {
                Assert.Empty(await QueryRowsAsync(c, Query($"BEGIN; DECLARE k CURSOR FOR {ada}; DECLARE r CURSOR FOR {reversed}")));
                Assert.Equal([["ADA"]], await QueryRowsAsync(c, Concat(Parse("", "FETCH 1 FROM k"), Bind("", ""), Describe('P', ""), Execute("", 0), Sync())));
                Assert.Equal([[null]], await QueryRowsAsync(c, Query("FETCH 1 FROM r")));
                Assert.Empty(await QueryRowsAsync(c, Query("COMMIT")));
            }),
        };

        var random = new Random(20261207);
        for (var sequence = 0; sequence < 40; sequence++)
        {
            var chosen = Enumerable.Range(0, 8).Select(_ => steps[random.Next(steps.Length)]).ToArray();
            await using var client = await ConnectRawAsync();
            Assert.Empty(await QueryRowsAsync(client, Query("CREATE TEMP TABLE typed (a text)")));
            for (var i = 0; i < chosen.Length; i++)
            {
                try
                {
                    await chosen[i].Run(client);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    throw new InvalidOperationException($"sequence {sequence}, step {i} of: {string.Join(" | ", chosen.Select(c => c.Name))}", ex);
                }
            }
        }
    }

    /// <summary>Sends <paramref name="messages"/> and returns the rows of the answers through <paramref name="readies"/> ReadyForQuery.</summary>
    private static async Task<List<string?[]>> QueryRowsAsync(PgRawClient client, byte[] messages, int readies = 1)
    {
        await client.SendAsync(messages);
        return DataRows(await client.UntilReadyAsync(readies));
    }

    /// <summary>A temporary table "typed", and a COPY into it as libpq sends one through the extended protocol, up to the server's CopyInResponse.</summary>
    private static async Task StartExtendedCopyAsync(PgRawClient client)
    {
        await client.SendAsync(Query("CREATE TEMP TABLE typed (a text)"));
        await client.UntilReadyAsync();
        await client.SendAsync(Concat(Parse("", "COPY typed FROM STDIN"), Bind("", ""), Execute("", 0), Sync()));
        var types = "";
        while (!types.EndsWith('G') && await client.ReadAsync() is { } message)
        {
            types += message.Type;
        }

        Assert.Equal("12G", types);
    }

    private static List<string?[]> DataRows(List<(char Type, byte[] Body)> messages)
        => [.. messages.Where(m => m.Type == 'D').Select(m => PgRawClient.Values(m.Body))];
}
