using System.Diagnostics;
using Gatehouse.Host;
using Gatehouse.Host.Commands;
using Gatehouse.Host.Configuration;
using Gatehouse.Host.Demo;
using Gatehouse.Tests.MySql;
using Gatehouse.Tests.Postgres;
using Npgsql;

namespace Gatehouse.Tests.Configuration;

/// <summary>
/// A running gateway takes a changed configuration file without a restart: masking, roles and policy apply
/// to the sessions that start after the reload, live sessions keep what they started with (but end when the
/// reload withdraws their access), an invalid file is
/// refused whole, and what a running gateway cannot change (ports, identity, an upstream's server) is named and
/// waits for a restart. Against the real PostgreSQL of the demo's data (customers.card_number is masked for
/// contractors).
/// </summary>
[Collection("gateway")]
public sealed class ConfigReloadTests(GatewayFixture fixture)
{
    private const string Card = "4111 1111 1111 1111";
    private const string MaskedCard = "**** **** **** 1111";

    [Fact]
    public async Task A_masking_change_applies_to_sessions_that_start_after_the_reload_and_not_to_live_ones()
    {
        var (host, settings) = await fixture.StartGatewayAsync();
        await using var owner = host;
        await using var before = await ContractorAsync(host, settings);
        Assert.Equal(MaskedCard, await FirstCardAsync(before));

        ExemptContractors(settings);
        var outcome = host.Reload(GatehouseSettings.FromFile(settings.FilePath!));

        Assert.Empty(outcome.NeedsRestart);
        await using (var after = await ContractorAsync(host, settings))
        {
            Assert.Equal(Card, await FirstCardAsync(after));
        }

        Assert.Equal(MaskedCard, await FirstCardAsync(before)); // the live session keeps the rules it started with
    }

    [Fact]
    public async Task A_reload_reaches_the_MySQL_listener_too()
    {
        var (host, settings) = await fixture.StartGatewayAsync(withMySql: true);
        await using var owner = host;
        var token = Token(settings, "carol", "contractors");
        const string Sql = "select card_number from customers order by id limit 1";
        var before = await MariaDbCli.RunAsync(fixture, token, Sql, port: host.BoundPorts["demo-mysql"]);
        Assert.Equal(MaskedCard, before.Stdout.Trim());

        ExemptContractors(settings);
        Assert.Empty(host.Reload(GatehouseSettings.FromFile(settings.FilePath!)).NeedsRestart);

        var after = await MariaDbCli.RunAsync(fixture, token, Sql, port: host.BoundPorts["demo-mysql"]);
        Assert.Equal(Card, after.Stdout.Trim());
    }

    [Fact]
    public async Task A_masking_rule_added_by_a_reload_masks_new_sessions()
    {
        var (host, settings) = await fixture.StartGatewayAsync();
        await using var owner = host;
        await using (var session = await ContractorAsync(host, settings))
        {
            Assert.Equal("Ada Lovelace", await ScalarAsync(session, "SELECT name FROM customers ORDER BY id LIMIT 1"));
        }

        Edit(settings, "    - name: emails\n", "    - name: names\n      columns: [name]\n      strategy: nullify\n    - name: emails\n");
        host.Reload(GatehouseSettings.FromFile(settings.FilePath!));

        await using var after = await ContractorAsync(host, settings);
        Assert.Null(await ScalarAsync(after, "SELECT name AS x FROM customers ORDER BY id LIMIT 1"));
    }

