using Gatehouse.Host.Commands;
using Gatehouse.Tests.Postgres;
using Npgsql;

namespace Gatehouse.Tests.Recording;

/// <summary><c>gatehouse sessions</c> and <c>gatehouse replay</c> over the live recording of the gateway the tests share.</summary>
[Collection("gateway")]
public sealed class ReplayCommandTests(GatewayFixture fixture)
{
    [Fact]
    public async Task A_session_is_found_by_its_text_and_replayed_as_a_person_reads_it()
    {
        var marker = "replay" + Guid.NewGuid().ToString("N")[..8];
        await using (var connection = await fixture.OpenAsync())
        {
            await using var command = new NpgsqlCommand($"SELECT name AS {marker} FROM customers WHERE id = $1", connection);
            command.Parameters.AddWithValue(1);
            Assert.Equal("Ada Lovelace", await command.ExecuteScalarAsync());
        }

        var directory = new DirectoryInfo(fixture.Settings.Recording!.Directory);
        var keyFile = new FileInfo(Path.Combine(Path.GetDirectoryName(directory.FullName)!, "recording.key"));
        string? id = null;
        for (var i = 0; i < 50 && id is null; i++)
        {
            var list = new StringWriter();
            Assert.Equal(0, ReplayCommand.Sessions(directory, keyFile, new ReplayCommand.SessionFilter("alice", "demo-db", null, null, marker), list, TextWriter.Null));
            id = list.ToString().Split('\n').Skip(1).FirstOrDefault(l => l.EndsWith("client_closed", StringComparison.Ordinal))?.Split(' ')[0];
            await Task.Delay(100);
        }

        Assert.NotNull(id);
        var output = new StringWriter();
        Assert.Equal(0, ReplayCommand.Replay(directory, keyFile, id[..12], output, TextWriter.Null));
        var text = output.ToString();
        Assert.Contains("user      alice", text, StringComparison.Ordinal);
        Assert.Contains($"> parse: SELECT name AS {marker} FROM customers WHERE id = $1", text, StringComparison.Ordinal);
        Assert.Contains("$1 = <4 bytes binary>", text, StringComparison.Ordinal);
        Assert.Contains($"< columns: {marker}", text, StringComparison.Ordinal);
        Assert.Contains("< row: Ada Lovelace", text, StringComparison.Ordinal);
        Assert.Contains("session ended: client_closed", text, StringComparison.Ordinal);
        Assert.DoesNotContain("WARNING", text, StringComparison.Ordinal);
    }
}
