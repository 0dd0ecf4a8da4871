using System.Diagnostics;
using Gatehouse.Host.Commands;
using Gatehouse.Tests.Postgres;
using Npgsql;

namespace Gatehouse.Tests.Recording;

/// <summary>
/// A gateway whose recording directory is a 256 KiB tmpfs: when the disk fills, the live session ends with a
/// protocol error (SQLSTATE 58030) instead of relaying unrecorded statements, new sessions are refused with
/// one, and /readyz says why. Needs root for the mount, as CI has.
/// </summary>
[Collection("gateway")]
public sealed class RecordingFailClosedTests(GatewayFixture fixture) : IAsyncLifetime
{
    private readonly string _mount = Path.Combine(Path.GetTempPath(), "gh-full-" + Guid.NewGuid().ToString("N")[..8]);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_mount);
        var mount = await RunAsync("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", _mount);
        Assert.True(mount == 0, $"mount -t tmpfs failed ({mount}): this test needs root, as CI runs");
    }

    public async Task DisposeAsync()
    {
        await RunAsync("umount", "-l", _mount);
        Directory.Delete(_mount, recursive: true);
    }

    [Fact]
    public async Task A_full_disk_ends_the_session_refuses_new_ones_and_fails_readiness()
    {
        var (gateway, settings) = await fixture.StartGatewayAsync(edit: yaml => System.Text.RegularExpressions.Regex.Replace(yaml,
            @"(?m)^  directory: .*recordings$", $"  directory: {_mount}/recordings\n  segment_max_bytes: 65536"));
        await using var owner = gateway;
        var connectionString = fixture.ConnectionString(TokenCommand.Mint(settings.Identity, "alice", ["analysts"], TimeSpan.FromMinutes(5)), port: gateway.BoundPorts["demo"]);

        var error = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            for (var i = 0; i < 100; i++)
            {
                await using var command = new NpgsqlCommand("SELECT repeat('x', 20000)", connection);
                await command.ExecuteScalarAsync();
            }
        });
        Assert.Contains("58030", error.ToString(), StringComparison.Ordinal);

        var refused = await Assert.ThrowsAsync<PostgresException>(async () =>
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync();
        });
        Assert.Equal("58030", refused.SqlState);
        Assert.Contains("cannot record sessions", refused.MessageText, StringComparison.Ordinal);

        using var http = new HttpClient();
        var ready = await http.GetAsync(new Uri(gateway.HttpAddress!, "readyz"));
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("recording failed", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Contains("\ngatehouse_recording_up 0\n", await http.GetStringAsync(new Uri(gateway.HttpAddress!, "metrics")), StringComparison.Ordinal);
    }

    private static async Task<int> RunAsync(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start)!;
        await process.WaitForExitAsync();
        return process.ExitCode;
    }
}
