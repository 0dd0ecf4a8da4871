using System.Text;
using Gatehouse.Tests.MySql;
using Gatehouse.Tests.Postgres;

namespace Gatehouse.Tests.Policy;

/// <summary>
/// The statement guard on the MySQL wire against the real MariaDB, with the `mariadb` client and the raw
/// protocol client: a refused statement gets ERR 1142 naming the rule, never runs, and the session goes on.
/// </summary>
[Collection("gateway")]
public sealed class MySqlPolicyGatewayTests(GatewayFixture fixture) : IAsyncLifetime
{
    private readonly string _table = "guarded_" + Guid.NewGuid().ToString("N")[..8];

    public async Task InitializeAsync() => await fixture.MariaDb.QueryAsync(
        $"CREATE TABLE {_table} (id int primary key, v varchar(20)); INSERT INTO {_table} VALUES (1, 'one'), (2, 'two');");

    public async Task DisposeAsync() => await fixture.MariaDb.QueryAsync($"DROP TABLE IF EXISTS {_table};");

    private async Task<string> RowsDirectAsync() => (await fixture.MariaDb.QueryAsync($"SELECT count(*) FROM {_table}")).Trim();

    [Theory]
    [InlineData("DROP TABLE {0}")]
    [InlineData("drop/**/table `{0}`")]
    [InlineData("/*!50000 DROP TABLE {0} */")]
    [InlineData("SELECT 1; DROP TABLE {0}")]
    [InlineData("TRUNCATE {0}")]
    [InlineData("DELETE FROM {0}")]
    [InlineData("UPDATE {0} SET v = 'x'")]
    [InlineData("PREPARE s FROM 'DROP TABLE {0}'")]
    [InlineData("SELECT * FROM {0} INTO OUTFILE '/tmp/gh-out'")]
    [InlineData("ALTER TABLE {0} DROP COLUMN v")]
    public async Task Refused_statements_do_not_run_and_the_session_goes_on(string template)
    {
        await using var client = await MySqlRawClient.ConnectAsync(fixture.MySqlPort);
        await client.LoginAsync(fixture.Token());
        var refused = await client.CommandAsync(MySqlRawClient.Command(0x03, string.Format(System.Globalization.CultureInfo.InvariantCulture, template, _table)));
        var text = MySqlRawClient.ErrorText(refused.Single());
        Assert.StartsWith("1142 (42000): permission denied by gateway policy: rule \"default:", text, StringComparison.Ordinal);

        var count = await client.CommandAsync(MySqlRawClient.Command(0x03, $"SELECT count(*) FROM {_table}"));
        Assert.Equal("2", Encoding.ASCII.GetString(count[2], 1, count[2][0]));
        Assert.Equal("2", await RowsDirectAsync());
    }

    [Fact]
    public async Task Prepared_statements_are_judged_at_prepare()
    {
        await using var client = await MySqlRawClient.ConnectAsync(fixture.MySqlPort);
        await client.LoginAsync(fixture.Token());
        await client.SendAsync(MySqlRawClient.Packet(0, MySqlRawClient.Command(0x16, $"DELETE FROM {_table}")));
        var refused = (await client.ReadAsync())!.Value;
        Assert.Equal((byte)1, refused.Sequence);
        Assert.StartsWith("1142 (42000)", MySqlRawClient.ErrorText(refused.Payload), StringComparison.Ordinal);
        var ping = await client.CommandAsync([0x0E]);
        Assert.Equal(0x00, ping.Single()[0]);
        Assert.Equal("2", await RowsDirectAsync());
    }

    [Fact]
    public async Task The_mariadb_client_sees_the_rule_and_strings_mentioning_drop_pass()
    {
        var refused = await MariaDbCli.RunAsync(fixture, fixture.Token(), $"drop table {_table};");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("ERROR 1142 (42000)", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("permission denied by gateway policy", refused.Stderr, StringComparison.Ordinal);

        var allowed = await MariaDbCli.RunAsync(fixture, fixture.Token(), $"select 'drop table {_table}'; delete from {_table} where id = 2; select count(*) from {_table};");
        Assert.True(allowed.ExitCode == 0, allowed.Stderr);
        Assert.Equal($"drop table {_table}\n1", allowed.Stdout.Trim());
        Assert.Equal("1", await RowsDirectAsync());
    }
}
