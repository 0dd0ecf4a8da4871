using System.Threading.Channels;
using Gatehouse.Proxy.Core.Recording;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Host.Recording;

/// <summary>
/// The gateway's index builder: the writer hands it each sealed segment's number (<see cref="SegmentWriter.SegmentSealed"/>)
/// and it reads the segment back and writes its index on its own task, off the relay's and the recorder's
/// paths. It first writes the indexes missing from before (the segment recovery sealed, or a crash before an
/// index was written); indexes that exist but do not verify are left for <c>gatehouse verify</c> to report.
/// An index is derived data: failing to write one is logged, never a reason to stop recording, and
/// <c>gatehouse sessions</c> reads such a segment itself.
/// </summary>
internal sealed partial class SegmentIndexer : IAsyncDisposable
{
    private readonly Channel<long> _sealed = Channel.CreateUnbounded<long>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SegmentIndexWriter _writer;
    private readonly ILogger _logger;
    private readonly Task _loop;
    private long _done;

    public SegmentIndexer(ISegmentStore store, byte[] key, ILogger logger, IndexLimits? limits = null)
    {
        _writer = new SegmentIndexWriter(store, key, limits);
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>The <see cref="SegmentWriter.SegmentSealed"/> handler: queues the segment and returns.</summary>
    public void OnSealed(long number) => _sealed.Writer.TryWrite(number);

    /// <summary>Writes the indexes still queued (the last segment is sealed at shutdown) and stops.</summary>
    public async ValueTask DisposeAsync()
    {
        _sealed.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
    }

    private async Task RunAsync()
    {
        var missing = new List<long>();
        Guard(() => missing.AddRange(_writer.Unindexed()), "listing the segments");
        foreach (var number in missing)
        {
            Guard(() => _done = _writer.Write(number) ? number : _done, $"writing {SegmentIndex.FileName(number)}");
        }

        await foreach (var number in _sealed.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            if (number > _done) // the catch-up may have written it already
            {
                Guard(() => _writer.Write(number), $"writing {SegmentIndex.FileName(number)}");
                _done = number;
            }
        }
    }

    private void Guard(Action build, string what)
    {
        try
        {
            build();
        }
#pragma warning disable CA1031 // derived data: whatever goes wrong building an index must not take the gateway down
        catch (Exception ex)
#pragma warning restore CA1031
        {
            IndexFailed(_logger, what, ex.Message, ex);
        }
    }

    [LoggerMessage(3300, LogLevel.Error, "Recording index: {What} failed, so a segment stays without an index (gatehouse sessions reads such a segment itself): {Reason}")]
    private static partial void IndexFailed(ILogger logger, string what, string reason, Exception exception);
}
