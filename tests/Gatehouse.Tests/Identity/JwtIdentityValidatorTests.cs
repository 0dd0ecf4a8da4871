using System.Security.Cryptography;
using System.Text;
using Gatehouse.Proxy.Core.Identity;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Tests.Identity;

public sealed class JwtIdentityValidatorTests : IDisposable
{
    private readonly IdentityTestContext _ctx = new();

    public void Dispose() => _ctx.Dispose();

    private async Task<TokenValidationOutcome> Validate(string token, IdentityOptions? options = null)
    {
        using var validator = _ctx.Validator(options);
        return await validator.ValidateAsync(token, CancellationToken.None);
    }

    private async Task AssertRejected(string token, TokenRejection reason, IdentityOptions? options = null) =>
        OutcomeAssert.Rejected(await Validate(token, options), reason, token);

    [Fact]
    public async Task Valid_token_is_accepted_and_groups_map_to_roles()
    {
        var identity = OutcomeAssert.Accepted(await Validate(_ctx.Token()));

        Assert.Equal("alice", identity.Subject);
        Assert.Equal(["dba", "dev"], identity.Groups);
        Assert.Equal(IdentityTestContext.Issuer, identity.Issuer);
        Assert.Equal(_ctx.Time.GetUtcNow().AddSeconds(600), identity.ExpiresAt);

        var map = new RoleMap(new Dictionary<string, RoleDefinition>
        {
            ["admin"] = new(["dba"], ["*"]),
            ["reader"] = new(["dev", "analyst"], ["reporting"]),
            ["ops"] = new(["sre"], ["orders"]),
        });
        var roles = map.RolesFor(identity);
        Assert.Equal(["admin", "reader"], roles);
        Assert.True(map.MayUse(roles, "orders"));
    }

    [Fact]
    public async Task Groups_claim_may_be_a_single_string_and_its_name_is_configurable()
    {
        var payload = _ctx.Payload();
        payload.Remove("groups");
        payload["roles"] = "dba";
        var options = _ctx.Options();
        options.GroupsClaim = "roles";

        Assert.Equal(["dba"], OutcomeAssert.Accepted(await Validate(_ctx.Token(payload: payload), options)).Groups);
    }

    [Fact]
    public async Task Missing_groups_claim_gives_no_groups_and_non_string_members_are_ignored()
    {
        var payload = _ctx.Payload();
        payload.Remove("groups");
        Assert.Empty(OutcomeAssert.Accepted(await Validate(_ctx.Token(payload: payload))).Groups);

        payload["groups"] = new object[] { "dba", 7, "dba", new Dictionary<string, object> { ["x"] = "y" } };
        Assert.Equal(["dba"], OutcomeAssert.Accepted(await Validate(_ctx.Token(payload: payload))).Groups);
    }

    [Fact]
    public async Task Expiry_honours_the_injected_clock_with_at_most_60_seconds_skew()
    {
        var token = _ctx.Token();
        using var validator = _ctx.Validator();

        _ctx.Time.Advance(TimeSpan.FromSeconds(600 + 59));
        OutcomeAssert.Accepted(await validator.ValidateAsync(token, CancellationToken.None));

        _ctx.Time.Advance(TimeSpan.FromSeconds(2));
        OutcomeAssert.Rejected(await validator.ValidateAsync(token, CancellationToken.None), TokenRejection.Expired, token);
    }

    [Fact]
    public async Task Not_yet_valid_token_is_rejected_beyond_the_skew()
    {
        var payload = _ctx.Payload();
        payload["nbf"] = _ctx.Now + 59;
        OutcomeAssert.Accepted(await Validate(_ctx.Token(payload: payload)));

        payload["nbf"] = _ctx.Now + 120;
        await AssertRejected(_ctx.Token(payload: payload), TokenRejection.NotYetValid);
    }

    [Theory]
    [InlineData("https://evil.example.test/realms/main")]
    [InlineData(IdentityTestContext.Issuer + "/")]
    [InlineData("HTTPS://IDP.EXAMPLE.TEST/realms/main")]
    public async Task Issuer_must_match_exactly(string issuer)
    {
        var payload = _ctx.Payload();
        payload["iss"] = issuer;
        await AssertRejected(_ctx.Token(payload: payload), TokenRejection.WrongIssuer);
    }

