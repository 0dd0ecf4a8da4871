using Gatehouse.Protocols.Postgres.Masking;
using Xunit;

namespace Gatehouse.Tests.Masking;

public class PgViewOriginsTests
{
    // The shape of pg_rewrite.ev_action for
    //   CREATE VIEW v AS SELECT s.card AS id, upper(s.name) AS x FROM (SELECT card, name FROM t) s
    // trimmed to the fields the reader uses; the subquery's own targetList sits deeper and must be ignored.
    private const string Tree =
        "({QUERY :commandType 1 :rtable ({RANGETBLENTRY :rtekind 1 :subquery {QUERY :commandType 1 :targetList ("
        + "{TARGETENTRY :expr {VAR :varno 1} :resno 1 :resname card :resorigtbl 16384 :resorigcol 2 :resjunk false}"
        + " {TARGETENTRY :expr {VAR :varno 1} :resno 2 :resname name :resorigtbl 16384 :resorigcol 3 :resjunk false})}"
        + " :eref {ALIAS :aliasname s :colnames (\"card\" \"name\")}}) :targetList ("
        + "{TARGETENTRY :expr {VAR :varno 1 :varattno 1} :resno 1 :resname id :ressortgroupref 0 :resorigtbl 16384 :resorigcol 2 :resjunk false}"
        + " {TARGETENTRY :expr {FUNCEXPR :funcid 871 :args ({VAR :varno 1 :varattno 2})} :resno 2 :resname x :resorigtbl 0 :resorigcol 0 :resjunk false}"
        + ") :onConflict <>})";

    [Fact]
    public void Reads_the_origin_of_each_top_level_column()
    {
        var origins = PgViewOrigins.Parse(Tree, 2);
        Assert.NotNull(origins);
        Assert.Equal(new PgColumnRef(16384, 2), origins[1]); // the alias "id" is still t.card
        Assert.Equal(new PgColumnRef(0, 0), origins[2]);     // an expression
    }

    [Theory]
    [InlineData("({QUERY :targetList ({TARGETENTRY :resno 7 :resorigtbl 1 :resorigcol 1 :resjunk false})})")] // resno out of range
    [InlineData("({QUERY :targetList ({TARGETENTRY :resno 1 :resorigtbl x :resorigcol 1 :resjunk false})})")] // not a number
    [InlineData("({QUERY :targetList ({TARGETENTRY :resno 1 :resorigtbl 1")] // truncated
    public void Anything_unexpected_yields_null(string tree)
    {
        Assert.Null(PgViewOrigins.Parse(tree, 2));
    }
}
