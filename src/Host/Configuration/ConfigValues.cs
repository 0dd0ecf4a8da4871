using System.Globalization;
using System.Net;

namespace Gatehouse.Host.Configuration;

/// <summary>Parsers for the small value languages in the file: durations, endpoints, secrets.</summary>
public static class ConfigValues
{
    /// <summary>"250ms", "15s", "2m", "1h", "1d"; a bare number is seconds.</summary>
    public static bool TryParseDuration(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text[^1] switch
            {
                's' => (text[..^1], 1.0),
                'm' => (text[..^1], 60.0),
                'h' => (text[..^1], 3600.0),
                'd' => (text[..^1], 86400.0),
                _ => (text, 1.0),
            };
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) || n < 0 || double.IsInfinity(n))
        {
            return false;
        }

        value = TimeSpan.FromSeconds(n * unit);
        return true;
    }

    /// <summary>"host:port", "[::1]:port" or ":port" (all interfaces).</summary>
    public static bool TryParseEndpoint(string? text, out IPEndPoint endpoint)
    {
        endpoint = new IPEndPoint(IPAddress.Loopback, 0);
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        if (text.StartsWith(':') && int.TryParse(text[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var anyPort) && anyPort is > 0 and < 65536)
        {
            endpoint = new IPEndPoint(IPAddress.IPv6Any, anyPort);
            return true;
        }

        if (text.StartsWith("localhost:", StringComparison.OrdinalIgnoreCase))
        {
            text = "127.0.0.1" + text["localhost".Length..];
        }

        return IPEndPoint.TryParse(text, out endpoint!) && text.Contains(':', StringComparison.Ordinal); // port 0: any free port
    }

    /// <summary>
    /// A secret from exactly one of: a file (re-read each time, so rotation needs no restart), an environment
    /// variable, or the YAML itself. Trailing newlines of files are trimmed.
    /// </summary>
    public static Func<string> Secret(string? inline, string? file, string? env) => (inline, file, env) switch
    {
        (_, { } f, _) => () => File.ReadAllText(f).TrimEnd('\r', '\n'),
        (_, _, { } e) => () => Environment.GetEnvironmentVariable(e) ?? throw new InvalidOperationException($"environment variable {e} is not set"),
        ({ } i, _, _) => () => i,
        _ => () => throw new InvalidOperationException("no secret configured"),
    };
}
