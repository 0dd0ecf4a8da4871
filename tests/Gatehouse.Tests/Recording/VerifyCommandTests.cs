using Gatehouse.Host.Commands;

namespace Gatehouse.Tests.Recording;

/// <summary><c>gatehouse verify</c>: one verdict per segment, and an exit code a script can act on.</summary>
public sealed class VerifyCommandTests : IDisposable
{
    private readonly RecordingTestKit _kit = new();

    public void Dispose() => _kit.Dispose();

    [Fact]
    public void An_intact_recording_exits_0_and_a_damaged_one_1_naming_the_segment()
    {
        _kit.Fill(60);
        var keyFile = new FileInfo(Path.Combine(_kit.Directory, "key"));
        File.WriteAllBytes(keyFile.FullName, [.. RecordingTestKit.Key, (byte)'\n']);
        var output = new StringWriter();
        Assert.Equal(0, VerifyCommand.Run(new DirectoryInfo(_kit.Directory), keyFile, allowOpen: false, output, TextWriter.Null));
        Assert.Contains("segments intact", output.ToString(), StringComparison.Ordinal);

        var data = File.ReadAllBytes(_kit.PathOf(2));
        data[100] ^= 0x40;
        File.WriteAllBytes(_kit.PathOf(2), data);
        output = new StringWriter();
        Assert.Equal(1, VerifyCommand.Run(new DirectoryInfo(_kit.Directory), keyFile, allowOpen: false, output, TextWriter.Null));
        Assert.Contains("000000000002.seg  FAILED", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_short_key_or_a_missing_directory_exits_2()
    {
        var keyFile = new FileInfo(Path.Combine(_kit.Directory, "short-key"));
        File.WriteAllText(keyFile.FullName, "short");
        var errors = new StringWriter();
        Assert.Equal(2, VerifyCommand.Run(new DirectoryInfo(_kit.Directory), keyFile, false, TextWriter.Null, errors));
        Assert.Contains("at least 32 bytes", errors.ToString(), StringComparison.Ordinal);
        File.WriteAllBytes(keyFile.FullName, RecordingTestKit.Key);
        Assert.Equal(2, VerifyCommand.Run(new DirectoryInfo(Path.Combine(_kit.Directory, "nope")), keyFile, false, TextWriter.Null, TextWriter.Null));
    }
}
