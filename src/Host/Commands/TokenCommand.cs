using System.CommandLine;
using Gatehouse.Host.Configuration;
using Gatehouse.Proxy.Core.Identity;

namespace Gatehouse.Host.Commands;

/// <summary>
/// <c>gatehouse token</c>: mints a short-lived token with the development signing key named in the
/// configuration, so the demo and tests need no external IdP. Production configurations have no such key.
/// </summary>
internal static class TokenCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config", "-c") { Description = "The YAML configuration file.", Required = true };
        var sub = new Option<string>("--sub") { Description = "The subject (who the token is for).", Required = true };
        var groups = new Option<string>("--groups") { Description = "Comma-separated groups.", DefaultValueFactory = _ => "" };
        var ttl = new Option<string>("--ttl") { Description = "Lifetime, e.g. 15m.", DefaultValueFactory = _ => "15m" };
        var command = new Command("token", "Mint a development token with the configured dev signing key.") { config, sub, groups, ttl };
        command.SetAction(parse =>
        {
            GatehouseSettings settings;
            try
            {
                settings = GatehouseSettings.FromFile(parse.GetValue(config)!.FullName);
            }
            catch (ConfigException ex)
            {
                Console.Error.WriteLine(ex.Message);
                return 2;
            }

            if (!ConfigValues.TryParseDuration(parse.GetValue(ttl), out var lifetime) || lifetime <= TimeSpan.Zero)
            {
                Console.Error.WriteLine("--ttl: not a positive duration like 15m");
                return 2;
            }

            var identity = settings.Identity;
            if (identity.DevSigningKeyFile is null)
            {
                Console.Error.WriteLine("identity.dev_signing_key: not configured; tokens come from your identity provider");
                return 2;
            }

            Console.WriteLine(Mint(identity, parse.GetValue(sub)!, Split(parse.GetValue(groups)), lifetime));
            return 0;
        });
        return command;
    }

    internal static string Mint(IdentityOptions identity, string subject, IReadOnlyList<string> groups, TimeSpan lifetime)
    {
        using var key = DevTokens.LoadPrivateKeyPem(identity.DevSigningKeyFile!);
        return DevTokens.Mint(key, DevTokens.KeyIdFor(key), identity.Issuer, identity.Audiences[0], subject, groups, lifetime, identity.GroupsClaim);
    }

    private static string[] Split(string? list)
        => (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
