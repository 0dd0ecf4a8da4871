using System.CommandLine;
using Gatehouse.Host;
using Gatehouse.Host.Commands;

ProcessTuning.Apply();

var root = new RootCommand("Gatehouse: a database access gateway that identifies, enforces and records every session.");
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(TokenCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
return await root.Parse(args).InvokeAsync();
