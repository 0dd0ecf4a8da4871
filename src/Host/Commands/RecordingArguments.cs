using System.CommandLine;
using System.Diagnostics.CodeAnalysis;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Host.Commands;

/// <summary>The recording directory and key the recording commands take, and opening them.</summary>
internal static class RecordingArguments
{
    public static Option<DirectoryInfo> Dir() => new("--dir") { Description = "The recording directory.", Required = true };

    public static Option<FileInfo> Key() => new("--key-file") { Description = "The file holding the sealing key.", Required = true };

    /// <summary>Loads the key and opens the directory; false, with why on <paramref name="errors"/>, when either cannot be.</summary>
    public static bool TryOpen(DirectoryInfo directory, FileInfo keyFile, TextWriter errors, [NotNullWhen(true)] out DirectorySegmentStore? store, out byte[] key)
    {
        store = null;
        key = [];
        try
        {
            key = RecordingKey.Load(keyFile.FullName);
        }
        catch (IOException ex)
        {
            errors.WriteLine(ex.Message);
            return false;
        }

        if (!directory.Exists)
        {
            errors.WriteLine($"{directory.FullName}: no such directory");
            return false;
        }

        store = new DirectorySegmentStore(directory.FullName);
        return true;
    }
}
