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

            await using var host = GatewayHost.Create(settings);
            await host.StartAsync(cancellationToken).ConfigureAwait(false);
            await host.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        });
        return command;
    }
}
