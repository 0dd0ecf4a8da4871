using System.CommandLine;
using Gatehouse.Host.Recording;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Host.Commands;

/// <summary>
/// <c>gatehouse index --dir DIR --key-file F</c>: writes the index files of sealed segments that have none (the
/// gateway writes them as it seals segments; a recording made before indexes, or copied without them, has
/// none). <c>--rebuild</c> writes every one again, replacing those that do not verify. Exit 0, 1 when one could
/// not be written, 2 for bad arguments.
/// </summary>
internal static class IndexCommand
{
    public static Command Create()
    {
        var (dir, key) = (RecordingArguments.Dir(), RecordingArguments.Key());
        var rebuild = new Option<bool>("--rebuild") { Description = "Write every sealed segment's index again, replacing those there (one that does not verify, too)." };
        var command = new Command("index", "Write the index files that gatehouse sessions reads, for sealed segments without one.") { dir, key, rebuild };
        command.SetAction(parse => Run(parse.GetValue(dir)!, parse.GetValue(key)!, parse.GetValue(rebuild), Console.Out, Console.Error));
        return command;
    }

    internal static int Run(DirectoryInfo directory, FileInfo keyFile, bool rebuild, TextWriter output, TextWriter errors)
    {
        if (!RecordingArguments.TryOpen(directory, keyFile, errors, out var store, out var key))
        {
            return 2;
        }

        var writer = new SegmentIndexWriter(store, key);
        var written = 0;
        foreach (var number in writer.Unindexed(all: rebuild))
        {
            try
            {
                var done = writer.Write(number);
                written += done ? 1 : 0;
                output.WriteLine(done
                    ? $"{SegmentIndex.FileName(number)}  written"
                    : $"{SegmentFormat.FileName(number)}  not sealed (being written, or damaged: see gatehouse verify), so no index");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                errors.WriteLine($"{SegmentIndex.FileName(number)}: {ex.Message}");
                return 1;
            }
        }

        output.WriteLine($"{written} index files written");
        return 0;
    }
}
