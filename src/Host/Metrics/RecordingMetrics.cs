using System.Text;
using Gatehouse.Proxy.Core.Recording;
using static Gatehouse.Host.Metrics.ProcessMetrics;

namespace Gatehouse.Host.Metrics;

/// <summary>
/// The recorder's series, read at scrape time: how much it writes, how often and how long it syncs (the
/// price of durable statements), how full its queue is (a full queue holds sessions back), and whether it
/// still records at all (when it does not, sessions are refused).
/// </summary>
internal static class RecordingMetrics
{
    public static void Render(StringBuilder text, Recorder recorder)
    {
        Counter(text, "gatehouse_recording_records_total", "Records written to the recording.", recorder.Written);
        Counter(text, "gatehouse_recording_bytes_total", "Record payload bytes written to the recording.", recorder.BytesWritten);
        Counter(text, "gatehouse_recording_syncs_total", "fsyncs of the recording (group commits).", recorder.Syncs);
        Counter(text, "gatehouse_recording_sync_seconds_total", "Time spent in commits that synced the recording.", recorder.SyncTime.TotalSeconds);
        Gauge(text, "gatehouse_recording_queue_records", "Records waiting for the recording's disk.", recorder.Queued);
        Gauge(text, "gatehouse_recording_up", "1 while the gateway records sessions, 0 once recording failed (sessions are then refused).", recorder.IsHealthy ? 1 : 0);
    }
}
