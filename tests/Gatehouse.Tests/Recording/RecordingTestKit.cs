using System.Text;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Tests.Recording;

/// <summary>A throwaway recording directory, and ways to fill and damage it.</summary>
public sealed class RecordingTestKit : IDisposable
{
    public static readonly byte[] Key = Encoding.ASCII.GetBytes("a recording key of at least thirty-two bytes");

    public RecordingTestKit()
    {
        Directory = Path.Combine(Path.GetTempPath(), "gh-rec-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(Directory);
        Store = new DirectorySegmentStore(Directory);
    }

    public string Directory { get; }

    public DirectorySegmentStore Store { get; }

    public static SegmentLimits Small { get; } = new() { MaxBytes = 2048 };

    public string PathOf(long number) => Path.Combine(Directory, SegmentFormat.FileName(number));

    /// <summary>Writes <paramref name="records"/> statements (payload "statement N ...") and seals: several small segments.</summary>
    public List<string> Fill(int records, byte[]? key = null, SegmentLimits? limits = null)
    {
        var written = new List<string>();
        using var writer = new SegmentWriter(Store, key ?? Key, limits ?? Small, TimeProvider.System);
        writer.Open();
        var session = Guid.NewGuid();
        for (var i = 0; i < records; i++)
        {
            var text = $"statement {i}: SELECT * FROM t WHERE id = {i}{new string('x', i % 50)}";
            writer.Append(RecordKind.Statement, RecordDirection.ClientToUpstream, session, Encoding.UTF8.GetBytes(text));
            written.Add(text);
            writer.Commit(sync: i % 7 == 0);
        }

        writer.Close();
        return written;
    }

    public List<SegmentVerdict> Verify(bool allowOpenLast = false, byte[]? key = null) => SegmentVerifier.Verify(Store, key ?? Key, allowOpenLast);

    /// <summary>Every Statement payload, in order, across the segments.</summary>
    public List<string> Statements()
    {
        var texts = new List<string>();
        foreach (var number in Store.List())
        {
            var data = Store.ReadAll(number);
            foreach (var record in SegmentScan.Read(number, data, Key).Records.Where(r => r.Header.Kind == RecordKind.Statement))
            {
                texts.Add(Encoding.UTF8.GetString(data, record.PayloadOffset, (int)record.Header.Length));
            }
        }

        return texts;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
