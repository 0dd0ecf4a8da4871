using System.Security.Cryptography;
using Gatehouse.Proxy.Core.Identity;

namespace Gatehouse.Tests.Identity;

/// <summary>Key rotation, rate limiting, staleness and the three remote key sources.</summary>
public sealed class SigningKeyRefreshTests : IDisposable
{
    private readonly IdentityTestContext _ctx = new();

    public void Dispose() => _ctx.Dispose();

    private static ValueTask<TokenValidationOutcome> Validate(JwtIdentityValidator validator, string token) =>
        validator.ValidateAsync(token, CancellationToken.None);

    [Fact]
    public async Task Rotated_key_is_picked_up_on_unknown_kid_at_most_once_per_min_interval()
    {
        using var validator = _ctx.Validator();
        OutcomeAssert.Accepted(await Validate(validator, _ctx.Token()));

        // The IdP rotates after the last fetch: the unknown kid triggers one refresh, and this login waits for it.
        using var key2 = RSA.Create(2048);
        _ctx.WriteJwks(TestJwt.RsaJwk(_ctx.Key, IdentityTestContext.KeyId), TestJwt.RsaJwk(key2, "key-2"));
        OutcomeAssert.Accepted(await Validate(validator, _ctx.Token(_ctx.Header(kid: "key-2"), key: key2)));

        // A second rotation within JwksMinRefreshInterval is not fetched: unknown until the interval passes.
        using var key3 = RSA.Create(2048);
        _ctx.WriteJwks(TestJwt.RsaJwk(key3, "key-3"));
        var token3 = _ctx.Token(_ctx.Header(kid: "key-3"), key: key3);
        OutcomeAssert.Rejected(await Validate(validator, token3), TokenRejection.UnknownKey, token3);

        _ctx.Time.Advance(TimeSpan.FromMinutes(5));
        token3 = _ctx.Token(_ctx.Header(kid: "key-3"), key: key3);
        OutcomeAssert.Accepted(await Validate(validator, token3));

        // The retired key is gone from the new set.
        var old = _ctx.Token();
        OutcomeAssert.Rejected(await Validate(validator, old), TokenRejection.UnknownKey, old);
    }

    [Fact]
    public async Task Last_good_keys_survive_fetch_failures_until_max_staleness_then_logins_fail_closed()
    {
        using var validator = _ctx.Validator();
        OutcomeAssert.Accepted(await Validate(validator, _ctx.Token()));
        File.Delete(_ctx.JwksPath);

        _ctx.Time.Advance(TimeSpan.FromHours(2));
        OutcomeAssert.Accepted(await Validate(validator, _ctx.Token()));

        _ctx.Time.Advance(TimeSpan.FromHours(22) + TimeSpan.FromSeconds(1));
        var token = _ctx.Token();
        OutcomeAssert.Rejected(await Validate(validator, token), TokenRejection.KeysUnavailable, token);

        // Once the source is back, the next permitted fetch restores service.
        _ctx.WriteJwks(TestJwt.RsaJwk(_ctx.Key, IdentityTestContext.KeyId));
        _ctx.Time.Advance(TimeSpan.FromMinutes(5));
        OutcomeAssert.Accepted(await Validate(validator, _ctx.Token()));
    }

    [Fact]
    public async Task An_empty_key_set_does_not_replace_the_last_good_one()
    {
        using var validator = _ctx.Validator();
        OutcomeAssert.Accepted(await Validate(validator, _ctx.Token()));

        _ctx.WriteJwks();
        _ctx.Time.Advance(TimeSpan.FromMinutes(5));
        var unknown = _ctx.Token(_ctx.Header(kid: "key-9"));
        OutcomeAssert.Rejected(await Validate(validator, unknown), TokenRejection.UnknownKey, unknown);
        OutcomeAssert.Accepted(await Validate(validator, _ctx.Token()));
    }

    [Fact]
    public async Task Missing_jwks_file_makes_keys_unavailable()
    {
        File.Delete(_ctx.JwksPath);
        using var validator = _ctx.Validator();
        var token = _ctx.Token();
        OutcomeAssert.Rejected(await Validate(validator, token), TokenRejection.KeysUnavailable, token);
    }

