namespace Gatehouse.Tests.Configuration;

/// <summary>A valid minimal configuration that section tests append to.</summary>
internal static class ConfigYaml
{
    /// <summary>One plaintext-on-loopback PostgreSQL listener, its upstream, a JWKS issuer, and roles analyst and dba.</summary>
    public const string OnePostgresListener = """
        listeners:
          - name: pg
            protocol: postgres
            bind: 127.0.0.1:0
            upstream: db
            allow_plaintext_on_loopback: true
        upstreams:
          - name: db
            host: 127.0.0.1
            database: app
            user: gatehouse
            password: secret
            auth: scram-sha-256
            tls: disable
        identity:
          issuer: https://idp.example/
          audience: gatehouse
          jwks_url: https://idp.example/jwks
        roles:
          analyst:
            groups: [analysts]
            upstreams: [db]
          dba:
            groups: [dba]
            upstreams: ["*"]

        """;
}
