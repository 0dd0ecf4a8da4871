using System.CommandLine;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Host.Commands;

/// <summary>
/// <c>gatehouse verify DIR --key-file F</c>: checks every recording segment in DIR — each record's CRC, each
/// segment's hash chain and keyed seal, the links between segments — and prints one verdict per segment.
/// Exit 0 when all are intact, 1 when any is not, 2 for bad arguments.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "The recording directory." };
        var keyFile = new Option<FileInfo>("--key-file") { Description = "The file holding the sealing key.", Required = true };
        var allowOpen = new Option<bool>("--allow-open") { Description = "Accept an unsealed last segment (the gateway is still writing it)." };
        var command = new Command("verify", "Check that recorded sessions are complete and untampered.") { directory, keyFile, allowOpen };
        command.SetAction(parse => Run(parse.GetValue(directory)!, parse.GetValue(keyFile)!, parse.GetValue(allowOpen), Console.Out, Console.Error));
        return command;
    }

    internal static int Run(DirectoryInfo directory, FileInfo keyFile, bool allowOpen, TextWriter output, TextWriter errors)
    {
        byte[] key;
        try
        {
            key = RecordingKey.Load(keyFile.FullName);
        }
        catch (IOException ex)
        {
            errors.WriteLine(ex.Message);
            return 2;
        }

        if (!directory.Exists)
        {
            errors.WriteLine($"{directory.FullName}: no such directory");
            return 2;
        }

        var verdicts = SegmentVerifier.Verify(new DirectorySegmentStore(directory.FullName), key, allowOpen);
        foreach (var v in verdicts)
        {
            output.WriteLine($"{SegmentFormat.FileName(v.Number)}  {(v.Ok ? "OK    " : "FAILED")}  {v.Message}");
        }

        var failed = verdicts.Count(v => !v.Ok);
        output.WriteLine(verdicts.Count == 0
            ? "no segments found"
            : failed == 0 ? $"all {verdicts.Count} segments intact" : $"{failed} of {verdicts.Count} segments FAILED verification");
        return failed == 0 && verdicts.Count > 0 ? 0 : 1;
    }
}
