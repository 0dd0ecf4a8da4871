namespace Gatehouse.Host.Demo;

/// <summary>Writes files only their owner may read (the server key, the initdb password file).</summary>
internal static class SecretFile
{
    public static void Write(string path, string contents)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("LocalPostgres runs on Linux only.");
        }

        // Created 0600 rather than chmod-ed afterwards, so the secret is never readable by others, even briefly;
        // PostgreSQL also refuses a key file that group or others can read.
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(contents);
    }
}
