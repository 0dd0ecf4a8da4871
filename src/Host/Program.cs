using System.CommandLine;
using Gatehouse.Host.Commands;

// On a small machine (a sidecar's 2 cores) running socket completions on the epoll thread saves a thread-pool
// hop per read, measured at about a quarter more round trips per second through the gateway. On larger
// machines one epoll thread would serialise all I/O, so it stays off there. An explicit setting wins.
if (Environment.ProcessorCount <= 4 && Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
{
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}

var root = new RootCommand("Gatehouse: a database access gateway that identifies, enforces and records every session.");
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(TokenCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(VerifyCommand.Create());
root.Subcommands.Add(ReplayCommand.CreateReplay());
root.Subcommands.Add(ReplayCommand.CreateSessions());
root.Subcommands.Add(IndexCommand.Create());
return await root.Parse(args).InvokeAsync();
