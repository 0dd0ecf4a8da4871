using System.Globalization;
using Gatehouse.Proxy.Core.Identity;

namespace Gatehouse.Host.Demo;

/// <summary>
/// Writes a complete gateway configuration in front of a <see cref="LocalPostgres"/>: a TLS certificate for
/// the listener, a development signing key for tokens, the upstream password in a 0600 file, and the YAML.
/// Used by <c>gatehouse demo</c> and by the end-to-end tests, so both exercise the same file a user would write.
/// </summary>
public sealed class DemoGateway
{
    public const string Issuer = "https://gatehouse.demo/";
    public const string Audience = "gatehouse";

    public required string Directory { get; init; }

    public required string ConfigPath { get; init; }

    public required string CertificatePath { get; init; }

    public required string SigningKeyPath { get; init; }

    /// <summary>Where sessions are recorded, and the key that seals them.</summary>
    public string RecordingDirectory => Path.Combine(Directory, "recordings");

    public string RecordingKeyPath => Path.Combine(Directory, "recording.key");

    public static DemoGateway Write(string directory, LocalPostgres postgres, int listenerPort, int httpPort, string upstreamUser = LocalPostgres.ScramUser,
        string upstreamAuth = "scram-sha-256", string upstreamTls = "verify-full", bool allowPlaintextOnLoopback = false, string extraListenerYaml = "",
        LocalMariaDb? mariaDb = null, int mysqlPort = 0, string extraUpstreamYaml = "", bool record = true)
    {
        System.IO.Directory.CreateDirectory(directory);
        var certificate = Path.Combine(directory, "gateway.crt");
        var key = Path.Combine(directory, "gateway.key");
        var signingKey = Path.Combine(directory, "dev-signing-key.pem");
        var password = Path.Combine(directory, "upstream-password");
        if (!File.Exists(certificate))
        {
            SelfSignedCertificate.WritePem(certificate, key);
            DevTokens.WriteNewKeyPem(signingKey);
        }

        File.Delete(password);
        SecretFile.Write(password, postgres.Passwords[upstreamUser]);
        var recordingKey = Path.Combine(directory, "recording.key");
        if (!File.Exists(recordingKey))
        {
            SecretFile.Write(recordingKey, Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(48)));
        }

        // Every session is recorded (sealed segments under recordings/, checked by `gatehouse verify`).
        var recording = record ? string.Create(CultureInfo.InvariantCulture, $"""
            recording:
              directory: {Path.Combine(directory, "recordings")}
              key_file: {recordingKey}
            """) : "";
        var mysqlListener = "";
        var mysqlUpstream = "";
        if (mariaDb is not null)
        {
            var mysqlPassword = Path.Combine(directory, "mysql-upstream-password");
            File.Delete(mysqlPassword);
            SecretFile.Write(mysqlPassword, mariaDb.NativePassword);
            mysqlListener = string.Create(CultureInfo.InvariantCulture, $"""
                  - name: demo-mysql
                    protocol: mysql
                    bind: 127.0.0.1:{mysqlPort}
                    upstream: demo-mariadb
                    tls:
                      certificate: {certificate}
                      key: {key}
                    allow_plaintext_on_loopback: {(allowPlaintextOnLoopback ? "true" : "false")}
                    login_timeout: 15s
                """);
            mysqlUpstream = string.Create(CultureInfo.InvariantCulture, $"""
                  - name: demo-mariadb
                    protocol: mysql
                    host: {mariaDb.Host}
                    port: {mariaDb.Port}
                    database: {LocalMariaDb.AppDatabase}
                    user: {LocalMariaDb.NativeUser}
                    password_file: {mysqlPassword}
                    auth_plugins: [caching_sha2_password, mysql_native_password]
                    tls: verify-full
                    ca_certificate: {mariaDb.CertificatePath}
                    server_name: localhost
                """);
        }

        var config = Path.Combine(directory, "gatehouse.yaml");
        var yaml = string.Create(CultureInfo.InvariantCulture, $"""
            # Written by `gatehouse demo`: a throwaway PostgreSQL behind the gateway.
            listeners:
              - name: demo
                protocol: postgres
                bind: 127.0.0.1:{listenerPort}
                upstream: demo-db
                tls:
                  certificate: {certificate}
                  key: {key}
                allow_plaintext_on_loopback: {(allowPlaintextOnLoopback ? "true" : "false")}
                login_timeout: 15s
            {mysqlListener}
            {extraListenerYaml}
            upstreams:
              - name: demo-db
                protocol: postgres
                host: {postgres.Host}
                port: {postgres.Port}
                database: {LocalPostgres.AppDatabase}
                user: {upstreamUser}
                password_file: {password}
                auth: {upstreamAuth}
                tls: {upstreamTls}
                ca_certificate: {postgres.CertificatePath}
                server_name: localhost
            {mysqlUpstream}
            {extraUpstreamYaml}

            identity:
              issuer: {Issuer}
              audience: {Audience}
              # Development only: `gatehouse token` signs with this key. Production names discovery_url or jwks_url.
              dev_signing_key: {signingKey}
              groups_claim: groups

            roles:
              analyst:
                groups: [analysts]
                upstreams: [demo-db{(mariaDb is null ? "" : ", demo-mariadb")}]
              dba:
                groups: [dba]
                upstreams: ["*"]
              contractor:
                groups: [contractors]
                upstreams: [demo-db{(mariaDb is null ? "" : ", demo-mariadb")}]

            # Masking: contractors see card numbers and e-mail addresses masked (analysts and DBAs are exempt).
            masking:
              exempt_roles: [analyst, dba]
              rules:
                - name: cards
                  columns: [card_number]
                  strategy: partial
                  keep: 4
                - name: emails
                  columns: [email]
                  strategy: redact
              # And where a value has no column to go by (an expression, a literal), its content: a derived
              # value strict mode lets through is still caught if it looks like a card number or an address.
              detectors:
                - kinds: [card, email]
                  strategy: redact

            # Statement policy: the first matching rule decides. Without a rule, statements the gateway cannot
            # read and destructive ones (DROP, TRUNCATE, unbounded DELETE/UPDATE, ...) are denied for everyone.
            policy:
              rules:
                - name: dba-maintenance
                  decision: allow
                  roles: [dba]
                  risks: [drop, truncate, alter_drop, unbounded_delete, unbounded_update]
                - name: grants-need-approval
                  decision: hold
                  risks: [grant_revoke]
                  reason: privilege changes are reviewed

            http:
              bind: 127.0.0.1:{httpPort}

            {recording}
            """);
        File.WriteAllText(config, yaml);
        return new DemoGateway { Directory = directory, ConfigPath = config, CertificatePath = certificate, SigningKeyPath = signingKey };
    }
}
