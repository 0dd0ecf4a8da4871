using Gatehouse.Proxy.Core.Identity;

namespace Gatehouse.Tests.Identity;

public sealed class IdentityOptionsTests
{
    private static IdentityOptions Valid() => new()
    {
        Issuer = "https://idp.example.test",
        Audiences = ["gatehouse"],
        JwksFile = "/etc/gatehouse/jwks.json",
    };

    private static void AssertError(IdentityOptions options, string optionName)
    {
        var errors = options.Validate();
        Assert.Contains(errors, e => e.Contains(optionName, StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => new JwtIdentityValidator(options));
    }

    [Fact]
    public void Defaults_are_the_documented_safe_values()
    {
        var options = Valid();
        Assert.Empty(options.Validate());
        Assert.Equal("groups", options.GroupsClaim);
        Assert.Equal(["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"], options.Algorithms);
        Assert.Equal(["JWT", "at+jwt"], options.AllowedTypes);
        Assert.True(options.AllowMissingType);
        Assert.Equal(TimeSpan.FromSeconds(60), options.ClockSkew);
        Assert.Equal(8192, options.MaxTokenBytes);
        Assert.Equal(TimeSpan.FromMinutes(5), options.JwksMinRefreshInterval);
        Assert.Equal(TimeSpan.FromHours(1), options.JwksRefreshInterval);
        Assert.Equal(TimeSpan.FromHours(24), options.JwksMaxStaleness);
        Assert.True(options.RequireHttpsMetadata);
    }

    [Fact]
    public void Issuer_and_audiences_are_required()
    {
        AssertError(new IdentityOptions { Audiences = ["a"], JwksFile = "x" }, "Issuer");
        AssertError(new IdentityOptions { Issuer = "https://i", JwksFile = "x" }, "Audiences");
        AssertError(new IdentityOptions { Issuer = "https://i", Audiences = [""], JwksFile = "x" }, "Audiences");
    }

    [Fact]
    public void Clock_skew_above_60_seconds_is_refused()
    {
        var options = Valid();
        options.ClockSkew = TimeSpan.FromSeconds(61);
        AssertError(options, "ClockSkew");
        options.ClockSkew = TimeSpan.FromSeconds(-1);
        AssertError(options, "ClockSkew");
    }

    [Theory]
    [InlineData("HS256")]
    [InlineData("HS512")]
    [InlineData("none")]
    [InlineData("rs256")]
    public void Only_asymmetric_algorithms_are_accepted(string alg)
    {
        var options = Valid();
        options.Algorithms = ["RS256", alg];
        AssertError(options, "Algorithms");
    }

    [Fact]
    public void Exactly_one_remote_key_source_unless_only_a_dev_key_is_used()
    {
        var options = Valid();
        options.JwksUrl = new Uri("https://idp.example.test/jwks");
        AssertError(options, "JwksFile");

        AssertError(new IdentityOptions { Issuer = "https://i", Audiences = ["a"] }, "DiscoveryUrl");
        Assert.Empty(new IdentityOptions { Issuer = "https://i", Audiences = ["a"], DevSigningKeyFile = "dev.pem" }.Validate());
    }

    [Fact]
    public void Metadata_urls_must_be_https_unless_explicitly_relaxed()
    {
        var options = new IdentityOptions { Issuer = "https://i", Audiences = ["a"], DiscoveryUrl = new Uri("http://127.0.0.1:8080/.well-known/openid-configuration") };
        AssertError(options, "DiscoveryUrl");
        options.RequireHttpsMetadata = false;
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void Size_types_and_intervals_are_checked()
    {
        var options = Valid();
        options.MaxTokenBytes = 70000;
        AssertError(options, "MaxTokenBytes");

        options = Valid();
        options.AllowedTypes = [];
        options.AllowMissingType = false;
        AssertError(options, "AllowedTypes");

        options = Valid();
        options.JwksMaxStaleness = TimeSpan.FromMinutes(30);
        AssertError(options, "JwksMaxStaleness");

        options = Valid();
        options.JwksMinRefreshInterval = TimeSpan.Zero;
        AssertError(options, "JwksMinRefreshInterval");
    }
}