    [Fact]
    public async Task Missing_issuer_is_rejected()
    {
        var payload = _ctx.Payload();
        payload.Remove("iss");
        await AssertRejected(_ctx.Token(payload: payload), TokenRejection.WrongIssuer);
    }

    [Theory]
    [InlineData("someone-else")]
    [InlineData("gatehouse/")]
    public async Task Audience_must_match(string audience)
    {
        var payload = _ctx.Payload();
        payload["aud"] = audience;
        await AssertRejected(_ctx.Token(payload: payload), TokenRejection.WrongAudience);
    }

    [Fact]
    public async Task Audience_array_needs_one_accepted_value_and_missing_audience_is_rejected()
    {
        var payload = _ctx.Payload();
        payload["aud"] = new[] { "account", IdentityTestContext.Audience };
        OutcomeAssert.Accepted(await Validate(_ctx.Token(payload: payload)));

        payload.Remove("aud");
        await AssertRejected(_ctx.Token(payload: payload), TokenRejection.WrongAudience);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("None")]
    [InlineData("NONE")]
    public async Task Alg_none_is_rejected(string alg)
    {
        var token = TestJwt.Encode(_ctx.Header(alg)) + "." + TestJwt.Encode(_ctx.Payload()) + ".";
        await AssertRejected(token, TokenRejection.AlgorithmNotAllowed);
    }

