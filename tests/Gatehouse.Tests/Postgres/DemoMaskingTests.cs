using Npgsql;

namespace Gatehouse.Tests.Postgres;

/// <summary>The demo's own masking rules: contractors see cards and e-mail masked, analysts are exempt.</summary>
[Collection("gateway")]
public sealed class DemoMaskingTests(GatewayFixture fixture)
{
    private const string Query = "select name, email, card_number from customers order by id";

    [Fact]
    public async Task A_contractor_sees_card_numbers_partially_and_email_redacted()
    {
        var rows = await ReadAsync(fixture.Token("carol", ["contractors"]), "carol");

        Assert.Equal(
        [
            ("Ada Lovelace", "[redacted]", "**** **** **** 1111"),
            ("Alan Turing", "[redacted]", "**** **** **** 0004"),
            ("Grace Hopper", "[redacted]", "**** **** ***0 009"),
        ], rows);
    }

    [Fact]
    public async Task An_analyst_is_exempt_and_sees_the_stored_values()
    {
        var rows = await ReadAsync(fixture.Token(), "alice");

        Assert.Equal(("Ada Lovelace", "ada@example.com", "4111 1111 1111 1111"), rows[0]);
        Assert.Equal(3, rows.Count);
    }

    private async Task<List<(string Name, string Email, string Card)>> ReadAsync(string token, string user)
    {
        await using var connection = new NpgsqlConnection(fixture.ConnectionString(token, user: user));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(Query, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string, string)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetString(2)));
        }

        return rows;
    }
}
