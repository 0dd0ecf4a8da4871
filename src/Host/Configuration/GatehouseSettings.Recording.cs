using Gatehouse.Proxy.Core.Recording;

namespace Gatehouse.Host.Configuration;

/// <summary>Where and how sessions are recorded (DESIGN §7).</summary>
public sealed record RecordingSettings(string Directory, byte[] Key, SegmentLimits Limits, int QueueCapacity);

public sealed partial class GatehouseSettings
{
    /// <summary>Null when the configuration has no recording section: sessions are then not recorded.</summary>
    public RecordingSettings? Recording { get; private set; }

    private void ResolveRecording(RecordingConfig? config)
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

        if (_errors.Count == errors)
        {
            Recording = new RecordingSettings(PathOf(config.Directory!), key, limits, config.Queue ?? 4096);
        }
    }
}