    [Fact]
    public async Task Missing_alg_is_rejected()
    {
        var header = _ctx.Header();
        header.Remove("alg");
        var token = TestJwt.Sign(header, _ctx.Payload(), data => _ctx.Key.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));
        await AssertRejected(token, TokenRejection.AlgorithmNotAllowed);
    }

    [Fact]
    public async Task HS256_signed_with_the_rsa_public_key_is_rejected()
    {
        // Key confusion: an attacker who knows the public key uses its bytes as an HMAC secret.
        var publicKeys = new[]
        {
            _ctx.Key.ExportSubjectPublicKeyInfo(),
            Encoding.ASCII.GetBytes(_ctx.Key.ExportSubjectPublicKeyInfoPem()),
            _ctx.Key.ExportRSAPublicKey(),
        };
        foreach (var secret in publicKeys)
        {
            var token = TestJwt.SignHmac(secret, _ctx.Header("HS256"), _ctx.Payload());
            await AssertRejected(token, TokenRejection.AlgorithmNotAllowed);
        }
    }

    [Fact]
    public void Symmetric_or_none_algorithms_cannot_be_configured()
    {
        var options = _ctx.Options();
        options.Algorithms = ["RS256", "HS256", "none"];

        var errors = options.Validate();
        Assert.Contains(errors, e => e.StartsWith("Algorithms", StringComparison.Ordinal) && e.Contains("HS256", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("Algorithms", StringComparison.Ordinal) && e.Contains("'none'", StringComparison.Ordinal));
        Assert.Throws<ArgumentException>(() => new JwtIdentityValidator(options));
    }

    [Fact]
    public async Task Algorithm_outside_a_narrowed_allow_list_is_rejected()
    {
        var options = _ctx.Options();
        options.Algorithms = ["ES256"];
        await AssertRejected(_ctx.Token(), TokenRejection.AlgorithmNotAllowed, options);
    }

    [Fact]
    public async Task Algorithm_must_fit_the_key_published_under_the_kid()
    {
        // The JWK pins RS384, so an RS256 signature under that kid is refused before verification.
        _ctx.WriteJwks(TestJwt.RsaJwk(_ctx.Key, IdentityTestContext.KeyId, alg: "RS384"));
        await AssertRejected(_ctx.Token(), TokenRejection.AlgorithmNotAllowed);
        OutcomeAssert.Accepted(await Validate(_ctx.Token(_ctx.Header("RS384"))));
    }

    [Fact]
    public async Task Unknown_kid_is_rejected()
    {
        await AssertRejected(_ctx.Token(_ctx.Header(kid: "not-published")), TokenRejection.UnknownKey);
    }

    [Fact]
    public async Task Missing_kid_is_rejected_without_trying_the_keys()
    {
        var header = _ctx.Header();
        header.Remove("kid");
        await AssertRejected(_ctx.Token(header), TokenRejection.MissingKeyId);
    }

    [Fact]
    public async Task Signature_by_another_key_under_a_known_kid_is_rejected()
    {
        using var other = RSA.Create(2048);
        await AssertRejected(_ctx.Token(key: other), TokenRejection.BadSignature);
    }

    [Fact]
    public async Task Tampered_payload_is_rejected()
    {
        var parts = _ctx.Token().Split('.');
        var payload = _ctx.Payload();
        payload["sub"] = "root";
        var token = parts[0] + "." + TestJwt.Encode(payload) + "." + parts[2];
        await AssertRejected(token, TokenRejection.BadSignature);
    }

    [Fact]
    public async Task Encryption_key_in_the_jwks_is_not_trusted_for_signatures()
    {
        using var other = RSA.Create(2048);
        _ctx.WriteJwks(TestJwt.RsaJwk(_ctx.Key, IdentityTestContext.KeyId, use: "enc"), TestJwt.RsaJwk(other, "signing"));
        await AssertRejected(_ctx.Token(), TokenRejection.UnknownKey);

        // A set with no signing keys at all is treated as a failed fetch, not as "trust nothing, silently".
        _ctx.WriteJwks(TestJwt.RsaJwk(_ctx.Key, IdentityTestContext.KeyId, use: "enc"));
        await AssertRejected(_ctx.Token(), TokenRejection.KeysUnavailable);
    }

    [Fact]
    public async Task Oversized_token_is_rejected_before_parsing()
    {
        var payload = _ctx.Payload();
        payload["groups"] = Enumerable.Range(0, 600).Select(i => $"group-{i}").ToArray();
        var token = _ctx.Token(payload: payload);
        Assert.True(token.Length > 8192);
        await AssertRejected(token, TokenRejection.TooLarge);

        var options = _ctx.Options();
        options.MaxTokenBytes = 65535;
        OutcomeAssert.Accepted(await Validate(token, options));
    }

    [Fact]
    public async Task Size_cap_counts_utf8_bytes()
    {
        var payload = _ctx.Payload();
        payload["groups"] = new[] { new string('é', 3000) }; // 6000 UTF-8 bytes, ~8000 after base64url
        var token = _ctx.Token(payload: payload);
        var options = _ctx.Options();
        options.MaxTokenBytes = token.Length;
        OutcomeAssert.Accepted(await Validate(token, options));

        var padded = token + new string('é', 1); // same number of chars plus one, but two extra bytes
        options.MaxTokenBytes = token.Length + 1;
        await AssertRejected(padded, TokenRejection.TooLarge, options);
    }

    [Fact]
    public async Task Encrypted_five_part_token_is_rejected()
    {
        var jwe = new JsonWebTokenHandler().CreateToken(
            "{\"sub\":\"alice\"}",
            new SigningCredentials(new RsaSecurityKey(_ctx.Key) { KeyId = IdentityTestContext.KeyId }, SecurityAlgorithms.RsaSha256),
            new EncryptingCredentials(new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)), "dir", SecurityAlgorithms.Aes128CbcHmacSha256));
        Assert.Equal(4, jwe.Count(c => c == '.'));
        await AssertRejected(jwe, TokenRejection.Encrypted);
        await AssertRejected("a.b.c.d.e", TokenRejection.Encrypted);
        await AssertRejected("....", TokenRejection.Encrypted); // the shape alone decides: no JWE is ever parsed
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("a.b")]
    [InlineData("a.b.c")]
    [InlineData("a.b.c.d")]
    [InlineData("...")]
    [InlineData("!!!.###.$$$")]
    [InlineData("bm90IGpzb24.e30.c2ln")]
    [InlineData("W10.W10.c2ln")]
    public async Task Garbage_is_rejected_as_malformed(string token)
    {
        await AssertRejected(token, TokenRejection.Malformed);
    }

    [Fact]
    public async Task Null_token_is_rejected_as_malformed()
    {
        using var validator = _ctx.Validator();
        var outcome = await validator.ValidateAsync(null!, CancellationToken.None);
        Assert.Equal(TokenRejection.Malformed, outcome.Reason);
    }

    [Theory]
    [InlineData("dpop+jwt")]
    [InlineData("JWE")]
    [InlineData("application/secevent+jwt")]
    public async Task Wrong_typ_is_rejected(string typ)
    {
        var header = _ctx.Header();
        header["typ"] = typ;
        await AssertRejected(_ctx.Token(header), TokenRejection.WrongType);
    }

    [Theory]
    [InlineData("JWT")]
    [InlineData("jwt")]
    [InlineData("at+jwt")]
    [InlineData("application/at+jwt")]
    [InlineData("AT+JWT")]
    public async Task Allowed_typ_values_compare_as_media_types(string typ)
    {
        var header = _ctx.Header();
        header["typ"] = typ;
        OutcomeAssert.Accepted(await Validate(_ctx.Token(header)));
    }

    [Fact]
    public async Task Missing_typ_is_accepted_only_when_allowed()
    {
        var header = _ctx.Header();
        header.Remove("typ");
        var token = _ctx.Token(header);
        OutcomeAssert.Accepted(await Validate(token));

        var options = _ctx.Options();
        options.AllowMissingType = false;
        await AssertRejected(token, TokenRejection.WrongType, options);
    }

    [Fact]
    public async Task Critical_header_extensions_are_refused()
    {
        var header = _ctx.Header();
        header["crit"] = new[] { "exp" };
        header["exp"] = 1;
        await AssertRejected(_ctx.Token(header), TokenRejection.Malformed);
    }

    [Theory]
    [InlineData("sub")]
    [InlineData("exp")]
    [InlineData("nbf")]
    public async Task Required_claims_must_be_present(string claim)
    {
        var payload = _ctx.Payload();
        payload.Remove(claim);
        await AssertRejected(_ctx.Token(payload: payload), TokenRejection.MissingClaim);
    }

    [Fact]
    public async Task Empty_subject_is_a_missing_claim()
    {
        var payload = _ctx.Payload();
        payload["sub"] = "";
        await AssertRejected(_ctx.Token(payload: payload), TokenRejection.MissingClaim);
    }

    [Fact]
    public async Task Without_RequireNotBefore_iat_stands_in_for_nbf()
    {
        var options = _ctx.Options();
        options.RequireNotBefore = false;
        var payload = _ctx.Payload();
        payload.Remove("nbf");
        OutcomeAssert.Accepted(await Validate(_ctx.Token(payload: payload), options));

        payload["iat"] = _ctx.Now + 300;
        await AssertRejected(_ctx.Token(payload: payload), TokenRejection.NotYetValid, options);
    }

    [Fact]
    public async Task Nbf_after_exp_is_rejected()
    {
        var payload = _ctx.Payload();
        payload["nbf"] = _ctx.Now + 30;
        payload["exp"] = _ctx.Now + 10;
        await AssertRejected(_ctx.Token(payload: payload), TokenRejection.Malformed);
    }

    [Fact]
    public async Task Expired_token_with_a_bad_signature_reports_the_signature()
    {
        // The handler verifies the signature before the claims, so forged tokens are labelled as forgeries.
        using var other = RSA.Create(2048);
        var payload = _ctx.Payload();
        payload["exp"] = _ctx.Now - 3600;
        await AssertRejected(_ctx.Token(payload: payload, key: other), TokenRejection.BadSignature);
    }

    [Fact]
    public async Task ES256_and_PS256_keys_verify()
    {
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _ctx.WriteJwks(TestJwt.RsaJwk(_ctx.Key, IdentityTestContext.KeyId), TestJwt.EcJwk(ec, "ec-1"));
        using var validator = _ctx.Validator();

        var es = TestJwt.SignEcdsa(ec, _ctx.Header("ES256", "ec-1"), _ctx.Payload());
        OutcomeAssert.Accepted(await validator.ValidateAsync(es, CancellationToken.None));

        var ps = _ctx.Token(_ctx.Header("PS256"));
        OutcomeAssert.Accepted(await validator.ValidateAsync(ps, CancellationToken.None));

        // An RSA algorithm under the EC key's kid does not fit that key.
        var mismatched = _ctx.Token(_ctx.Header("RS256", "ec-1"));
        OutcomeAssert.Rejected(await validator.ValidateAsync(mismatched, CancellationToken.None), TokenRejection.AlgorithmNotAllowed, mismatched);
    }
}
