using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Proxy.Core.Metrics;
using Microsoft.Extensions.Logging;

namespace Gatehouse.Host.Configuration;

/// <summary>
/// Reloads the configuration file into a running gateway (<see cref="GatewayHost.Reload"/>) on SIGHUP, and
/// when the file's contents change: it is read every few seconds, which also sees a Kubernetes ConfigMap's
/// symlink swap that a file watcher misses. A changed file is applied only once two reads in a row find the
/// same contents, so a file caught half written (which may still parse, without its masking section) is never
/// applied. A file that does not validate is refused whole, its errors logged and counted: the running
/// configuration stays. Files the configuration only names (a certificate, a key) are read at every reload.
/// </summary>
public sealed class ConfigReloader : IDisposable
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);

    private readonly string _path;
    private readonly GatewayHost _host;
    private readonly ILogger _logger;
    private readonly GatehouseMetrics? _metrics;
    private readonly Lock _gate = new();
    private readonly Timer _timer;
    private readonly PosixSignalRegistration? _hangup;
    private byte[] _loaded; // the contents last reloaded (or read at start)
    private byte[]? _pending; // changed contents seen once, applied if the next look sees them again
    private bool _disposed; // under _gate: a look still running when the gateway stops must not reload into it

    public ConfigReloader(string path, GatewayHost host, ILogger logger, GatehouseMetrics? metrics, TimeSpan? interval = null)
    {
        _path = Path.GetFullPath(path);
        _host = host;
        _logger = logger;
        _metrics = metrics;
        _loaded = Read()?.Hash ?? [];
        var every = interval ?? DefaultInterval;
        _timer = new Timer(_ => InBackground(ReloadIfChanged), null, every, every);
        if (!OperatingSystem.IsWindows())
        {
            _hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                context.Cancel = true; // SIGHUP's default ends the process
                _ = Task.Run(() => InBackground(Reload));
            });
        }
    }

    /// <summary>Reloads when the file's contents differ from the last ones loaded and are the same as at the last look.</summary>
    public ConfigReloadOutcome? ReloadIfChanged()
    {
        lock (_gate)
        {
            if (_disposed || Read() is not { } file || file.Hash.AsSpan().SequenceEqual(_loaded))
            {
                _pending = null;
                return null;
            }

            if (_pending is null || !file.Hash.AsSpan().SequenceEqual(_pending))
            {
                _pending = file.Hash; // perhaps still being written: look again next time
                return null;
            }

            return Apply(file);
        }
    }

    /// <summary>Reads, validates and applies the file now; null when it was refused (logged and counted) or cannot be read.</summary>
    public ConfigReloadOutcome? Reload()
    {
        lock (_gate)
        {
            return !_disposed && Read() is { } file ? Apply(file) : null;
        }
    }

    /// <summary>Stops looking and listening; returns once a reload in progress has finished.</summary>
    public void Dispose()
    {
        _hangup?.Dispose();
        _timer.Dispose();
        lock (_gate)
        {
            _disposed = true;
        }
    }

    private ConfigReloadOutcome? Apply((string Text, byte[] Hash) file)
    {
        _loaded = file.Hash;
        _pending = null;
        GatehouseSettings next;
        try
        {
            next = GatehouseSettings.FromText(file.Text, _path);
        }
        catch (ConfigException ex)
        {
            _metrics?.ConfigReloads.Add(1, new KeyValuePair<string, object?>("result", "rejected"));
            _logger.LogError("Configuration reload from {Path} refused; the running configuration stays. {Errors}", _path, ex.Message);
            return null;
        }

        var outcome = _host.Reload(next);
        _metrics?.ConfigReloads.Add(1, new KeyValuePair<string, object?>("result", "applied"));
        _logger.LogInformation("Configuration reloaded from {Path}: it applies to sessions that start from now on", _path);
        if (outcome.SessionsEnded > 0)
        {
            _logger.LogWarning("Configuration reload ended {Count} live sessions whose access it withdrew", outcome.SessionsEnded);
        }

        if (outcome.NeedsRestart.Count > 0)
        {
            _logger.LogWarning("Configuration changes that wait for a restart: {Changes}", string.Join("; ", outcome.NeedsRestart));
        }

        return outcome;
    }

    /// <summary>The file's text and a hash of it; null when it cannot be read now (mid-replacement: the next look sees it).</summary>
    private (string Text, byte[] Hash)? Read()
    {
        try
        {
            var bytes = File.ReadAllBytes(_path);
            return (Encoding.UTF8.GetString(bytes), SHA256.HashData(bytes));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>A timer's or a signal's reload: what it throws is a bug to log, not a reason to end the gateway.</summary>
    private void InBackground(Func<ConfigReloadOutcome?> reload)
    {
        try
        {
            reload();
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Configuration reload from {Path} failed; the running configuration stays", _path);
        }
    }
}
