using Gatehouse.Host.Configuration;

namespace Gatehouse.Tests.Configuration;

/// <summary>A bad configuration is refused at start, and every error names the key a person must fix.</summary>
public sealed class ConfigValidationTests
{
    private static IReadOnlyList<string> ErrorsOf(string yaml)
    {
        var error = Assert.Throws<ConfigException>(() => GatehouseSettings.From(ConfigLoader.Parse(yaml, "test.yaml"), Path.GetTempPath()));
        return error.Errors;
    }

    [Fact]
    public void Unknown_keys_are_named_with_their_line()
    {
        var errors = ErrorsOf("listeners:\n  - name: a\n    bnid: 127.0.0.1:1\n");
        Assert.Single(errors);
        Assert.Matches("^test.yaml:3:.*unknown key \"bnid\"", errors[0]);
    }

    [Fact]
    public void Every_error_in_a_file_is_reported_at_once_by_key()
    {
        var errors = ErrorsOf("""
            listeners:
              - name: pg
                bind: nowhere
                upstream: missing
                login_timeout: soon
            upstreams:
              - name: db
                host: 127.0.0.1
                database: app
                user: gatehouse
                auth: trust
                tls: maybe
            identity:
              issuer: https://idp.example/
              audience: gatehouse
              jwks_file: /no/such/jwks.json
            roles:
              analyst:
                groups: []
                upstreams: [nope]
            http:
              bind: "x"
            """);
        Assert.Contains(errors, e => e.StartsWith("listeners[0].bind:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("listeners[0].upstream: no postgres upstream named \"missing\"", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("listeners[0].login_timeout:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("upstreams[0] (db).password:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("upstreams[0] (db).auth:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("upstreams[0] (db).tls:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("roles.analyst.groups:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("roles.analyst.upstreams: no upstream named \"nope\"", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("http.bind:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_file_without_identity_or_roles_is_refused()
    {
        var errors = ErrorsOf("listeners: []\n");
        Assert.Contains(errors, e => e.StartsWith("listeners:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("identity:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("roles:", StringComparison.Ordinal));
    }

    [Fact]
    public void Identity_errors_use_the_files_key_names()
    {
        var errors = ErrorsOf("identity:\n  audience: gatehouse\n  clock_skew: 5m\n");
        Assert.Contains(errors, e => e.StartsWith("identity.issuer:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("identity.clock_skew:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("15s", 15)]
    [InlineData("250ms", 0.25)]
    [InlineData("2m", 120)]
    [InlineData("1h", 3600)]
    [InlineData("30", 30)]
    public void Durations_parse(string text, double seconds)
    {
        Assert.True(ConfigValues.TryParseDuration(text, out var value));
        Assert.Equal(seconds, value.TotalSeconds, 6);
    }

    [Theory]
    [InlineData("")]
    [InlineData("soon")]
    [InlineData("-5s")]
    public void Bad_durations_do_not_parse(string text) => Assert.False(ConfigValues.TryParseDuration(text, out _));

    [Fact]
    public void Secrets_come_from_a_file_read_at_each_use_or_from_the_environment()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "first\n");
            var secret = ConfigValues.Secret(null, file, null);
            Assert.Equal("first", secret());
            File.WriteAllText(file, "second\n");
            Assert.Equal("second", secret());
        }
        finally
        {
            File.Delete(file);
        }

        Environment.SetEnvironmentVariable("GATEHOUSE_TEST_SECRET", "from-env");
        Assert.Equal("from-env", ConfigValues.Secret(null, null, "GATEHOUSE_TEST_SECRET")());
    }
}
