using System.Text;
using Gatehouse.Protocols.MySql.Masking;

namespace Gatehouse.Tests.Masking;

/// <summary><see cref="MySqlViewDefinition"/> over the canonical texts MariaDB's information_schema.VIEWS gives.</summary>
public sealed class MySqlViewDefinitionTests
{
    [Fact]
    public void Plain_columns_are_traced_and_expressions_are_not()
    {
        var columns = Parse("select `app`.`customers`.`id` AS `id`,`app`.`customers`.`card_number` AS `cc`,ucase(`app`.`customers`.`email`) AS `mail` from `app`.`customers`")!;
        Assert.Equal(new MySqlViewColumn("app", "customers", "card_number"), columns["cc"]);
        Assert.Equal(new MySqlViewColumn("app", "customers", "id"), columns["id"]);
        Assert.False(columns["mail"].IsPlainColumn);
    }

    [Fact]
    public void Two_part_names_are_traced_through_the_from_clause_and_derived_tables_are_expressions()
    {
        var overView = Parse("select `cards_v`.`cc` AS `card`,`v2`.`name` AS `name` from (`app`.`cards_v` join `other`.`people` `v2` on(`cards_v`.`id` = `v2`.`id`))")!;
        Assert.Equal(new MySqlViewColumn("app", "cards_v", "cc"), overView["card"]);
        Assert.Equal(new MySqlViewColumn("other", "people", "name"), overView["name"]);

        var derived = Parse("select `x`.`c` AS `c` from (select `app`.`customers`.`card_number` AS `c` from `app`.`customers`) `x`")!;
        Assert.False(derived["c"].IsPlainColumn);
    }

    [Theory]
    [InlineData("select `app`.`a`.`x` AS `x` from `app`.`a` union select `app`.`b`.`y` AS `y` from `app`.`b`")]
    [InlineData("select 1 from dual")] // no AS alias: not the canonical form
    [InlineData("select 'unterminated")]
    public void What_it_cannot_read_column_by_column_is_null(string definition) => Assert.Null(Parse(definition));

    private static Dictionary<string, MySqlViewColumn>? Parse(string definition) => MySqlViewDefinition.Parse(Encoding.UTF8.GetBytes(definition));
}