    [Fact]
    public async Task Dev_signing_key_alone_is_trusted_for_minted_tokens()
    {
        var keyFile = Path.Combine(_ctx.Directory.FullName, "dev.pem");
        DevTokens.WriteNewKeyPem(keyFile);
        using var devKey = DevTokens.LoadPrivateKeyPem(keyFile);
        var options = new IdentityOptions { Issuer = IdentityTestContext.Issuer, Audiences = ["gatehouse"], DevSigningKeyFile = keyFile };
        using var validator = new JwtIdentityValidator(options, _ctx.Time);

        var token = DevTokens.Mint(devKey, DevTokens.KeyIdFor(devKey), IdentityTestContext.Issuer, "gatehouse", "bob", ["ops"], TimeSpan.FromMinutes(5), time: _ctx.Time);
        var identity = OutcomeAssert.Accepted(await Validate(validator, token));
        Assert.Equal("bob", identity.Subject);
        Assert.Equal(["ops"], identity.Groups);

        // Nothing else is trusted: the JWKS key is not configured here.
        var other = _ctx.Token();
        OutcomeAssert.Rejected(await Validate(validator, other), TokenRejection.UnknownKey, other);

        _ctx.Time.Advance(TimeSpan.FromMinutes(6) + TimeSpan.FromSeconds(1));
        OutcomeAssert.Rejected(await Validate(validator, token), TokenRejection.Expired, token);
    }

    [Fact]
    public async Task Dev_signing_key_works_beside_a_jwks_file()
    {
        var keyFile = Path.Combine(_ctx.Directory.FullName, "dev.pem");
        DevTokens.WriteNewKeyPem(keyFile);
        using var devKey = DevTokens.LoadPrivateKeyPem(keyFile);
        var options = _ctx.Options();
        options.DevSigningKeyFile = keyFile;
        using var validator = _ctx.Validator(options);

        OutcomeAssert.Accepted(await Validate(validator, _ctx.Token()));
        var dev = DevTokens.Mint(devKey, DevTokens.KeyIdFor(devKey), IdentityTestContext.Issuer, "gatehouse", "bob", [], TimeSpan.FromMinutes(5), time: _ctx.Time);
        OutcomeAssert.Accepted(await Validate(validator, dev));
    }

    [Fact]
    public async Task Jwks_url_is_fetched_and_unknown_kids_are_rate_limited()
    {
        using var server = new LocalMetadataServer(IdentityTestContext.Issuer) { Jwks = TestJwt.Jwks(TestJwt.RsaJwk(_ctx.Key, IdentityTestContext.KeyId)) };
        var options = new IdentityOptions { Issuer = IdentityTestContext.Issuer, Audiences = ["gatehouse"], JwksUrl = server.JwksUrl, RequireHttpsMetadata = false };
        using var validator = _ctx.Validator(options);

        OutcomeAssert.Accepted(await Validate(validator, _ctx.Token()));
        Assert.Equal(1, server.JwksRequests);

        // A burst of made-up kids costs at most one fetch per JwksMinRefreshInterval.
        for (var i = 0; i < 20; i++)
        {
            var token = _ctx.Token(_ctx.Header(kid: $"made-up-{i}"));
            OutcomeAssert.Rejected(await Validate(validator, token), TokenRejection.UnknownKey, token);
        }

        Assert.Equal(2, server.JwksRequests);
    }

    [Fact]
    public async Task Discovery_fetches_the_jwks_uri_and_checks_the_issuer()
    {
        using var server = new LocalMetadataServer(IdentityTestContext.Issuer) { Jwks = TestJwt.Jwks(TestJwt.RsaJwk(_ctx.Key, IdentityTestContext.KeyId)) };
        var options = new IdentityOptions { Issuer = IdentityTestContext.Issuer, Audiences = ["gatehouse"], DiscoveryUrl = server.DiscoveryUrl, RequireHttpsMetadata = false };
        using (var validator = _ctx.Validator(options))
        {
            OutcomeAssert.Accepted(await Validate(validator, _ctx.Token()));
            Assert.Equal(1, server.Requests.GetValueOrDefault("/.well-known/openid-configuration"));
            Assert.Equal(1, server.JwksRequests);
        }

        // A discovery document for another issuer is not trusted at all.
        server.Issuer = "https://other.example.test/";
        using (var validator = _ctx.Validator(options))
        {
            var token = _ctx.Token();
            OutcomeAssert.Rejected(await Validate(validator, token), TokenRejection.KeysUnavailable, token);
        }
    }

