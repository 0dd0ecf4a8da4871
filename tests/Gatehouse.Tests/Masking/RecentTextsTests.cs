using System.Text;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Protocols.Postgres.Masking;
using Gatehouse.Protocols.Sql;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Transport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gatehouse.Tests.Masking;

/// <summary>
/// Strict mode's verdicts are remembered per statement text (<see cref="RecentTexts{TVerdict}"/>) and must be
/// read again whenever what they depend on changes: the text, its kind, or the catalog's names.
/// </summary>
public sealed class RecentTextsTests
{
    private static readonly SensitiveViewColumns Views = new();

    [Fact]
    public void A_verdict_is_found_only_for_the_same_text_tag_and_name_sets()
    {
        var recent = new RecentTexts<string>();
        var functions = new HashSet<string>();
        recent.Remember("SELECT 1"u8, 1, functions, Views, "one");

        Assert.True(recent.TryGet("SELECT 1"u8, 1, functions, Views, out var verdict));
        Assert.Equal("one", verdict);
        Assert.False(recent.TryGet("SELECT 2"u8, 1, functions, Views, out _));
        Assert.False(recent.TryGet("SELECT 1 "u8, 1, functions, Views, out _)); // a prefix is another text
        Assert.False(recent.TryGet("SELECT 1"u8, 2, functions, Views, out _));
        Assert.False(recent.TryGet("SELECT 1"u8, 1, new HashSet<string>(), Views, out _)); // equal contents, but a reload's new set
        Assert.False(recent.TryGet("SELECT 1"u8, 1, functions, new SensitiveViewColumns(), out _));
    }

    [Fact]
    public void A_long_text_is_not_kept_and_the_oldest_of_many_is_forgotten()
    {
        var recent = new RecentTexts<int>();
        var functions = new HashSet<string>();
        var huge = Encoding.ASCII.GetBytes("SELECT '" + new string('x', RecentTexts<int>.MaxText) + "'");
        recent.Remember(huge, 0, functions, Views, 7);
        Assert.False(recent.TryGet(huge, 0, functions, Views, out _));

        for (var i = 0; i < 20; i++)
        {
            recent.Remember(Encoding.ASCII.GetBytes($"SELECT {i}"), 0, functions, Views, i);
        }

        Assert.False(recent.TryGet("SELECT 0"u8, 0, functions, Views, out _));
        Assert.True(recent.TryGet("SELECT 19"u8, 0, functions, Views, out var last));
        Assert.Equal(19, last);
    }

    [Fact]
    public void A_derived_column_is_judged_again_once_the_catalogs_function_names_change()
    {
        var session = new MaskingPolicy([new() { Name = "cards", Columns = [ColumnPattern.TryParse("card", out var p) ? p : throw new InvalidOperationException()], Action = new MaskAction("cards", MaskStrategy.Partial) }],
            ContentKinds.None, new Dictionary<ContentKinds, MaskAction>(), DetectorScope.Derived, strict: true, tokenKey: []).ForSession([], "db")!;
        using var dialer = new UpstreamDialer();
        var options = new PgUpstreamOptions { Name = "test", Host = "127.0.0.1", Database = "db", User = "test", Password = static () => "" };
        var catalog = new PgCatalog(new PgUpstreamConnector(dialer), options, "db", TimeProvider.System, NullLogger.Instance);
        var planner = new PgColumnPlanner(session, catalog);
        PgField[] derived = [new("g", 0, 0, 25, 0)];
        var sql = "SELECT g(1)"u8;

        catalog.SeedNames(new HashSet<string>(), []);
        Assert.Null(planner.Plan(derived, sql).Columns[0].Action); // a built-in: reads no table
        Assert.Null(planner.Plan(derived, sql).Columns[0].Action); // remembered

        catalog.SeedNames(new HashSet<string> { "g" }, []); // DDL made g a function of the database's own, which may read card
        Assert.Same(session.StrictAction, planner.Plan(derived, sql).Columns[0].Action);
    }
}
