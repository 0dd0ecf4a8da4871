using System.CommandLine;
using Gatehouse.Host.Configuration;

namespace Gatehouse.Host.Commands;

/// <summary><c>gatehouse run --config FILE</c>: serve until SIGTERM/Ctrl-C, then drain.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config", "-c") { Description = "The YAML configuration file.", Required = true };
        var command = new Command("run", "Run the gateway with a configuration file.") { config };
        command.SetAction(async (parse, cancellationToken) =>
        {
            GatehouseSettings settings;
            try
            {
                settings = GatehouseSettings.FromFile(parse.GetValue(config)!.FullName);
            }
            catch (ConfigException ex)
            {
                await Console.Error.WriteLineAsync(ex.Message).ConfigureAwait(false);
                return 2;
            }

            GatewayHost created;
            try
            {
                created = GatewayHost.Create(settings);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The recording cannot be opened or must not be repaired: a gateway that cannot record does not start.
                await Console.Error.WriteLineAsync($"recording: {ex.Message}").ConfigureAwait(false);
                return 3;
            }

            await using var host = created;
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
            using var reloader = host.WatchConfig(parse.GetValue(config)!.FullName); // before the ports are announced: SIGHUP is handled from then on
            host.LogListening();
            await host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