    [Fact]
    public async Task Concurrent_unknown_kids_share_one_fetch()
    {
        var source = new GatedKeySource(TestJwt.Jwks(TestJwt.RsaJwk(_ctx.Key, IdentityTestContext.KeyId)));
        using var store = new SigningKeyStore(source, new Dictionary<string, Microsoft.IdentityModel.Tokens.JsonWebKey[]>(), _ctx.Options(), _ctx.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        var lookups = Enumerable.Range(0, 10).Select(i => store.FindAsync(i % 2 == 0 ? IdentityTestContext.KeyId : $"other-{i}", CancellationToken.None).AsTask()).ToArray();
        source.Release();
        var results = await Task.WhenAll(lookups);

        Assert.Equal(1, source.Fetches);
        Assert.All(results.Where((_, i) => i % 2 == 0), r => Assert.Equal(KeyLookupStatus.Found, r.Status));
        Assert.All(results.Where((_, i) => i % 2 == 1), r => Assert.Equal(KeyLookupStatus.Unknown, r.Status));
    }

    [Fact]
    public async Task Routine_refresh_happens_after_the_refresh_interval()
    {
        var source = new GatedKeySource(TestJwt.Jwks(TestJwt.RsaJwk(_ctx.Key, IdentityTestContext.KeyId)));
        source.Release();
        using var store = new SigningKeyStore(source, new Dictionary<string, Microsoft.IdentityModel.Tokens.JsonWebKey[]>(), _ctx.Options(), _ctx.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        Assert.Equal(KeyLookupStatus.Found, (await store.FindAsync(IdentityTestContext.KeyId, CancellationToken.None)).Status);
        _ctx.Time.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(KeyLookupStatus.Found, (await store.FindAsync(IdentityTestContext.KeyId, CancellationToken.None)).Status);
        Assert.Equal(1, source.Fetches);

        _ctx.Time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(KeyLookupStatus.Found, (await store.FindAsync(IdentityTestContext.KeyId, CancellationToken.None)).Status);
        await source.WaitForFetchesAsync(2);
        Assert.Equal(2, source.Fetches);
    }

    [Fact]
    public async Task A_failing_source_is_retried_at_most_once_per_min_interval()
    {
        var source = new GatedKeySource("not json");
        source.Release();
        using var store = new SigningKeyStore(source, new Dictionary<string, Microsoft.IdentityModel.Tokens.JsonWebKey[]>(), _ctx.Options(), _ctx.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(KeyLookupStatus.Unavailable, (await store.FindAsync(IdentityTestContext.KeyId, CancellationToken.None)).Status);
        }

        Assert.Equal(1, source.Fetches);
        _ctx.Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(KeyLookupStatus.Unavailable, (await store.FindAsync(IdentityTestContext.KeyId, CancellationToken.None)).Status);
        Assert.Equal(2, source.Fetches);
    }

    /// <summary>A key source whose fetches wait for the test, and which counts them.</summary>
    private sealed class GatedKeySource(string jwks) : ISigningKeySource
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _fetches;

        public int Fetches => Volatile.Read(ref _fetches);

        public void Release() => _gate.TrySetResult();

        public async Task WaitForFetchesAsync(int count)
        {
            for (var i = 0; i < 500 && Fetches < count; i++)
            {
                await Task.Delay(10);
            }
        }

        public async Task<Microsoft.IdentityModel.Tokens.JsonWebKeySet> FetchAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _fetches);
            await _gate.Task.WaitAsync(cancellationToken);
            return new Microsoft.IdentityModel.Tokens.JsonWebKeySet(jwks);
        }

        public void Dispose()
        {
        }
    }
}
