using Gatehouse.Protocols.Postgres;
using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Host.Configuration;

/// <summary>Where and how sessions are recorded (DESIGN §7).</summary>
public sealed record RecordingSettings(string Directory, byte[] Key, SegmentLimits Limits, int QueueCapacity,
    ResultRecording Results = ResultRecording.Full, IReadOnlyDictionary<string, ResultRecording>? ResultsByUpstream = null)
{
    /// <summary>How much of the results sessions to <paramref name="upstream"/> record.</summary>
    public ResultRecording ResultsFor(string upstream) => ResultsByUpstream?.GetValueOrDefault(upstream, Results) ?? Results;
}

public sealed partial class GatehouseSettings
{
    /// <summary>Null when the configuration has no recording section: sessions are then not recorded.</summary>
    public RecordingSettings? Recording { get; private set; }

    private void ResolveRecording(RecordingConfig? config, Dictionary<string, PgUpstreamOptions> upstreams)
    {
        if (config is null)
        {
            return;
        }

        var errors = _errors.Count;
        if (string.IsNullOrWhiteSpace(config.Directory))
        {
            Error("recording.directory", "required");
        }

        byte[] key = [];
        if (string.IsNullOrWhiteSpace(config.KeyFile))
        {
            Error("recording.key_file", "required (the key that seals segments)");
        }
        else
        {
            try
            {
                key = RecordingKey.Load(PathOf(config.KeyFile));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                Error("recording.key_file", ex.Message);
            }
        }

        var limits = new SegmentLimits();
        if (config.SegmentMaxBytes is { } bytes)
        {
            if (bytes < 64 * 1024)
            {
                Error("recording.segment_max_bytes", "must be at least 65536");
            }

            limits = limits with { MaxBytes = bytes };
        }

        if (config.SegmentMaxAge is { } age)
        {
            if (!ConfigValues.TryParseDuration(age, out var maxAge) || maxAge < TimeSpan.FromSeconds(1))
            {
                Error("recording.segment_max_age", $"\"{age}\" is not a duration of at least 1s, like 1h");
            }

            limits = limits with { MaxAge = maxAge };
        }

        if (config.Queue is < 16)
        {
            Error("recording.queue", "must be at least 16");
        }

        var results = ResultsMode("recording.results", config.Results ?? "full");
        var byUpstream = new Dictionary<string, ResultRecording>(StringComparer.Ordinal);
        foreach (var (upstream, mode) in config.ResultsByUpstream)
        {
            if (!upstreams.ContainsKey(upstream) && !_mysqlUpstreams.ContainsKey(upstream))
            {
                Error($"recording.results_by_upstream.{upstream}", "no upstream has this name");
            }

            byUpstream[upstream] = ResultsMode($"recording.results_by_upstream.{upstream}", mode);
        }

        if (_errors.Count == errors)
        {
            Recording = new RecordingSettings(PathOf(config.Directory!), key, limits, config.Queue ?? 4096, results, byUpstream);
        }
    }

    private ResultRecording ResultsMode(string where, string value)
    {
        switch (value)
        {
            case "full":
                return ResultRecording.Full;
            case "row_count":
                return ResultRecording.RowCount;
            default:
                Error(where, $"\"{value}\" is not full or row_count");
                return ResultRecording.Full;
        }
    }
}
