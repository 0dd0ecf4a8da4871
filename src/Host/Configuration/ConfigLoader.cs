using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Gatehouse.Host.Configuration;

/// <summary>Reads the YAML file; a key the model does not know is an error naming the key and its line.</summary>
public static class ConfigLoader
{
    public static GatehouseConfig Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException([$"{path}: cannot read the configuration file: {ex.Message}"]);
        }

        return Parse(text, path);
    }

    public static GatehouseConfig Parse(string yaml, string source = "config")
    {
        var deserializer = new DeserializerBuilder()
            .WithNamingConvention(UnderscoredNamingConvention.Instance)
            .Build();
        try
        {
            return deserializer.Deserialize<GatehouseConfig>(yaml) ?? new GatehouseConfig();
        }
        catch (YamlException ex)
        {
            var message = ex.InnerException?.Message ?? ex.Message;
            // YamlDotNet says "Property 'x' not found on type '...'"; say it in the file's own terms.
            var unknown = System.Text.RegularExpressions.Regex.Match(message, "Property '([^']+)' not found");
            if (unknown.Success)
            {
                message = $"unknown key \"{unknown.Groups[1].Value}\"";
            }

            throw new ConfigException([$"{source}:{ex.Start.Line}:{ex.Start.Column}: {message}"]);
        }
    }
}

/// <summary>The configuration is invalid; each error names the key it is about.</summary>
public sealed class ConfigException(IReadOnlyList<string> errors)
    : Exception("invalid configuration:\n  " + string.Join("\n  ", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