    [Fact]
    public async Task A_role_withdrawn_by_a_reload_refuses_new_logins_and_ends_live_sessions()
    {
        var (host, settings) = await fixture.StartGatewayAsync();
        await using var owner = host;
        await using var live = await ContractorAsync(host, settings);
        await using var analyst = new NpgsqlConnection(fixture.ConnectionString(Token(settings, "alice", "analysts"), port: host.BoundPorts["demo"]));
        await analyst.OpenAsync();

        Edit(settings, "groups: [contractors]", "groups: [former-contractors]");
        var outcome = host.Reload(GatehouseSettings.FromFile(settings.FilePath!));

        Assert.Equal(1, outcome.SessionsEnded);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => ContractorAsync(host, settings));
        Assert.Equal("28000", refused.SqlState);
        Assert.Contains("has no role that grants upstream", refused.MessageText, StringComparison.Ordinal);
        var ended = await Assert.ThrowsAsync<PostgresException>(() => FirstCardAsync(live));
        Assert.Equal("28000", ended.SqlState);
        Assert.Contains("withdrew the access of \"carol\" to upstream \"demo-db\"", ended.MessageText, StringComparison.Ordinal);
        Assert.Equal(Card, await FirstCardAsync(analyst)); // a session whose access stands runs on
    }

    [Fact]
    public async Task A_role_withdrawn_by_a_reload_ends_a_live_MySQL_session_mid_statement()
    {
        var (host, settings) = await fixture.StartGatewayAsync(withMySql: true);
        await using var owner = host;
        var running = MariaDbCli.RunAsync(fixture, Token(settings, "carol", "contractors"),
            "select 1; select sleep(3); select card_number from customers order by id limit 1", port: host.BoundPorts["demo-mysql"]);
        await Task.Delay(1000); // logged in and waiting on sleep(3)

        Edit(settings, "groups: [contractors]", "groups: [former-contractors]");
        Assert.Equal(1, host.Reload(GatehouseSettings.FromFile(settings.FilePath!)).SessionsEnded);

        var result = await running;
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("withdrew the access of \"carol\" to upstream \"demo-mariadb\"", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain(MaskedCard, result.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_listener_certificate_rotated_by_a_reload_is_offered_to_new_connections()
    {
        var (host, settings) = await fixture.StartGatewayAsync();
        await using var owner = host;
        var before = await OfferedCertificateAsync(host.BoundPorts["demo"]);
        var directory = Path.GetDirectoryName(settings.FilePath!)!;
        var certificate = Path.Combine(directory, "rotated.crt");
        var key = Path.Combine(directory, "rotated.key");
        SelfSignedCertificate.WritePem(certificate, key, "Gatehouse rotated");
        var yaml = File.ReadAllText(settings.FilePath!);
        yaml = System.Text.RegularExpressions.Regex.Replace(yaml, @"(?m)^(      certificate: ).*$", "${1}" + certificate, System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1));
        yaml = System.Text.RegularExpressions.Regex.Replace(yaml, @"(?m)^(      key: ).*$", "${1}" + key, System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1));
        File.WriteAllText(settings.FilePath!, yaml);

        Assert.Empty(host.Reload(GatehouseSettings.FromFile(settings.FilePath!)).NeedsRestart);

        var after = await OfferedCertificateAsync(host.BoundPorts["demo"]);
        using var rotated = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(certificate, key);
        Assert.NotEqual(before, after);
        Assert.Equal(rotated.Thumbprint, after);
        await using var session = await ContractorAsync(host, settings); // and logins go on over it
        Assert.Equal(MaskedCard, await FirstCardAsync(session));
    }

    /// <summary>The thumbprint of the certificate the listener offers after PostgreSQL's SSLRequest.</summary>
    private static async Task<string> OfferedCertificateAsync(int port)
    {
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(System.Net.IPAddress.Loopback, port);
        var stream = client.GetStream();
        await stream.WriteAsync(new byte[] { 0, 0, 0, 8, 0x04, 0xD2, 0x16, 0x2F }); // SSLRequest
        var answer = new byte[1];
        Assert.Equal(1, await stream.ReadAsync(answer));
        Assert.Equal((byte)'S', answer[0]);
        string? thumbprint = null;
        await using var tls = new System.Net.Security.SslStream(stream, leaveInnerStreamOpen: false, (_, offered, _, _) =>
        {
            thumbprint = offered is null ? null : new System.Security.Cryptography.X509Certificates.X509Certificate2(offered).Thumbprint;
            return true;
        });
        await tls.AuthenticateAsClientAsync("localhost");
        return thumbprint!;
    }

    [Fact]
    public async Task A_policy_rule_added_by_a_reload_is_enforced_in_new_sessions()
    {
        var (host, settings) = await fixture.StartGatewayAsync();
        await using var owner = host;
        await using var live = await ContractorAsync(host, settings);
        Edit(settings, "  rules:\n    - name: dba-maintenance", "  rules:\n    - name: no-contractor-writes\n      decision: deny\n      roles: [contractor]\n      kinds: [write]\n      reason: writes are closed for today\n    - name: dba-maintenance");
        host.Reload(GatehouseSettings.FromFile(settings.FilePath!));

        await using var session = await ContractorAsync(host, settings);
        var denied = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(session, "UPDATE customers SET name = name WHERE id = 1"));
        Assert.Equal("42501", denied.SqlState);
        Assert.Contains("no-contractor-writes", denied.MessageText, StringComparison.Ordinal);
        Assert.Equal(MaskedCard, await FirstCardAsync(session)); // the session stays usable, and reads are not the rule's
        await ScalarAsync(live, "UPDATE customers SET name = name WHERE id = 1"); // a live session keeps the policy it started with
    }

    [Fact]
    public async Task An_invalid_file_is_refused_whole_and_the_running_configuration_stays()
    {
        var (host, settings) = await fixture.StartGatewayAsync();
        await using var owner = host;
        using var reloader = host.WatchConfig(settings.FilePath!, TimeSpan.FromHours(1));

        // Two edits in one file: a valid one (contractors exempt) and an invalid strategy. Neither may apply.
        ExemptContractors(settings);
        Edit(settings, "strategy: partial\n", "strategy: scramble\n");

        Assert.Null(reloader.Reload());
        Assert.Contains(fixture.Logs, line => line.Contains("Configuration reload from", StringComparison.Ordinal) && line.Contains("refused", StringComparison.Ordinal)
            && line.Contains("strategy: must be one of", StringComparison.Ordinal));
        await using (var session = await ContractorAsync(host, settings))
        {
            Assert.Equal(MaskedCard, await FirstCardAsync(session));
        }

        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(new Uri(host.HttpAddress!, "metrics"));
        Assert.Contains("gatehouse_config_reloads_total{result=\"rejected\"} 1", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task What_a_running_gateway_cannot_change_is_named_and_waits_for_a_restart()
    {
        var (host, settings) = await fixture.StartGatewayAsync();
        await using var owner = host;
        var token = Token(settings, "carol", "contractors");
        Edit(settings, "audience: ", "audience: another-");
        Edit(settings, $"port: {fixture.Postgres.Port}\n", "port: 1\n");
        ExemptContractors(settings);

        var outcome = host.Reload(GatehouseSettings.FromFile(settings.FilePath!));

        Assert.Contains("identity", outcome.NeedsRestart);
        Assert.Contains(outcome.NeedsRestart, change => change.StartsWith("upstream demo-db:", StringComparison.Ordinal));
        // The rest applied: the old audience's token still logs in, the session reaches the database on its
        // old port, and the masking change is in force.
        await using var session = new NpgsqlConnection(fixture.ConnectionString(token, port: host.BoundPorts["demo"], user: "carol"));
        await session.OpenAsync();
        Assert.Equal(Card, await FirstCardAsync(session));
    }

    [Fact]
    public void Every_change_a_running_gateway_cannot_take_is_named_and_an_upstreams_server_is_kept()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gatehouse-diff-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var demo = DemoGateway.Write(directory, fixture.Postgres, 0, 0);
            var started = GatehouseSettings.FromFile(demo.ConfigPath);
            var yaml = File.ReadAllText(demo.ConfigPath)
                .Replace("    bind: 127.0.0.1:0\n    upstream: demo-db", "    bind: 127.0.0.1:1\n    upstream: demo-db", StringComparison.Ordinal)
                .Replace("http:\n  bind: 127.0.0.1:0", "http:\n  bind: 127.0.0.1:2", StringComparison.Ordinal)
                .Replace("recording:\n", "recording:\n  queue: 100\n", StringComparison.Ordinal)
                .Replace("    server_name: localhost", "    server_name: db.internal", StringComparison.Ordinal)
                .Replace("listeners:\n", "listeners:\n  - name: extra\n    protocol: postgres\n    bind: 127.0.0.1:3\n    upstream: demo-db\n", StringComparison.Ordinal)
                + "\nlimits:\n  max_connections: 7\n";
            File.WriteAllText(demo.ConfigPath, yaml);
            var next = GatehouseSettings.FromFile(demo.ConfigPath);

            var changes = ConfigDiff.NeedsRestart(started, next);

            Assert.Equal(
                ["recording", "http", "limits", "listener extra is new", "listener demo: its bind address, protocol or upstream"],
                changes);
            var kept = ConfigDiff.Applicable(started.Listeners.Single(), next.Listeners.Single(l => l.Name == "demo"))!;
            Assert.Equal("localhost", kept.Postgres!.Upstream.ServerName);

            File.WriteAllText(demo.ConfigPath, File.ReadAllText(demo.ConfigPath).Replace("  - name: extra\n    protocol: postgres\n    bind: 127.0.0.1:3\n    upstream: demo-db\n", "", StringComparison.Ordinal)
                .Replace("    bind: 127.0.0.1:1\n    upstream: demo-db", "    bind: 127.0.0.1:0\n    upstream: demo-db", StringComparison.Ordinal));
            Assert.Contains("upstream demo-db: its host, port, user, TLS or login method", ConfigDiff.NeedsRestart(started, GatehouseSettings.FromFile(demo.ConfigPath)));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Sessions_that_start_while_reloads_come_and_go_each_see_one_whole_configuration()
    {
        var (host, settings) = await fixture.StartGatewayAsync();
        await using var owner = host;
        var masked = GatehouseSettings.FromFile(settings.FilePath!);
        ExemptContractors(settings);
        var exempt = GatehouseSettings.FromFile(settings.FilePath!);

        using var stop = new CancellationTokenSource();
        var reloads = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                host.Reload(i % 2 == 0 ? exempt : masked);
                await Task.Delay(1);
            }
        });
        var seen = await Task.WhenAll(Enumerable.Range(0, 24).Select(async i =>
        {
            await Task.Delay(i * 10); // logins spread over the reloads
            await using var session = await ContractorAsync(host, settings);
            var first = await FirstCardAsync(session);
            await Task.Delay(20);
            return (first, second: await FirstCardAsync(session));
        }));
        await stop.CancelAsync();
        await reloads;

        Assert.All(seen, s =>
        {
            Assert.Contains(s.first, new[] { Card, MaskedCard });
            Assert.Equal(s.first, s.second); // a session's rules do not change under it
        });
    }

    [Fact]
    public async Task A_file_caught_half_written_is_not_applied()
    {
        var (host, settings) = await fixture.StartGatewayAsync();
        await using var owner = host;
        using var reloader = host.WatchConfig(settings.FilePath!, TimeSpan.FromHours(1)); // looks only when asked
        var whole = File.ReadAllText(settings.FilePath!);

        // Cut before the masking section: still valid YAML, and without masking at all.
        File.WriteAllText(settings.FilePath!, whole[..whole.IndexOf("\n# Masking", StringComparison.Ordinal)]);
        Assert.Null(reloader.ReloadIfChanged());
        File.WriteAllText(settings.FilePath!, whole.Replace("exempt_roles: [analyst, dba]", "exempt_roles: [analyst, dba, contractor]", StringComparison.Ordinal));
        Assert.Null(reloader.ReloadIfChanged()); // other contents than at the last look: not settled yet
        await using (var session = await ContractorAsync(host, settings))
        {
            Assert.Equal(MaskedCard, await FirstCardAsync(session));
        }

        Assert.NotNull(reloader.ReloadIfChanged()); // the same contents twice: applied
        await using var after = await ContractorAsync(host, settings);
        Assert.Equal(Card, await FirstCardAsync(after));
    }

    [Fact]
    public async Task A_reloader_stopped_with_its_gateway_reloads_nothing_more()
    {
        var (host, settings) = await fixture.StartGatewayAsync();
        await using var owner = host;
        var reloader = host.WatchConfig(settings.FilePath!, TimeSpan.FromHours(1));
        reloader.Dispose();
        ExemptContractors(settings);

        Assert.Null(reloader.Reload());
        Assert.Null(reloader.ReloadIfChanged());
        Assert.Null(reloader.ReloadIfChanged());
        await using var session = await ContractorAsync(host, settings);
        Assert.Equal(MaskedCard, await FirstCardAsync(session));
    }

    [Fact]
    public async Task A_changed_file_is_reloaded_without_a_signal()
    {
        var (host, settings) = await fixture.StartGatewayAsync();
        await using var owner = host;
        using var reloader = host.WatchConfig(settings.FilePath!, TimeSpan.FromMilliseconds(100));
        ExemptContractors(settings);

        var deadline = DateTime.UtcNow.AddSeconds(20);
        string? card;
        do
        {
            await Task.Delay(100);
            await using var session = await ContractorAsync(host, settings);
            card = await FirstCardAsync(session);
        }
        while (card != Card && DateTime.UtcNow < deadline);

        Assert.Equal(Card, card);
    }

    [Fact]
    public async Task Gatehouse_run_reloads_its_file_on_SIGHUP_and_keeps_serving()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gatehouse-reload-" + Guid.NewGuid().ToString("N")[..8]);
        var demo = DemoGateway.Write(directory, fixture.Postgres, 0, 0);
        var settings = GatehouseSettings.FromFile(demo.ConfigPath);
        // env --default-signal: a test run under nohup passes SIGHUP down as ignored, and .NET keeps a signal
        // ignored at start ignored, as a daemon started with nohup should.
        var start = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "--default-signal=HUP", "dotnet", typeof(GatewayHost).Assembly.Location, "run", "--config", demo.ConfigPath })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = new System.Collections.Concurrent.ConcurrentQueue<string>();
        process.OutputDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
        process.ErrorDataReceived += (_, e) => output.Enqueue(e.Data ?? "");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            string Output() => $"gatehouse run {(process.HasExited ? $"exited with {process.ExitCode}" : "is running")}; it wrote:\n" + string.Join("\n", output);
            var listening = System.Text.RegularExpressions.Regex.Match(await UntilAsync(() => Task.FromResult(
                output.FirstOrDefault(line => line.Contains("Listener demo is listening on port", StringComparison.Ordinal))), Output), "port ([0-9]+)");
            var port = int.Parse(listening.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            var connectionString = fixture.ConnectionString(Token(settings, "carol", "contractors"), port: port, user: "carol");
            Assert.Equal(MaskedCard, await UntilAsync(async () =>
            {
                Assert.False(process.HasExited, Output());
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                return await FirstCardAsync(connection);
            }, Output));

            // SIGHUP with the file unchanged: only the signal can cause this reload, and SIGHUP's default
            // action (ending the process) must not happen.
            using (var kill = Process.Start("kill", ["-HUP", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
                Assert.Equal(0, kill.ExitCode);
            }

            await UntilAsync(() => Task.FromResult(output.Any(line => line.Contains("Configuration reloaded from", StringComparison.Ordinal)) ? "yes" : null), Output);
            Assert.False(process.HasExited, Output());
            await using var after = new NpgsqlConnection(connectionString);
            await after.OpenAsync();
            Assert.Equal(MaskedCard, await FirstCardAsync(after));
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string Token(GatehouseSettings settings, string subject, string group)
        => TokenCommand.Mint(settings.Identity, subject, [group], TimeSpan.FromMinutes(5));

    private async Task<NpgsqlConnection> ContractorAsync(GatewayHost host, GatehouseSettings settings)
    {
        var connection = new NpgsqlConnection(fixture.ConnectionString(Token(settings, "carol", "contractors"), port: host.BoundPorts["demo"], user: "carol"));
        try
        {
            await connection.OpenAsync();
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<string?> FirstCardAsync(NpgsqlConnection connection)
        => await ScalarAsync(connection, "SELECT card_number FROM customers ORDER BY id LIMIT 1");

    private static async Task<string?> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync() as string;
    }

    /// <summary>Contractors see values unmasked, as analysts do.</summary>
    private static void ExemptContractors(GatehouseSettings settings) => Edit(settings, "exempt_roles: [analyst, dba]", "exempt_roles: [analyst, dba, contractor]");

    /// <summary>Replaces the one place <paramref name="old"/> appears in the configuration file.</summary>
    private static void Edit(GatehouseSettings settings, string old, string replacement)
    {
        var yaml = File.ReadAllText(settings.FilePath!);
        var at = yaml.IndexOf(old, StringComparison.Ordinal);
        Assert.True(at >= 0 && yaml.IndexOf(old, at + 1, StringComparison.Ordinal) < 0, $"the configuration holds \"{old}\" once");
        File.WriteAllText(settings.FilePath!, yaml[..at] + replacement + yaml[(at + old.Length)..]);
    }

    private static async Task<string> UntilAsync(Func<Task<string?>> attempt, Func<string> diagnostics)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        Exception? last = null;
        while (true)
        {
            try
            {
                if (await attempt() is { } result)
                {
                    return result;
                }
            }
            catch (Exception ex) when (ex is not Xunit.Sdk.XunitException)
            {
                last = ex; // not up yet
            }

            Assert.True(DateTime.UtcNow < deadline, $"timed out; last error: {last?.Message}\n{diagnostics()}");
            await Task.Delay(200);
        }
    }
}
