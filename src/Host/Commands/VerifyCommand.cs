using System.CommandLine;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Host.Commands;

/// <summary>
/// <c>gatehouse verify DIR --key-file F</c>: checks every recording segment in DIR — each record's CRC, each
/// segment's hash chain and keyed seal, the links between segments — and prints one verdict per segment,
/// then checks the segments' index files. Exit 0 when all are intact, 1 when any is not, 2 for bad arguments.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var directory = new Argument<DirectoryInfo>("DIR") { Description = "The recording directory." };
        var keyFile = RecordingArguments.Key();
        var allowOpen = new Option<bool>("--allow-open") { Description = "Accept an unsealed last segment (the gateway is still writing it)." };
        var command = new Command("verify", "Check that recorded sessions are complete and untampered.") { directory, keyFile, allowOpen };
        command.SetAction(parse => Run(parse.GetValue(directory)!, parse.GetValue(keyFile)!, parse.GetValue(allowOpen), Console.Out, Console.Error));
        return command;
    }

    internal static int Run(DirectoryInfo directory, FileInfo keyFile, bool allowOpen, TextWriter output, TextWriter errors)
    {
        if (!RecordingArguments.TryOpen(directory, keyFile, errors, out var store, out var key))
        {
            return 2;
        }

        var verdicts = SegmentVerifier.Verify(store, key, allowOpen);
        foreach (var v in verdicts)
        {
            output.WriteLine($"{SegmentFormat.FileName(v.Number)}  {(v.Ok ? "OK    " : "FAILED")}  {v.Message}");
        }

        var (indexes, badIndexes) = CheckIndexes(store, key, verdicts, output);
        var failed = verdicts.Count(v => !v.Ok);
        var indexSummary = badIndexes > 0 ? $"; {badIndexes} of {indexes} index files FAILED verification" : indexes > 0 ? $", {indexes} index files verified" : "";
        output.WriteLine(verdicts.Count == 0
            ? "no segments found"
            : (failed == 0 ? $"all {verdicts.Count} segments intact" : $"{failed} of {verdicts.Count} segments FAILED verification") + indexSummary);
        return failed == 0 && badIndexes == 0 && verdicts.Count > 0 ? 0 : 1;
    }

    /// <summary>
    /// Checks each segment's index file against the segment's seal, writing a FAILED line for each that does not
    /// verify. An altered index is tampering, so it fails the run; a missing one does not (it is derived data:
    /// <c>gatehouse sessions</c> reads the segment instead, <c>gatehouse index</c> writes it again).
    /// </summary>
    private static (int Indexes, int Failed) CheckIndexes(ISegmentStore store, byte[] key, List<SegmentVerdict> verdicts, TextWriter output)
    {
        var (indexes, failed) = (0, 0);
        foreach (var v in verdicts)
        {
            if (store.ReadIndex(v.Number) is not { } index)
            {
                continue;
            }

            indexes++;
            string? problem = null;
            if (v.Seal is null)
            {
                problem = "its segment has no valid seal, and only sealed segments have an index";
            }
            else if (!SegmentIndex.TryRead(key, v.Number, v.Seal, index, out _, out var why))
            {
                problem = why;
            }

            if (problem is not null)
            {
                failed++;
                output.WriteLine($"{SegmentIndex.FileName(v.Number)}  FAILED  {problem}");
            }
        }

        return (indexes, failed);
    }
}
