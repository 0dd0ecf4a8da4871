using Gatehouse.Host.Configuration;
using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Tests.Configuration;

/// <summary>The masking section loads into the listeners' policy; a bad rule is refused at start naming its key.</summary>
public sealed class MaskingConfigTests
{
    private const string Base = ConfigYaml.OnePostgresListener;

    private static GatehouseSettings Load(string masking, string extra = "") =>
        GatehouseSettings.From(ConfigLoader.Parse(Base + extra + masking, "test.yaml"), Path.GetTempPath());

    private static IReadOnlyList<string> Errors(string masking, string extra = "") =>
        Assert.Throws<ConfigException>(() => Load(masking, extra)).Errors;

    [Fact]
    public void Rules_and_detectors_reach_the_listener()
    {
        var settings = Load("""
            masking:
              exempt_roles: [dba]
              token_key: "sixteen bytes or more, really"
              detector_scope: all
              rules:
                - name: cards
                  columns: ["billing.customers.card", "*.card_number"]
                  strategy: partial
                  keep: 4
                - name: emails
                  columns: [email]
                  strategy: token
                  exempt_roles: [analyst]
                  upstreams: [db]
                - name: secrets
                  columns: [api_key]
                  strategy: redact
                  replacement: "***"
              detectors:
                - kinds: [card, iban]
                  strategy: partial
                - kinds: [email]
                  strategy: nullify
            """);
        var masking = settings.Masking;
        Assert.Same(masking, settings.Listeners[0].Postgres!.Masking);
        Assert.Equal(["cards", "emails", "secrets"], masking.Rules.Select(r => r.Name));
        Assert.Equal(MaskStrategy.Partial, masking.Rules[0].Action.Strategy);
        Assert.Equal(4, masking.Rules[0].Action.Keep);
        Assert.Equal("***"u8.ToArray(), masking.Rules[2].Action.Replacement);
        Assert.Equal(ContentKinds.Card | ContentKinds.Iban | ContentKinds.Email, masking.Detectors);
        Assert.Equal(MaskStrategy.Null, masking.DetectorActions[ContentKinds.Email].Strategy);
        Assert.Equal("detector:iban", masking.DetectorActions[ContentKinds.Iban].Source);
        Assert.Equal(DetectorScope.All, masking.Scope);
        Assert.True(masking.Strict);
        Assert.Null(masking.ForSession(["dba"], "db"));
        Assert.NotNull(masking.ForSession(["analyst"], "db"));
    }

    [Fact]
    public void No_masking_section_leaves_sessions_untouched()
    {
        var settings = Load("");
        Assert.Same(MaskingPolicy.None, settings.Listeners[0].Postgres!.Masking);
        Assert.Null(MaskingPolicy.None.ForSession(["analyst"], "db"));
    }

    [Theory]
    [InlineData("rules: [{ columns: [card], strategy: redact }]", "masking.rules[0].name")]
    [InlineData("rules: [{ name: strict, columns: [card], strategy: redact }]", "masking.rules[0] (strict).name")]
    [InlineData("rules: [{ name: a, columns: [card], strategy: redact }, { name: a, columns: [x], strategy: redact }]", "masking.rules[1] (a).name")]
    [InlineData("rules: [{ name: a, strategy: redact }]", "masking.rules[0] (a).columns")]
    [InlineData("rules: [{ name: a, columns: [\"a.b.c.d\"], strategy: redact }]", "masking.rules[0] (a).columns")]
    [InlineData("rules: [{ name: a, columns: [card], strategy: scramble }]", "masking.rules[0] (a).strategy")]
    [InlineData("rules: [{ name: a, columns: [card], strategy: redact, keep: 2 }]", "masking.rules[0] (a).keep")]
    [InlineData("rules: [{ name: a, columns: [card], strategy: partial, keep: -1 }]", "masking.rules[0] (a).keep")]
    [InlineData("rules: [{ name: a, columns: [card], strategy: partial, replacement: x }]", "masking.rules[0] (a).replacement")]
    [InlineData("rules: [{ name: a, columns: [card], strategy: redact, exempt_roles: [nobody] }]", "masking.rules[0] (a).exempt_roles")]
    [InlineData("rules: [{ name: a, columns: [card], strategy: redact, upstreams: [elsewhere] }]", "masking.rules[0] (a).upstreams")]
    [InlineData("rules: [{ name: a, columns: [card], strategy: token }]", "masking.token_key")]
    [InlineData("{ token_key: short, rules: [{ name: a, columns: [card], strategy: token }] }", "masking.token_key")]
    [InlineData("detectors: [{ kinds: [cards], strategy: redact }]", "masking.detectors[0].kinds")]
    [InlineData("detectors: [{ kinds: [], strategy: redact }]", "masking.detectors[0].kinds")]
    [InlineData("detectors: [{ kinds: [card], strategy: redact }, { kinds: [all], strategy: null }]", "masking.detectors[1].kinds")]
    [InlineData("{ detector_scope: everything, detectors: [{ kinds: [card], strategy: redact }] }", "masking.detector_scope")]
    [InlineData("exempt_roles: [nobody]", "masking.exempt_roles")]
    public void Invalid_masking_is_refused_naming_the_key(string section, string key)
    {
        var yaml = section.StartsWith('{') ? $"masking: {section}\n" : $"masking:\n  {section}\n";
        var errors = Errors(yaml);
        Assert.Contains(errors, e => e.StartsWith(key + ":", StringComparison.Ordinal));
    }

    [Fact]
    public void Mysql_listeners_get_the_same_masking_as_postgres_ones()
    {
        const string MySql = """
            listeners:
              - { name: pg, protocol: postgres, bind: "127.0.0.1:0", upstream: db, allow_plaintext_on_loopback: true }
              - { name: my, protocol: mysql, bind: "127.0.0.1:0", upstream: mdb, allow_plaintext_on_loopback: true }
            upstreams:
              - { name: db, host: 127.0.0.1, database: app, user: g, password: s, tls: disable }
              - { name: mdb, protocol: mysql, host: 127.0.0.1, database: app, user: g, password: s, tls: disable }
            identity: { issuer: "https://idp.example/", audience: gatehouse, jwks_url: "https://idp.example/jwks" }
            roles:
              analyst: { groups: [analysts], upstreams: ["*"] }

            """;
        var settings = GatehouseSettings.From(ConfigLoader.Parse(MySql + "masking:\n  rules: [{ name: a, columns: [card], strategy: redact, upstreams: [mdb] }]\n", "t.yaml"), Path.GetTempPath());
        Assert.Single(settings.Masking.Rules);
        Assert.Same(settings.Masking, settings.Listeners[0].Postgres!.Masking);
        Assert.Same(settings.Masking, settings.Listeners[1].MySql!.Masking);
        Assert.NotNull(settings.Masking.ForSession(["contractor"], "mdb"));
        Assert.Null(settings.Masking.ForSession(["contractor"], "db")); // the rule names only the mysql upstream
    }
}
