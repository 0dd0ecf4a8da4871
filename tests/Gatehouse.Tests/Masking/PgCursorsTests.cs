using System.Text;
using Gatehouse.Protocols.Postgres.Masking;

namespace Gatehouse.Tests.Masking;

/// <summary>How <see cref="PgCursors"/> reads the cursor statements of a masked session, as the server resolves their names.</summary>
public sealed class PgCursorsTests
{
    [Theory]
    [InlineData("FETCH 1 FROM p", "p")]
    [InlineData("fetch forward all in \"MyCur\"", "MyCur")]
    [InlineData("FETCH ABSOLUTE -2 FROM Cur;", "cur")]
    [InlineData("/* fetch */ FETCH c", "c")]
    [InlineData("SELECT 'fetch'; FETCH NEXT c; FETCH PRIOR IN d", "c,d")]
    [InlineData("FETCH ALL", "")] // no name: a cursor no one has
    [InlineData("FETCH 1 FROM U&\"\\0063\"", "c")]
    public void A_fetch_names_the_cursor_it_reads(string sql, string names)
        => Assert.Equal(names.Split(','), PgCursors.FetchedNames(Encoding.UTF8.GetBytes(sql)));

    [Theory]
    [InlineData("SELECT fetch_count FROM settings")]
    [InlineData("SELECT id FROM t ORDER BY id FETCH FIRST 1 ROWS ONLY")]
    [InlineData("SELECT 'FETCH c'")]
    [InlineData("SELECT (SELECT 1 FETCH FIRST 1 ROW ONLY); SELECT 2")]
    public void Other_statements_fetch_nothing(string sql)
        => Assert.Null(PgCursors.FetchedNames(Encoding.UTF8.GetBytes(sql)));

    [Fact]
    public void A_declared_cursor_is_known_until_closed_and_only_a_held_one_outlives_its_transaction()
    {
        var cursors = new PgCursors();
        const string held = "DECLARE \"Held\" NO SCROLL CURSOR WITH HOLD FOR SELECT 1";
        Assert.Equal("c", cursors.Completed("DECLARE CURSOR\0"u8, "DECLARE C CURSOR FOR SELECT name FROM people"u8));
        Assert.Equal("Held", cursors.Completed("DECLARE CURSOR\0"u8, Encoding.UTF8.GetBytes(held)));
        Assert.Equal("DECLARE C CURSOR FOR SELECT name FROM people", Encoding.UTF8.GetString(cursors.TextOf("c")!));

        cursors.TransactionEnded();
        Assert.Null(cursors.TextOf("c"));
        Assert.Equal(held, Encoding.UTF8.GetString(cursors.TextOf("Held")!));

        Assert.Equal("Held", cursors.Completed("CLOSE CURSOR\0"u8, "CLOSE \"Held\""u8));
        Assert.Null(cursors.TextOf("Held"));

        cursors.Completed("DECLARE CURSOR\0"u8, "DECLARE d CURSOR WITHOUT HOLD FOR SELECT 1"u8);
        Assert.Null(cursors.Completed("CLOSE CURSOR ALL\0"u8, "CLOSE ALL"u8)); // every name's plans are stale
        Assert.Null(cursors.TextOf("d"));
    }

    [Theory]
    [InlineData("DECLARE c CURSOR FOR SELECT card FROM people", " SELECT card FROM people")]
    [InlineData("declare c binary insensitive no scroll cursor with hold for values (1)", " values (1)")]
    [InlineData("SELECT 1", null)]
    [InlineData("DECLARE c CURSOR", null)]
    public void A_declare_has_its_query_after_the_for_that_ends_its_options(string sql, string? query)
    {
        var bytes = Encoding.UTF8.GetBytes(sql);
        var start = PgCursors.DeclaredQuery(bytes);
        Assert.Equal(query, start < 0 ? null : sql[start..]);
    }
}
