namespace Gatehouse.Proxy.Core.Identity;

/// <summary>
/// How client tokens are validated (DESIGN §2): who may issue them, for which audience, with which
/// algorithms, and where the signing keys come from. Call <see cref="Validate"/> before use.
/// </summary>
public sealed class IdentityOptions
{
    /// <summary>The asymmetric JWS algorithms accepted by default (RFC 7518 §3.1).</summary>
    public static IReadOnlyList<string> DefaultAlgorithms { get; } =
        ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

    /// <summary>The library's default skew is 300 s; DESIGN §2 caps it at 60 s.</summary>
    public static TimeSpan MaxClockSkew { get; } = TimeSpan.FromSeconds(60);

    /// <summary>The exact <c>iss</c> value tokens must carry (no trailing-slash leniency).</summary>
    public string Issuer { get; set; } = "";

    /// <summary>Accepted <c>aud</c> values; a token must name at least one of them.</summary>
    public IReadOnlyList<string> Audiences { get; set; } = [];

    /// <summary>Claim holding the caller's groups: a JSON array of strings or a single string.</summary>
    public string GroupsClaim { get; set; } = "groups";

    /// <summary>Allowed <c>alg</c> values. Only RS*, PS* and ES* may appear: never <c>none</c> or HS*.</summary>
    public IReadOnlyList<string> Algorithms { get; set; } = DefaultAlgorithms;

    /// <summary>Allowed <c>typ</c> header values, compared case-insensitively (RFC 7515 §4.1.9).</summary>
    public IReadOnlyList<string> AllowedTypes { get; set; } = ["JWT", "at+jwt"];

    /// <summary>Whether a token without a <c>typ</c> header is accepted; a present <c>typ</c> must be allowed.</summary>
    public bool AllowMissingType { get; set; } = true;

    /// <summary>Whether <c>nbf</c> is required. Some providers omit it; then <c>iat</c> stands in when present.</summary>
    public bool RequireNotBefore { get; set; } = true;

    /// <summary>Tolerance for <c>exp</c>/<c>nbf</c>; at most <see cref="MaxClockSkew"/>.</summary>
    public TimeSpan ClockSkew { get; set; } = MaxClockSkew;

    /// <summary>Tokens longer than this many UTF-8 bytes are refused before parsing.</summary>
    public int MaxTokenBytes { get; set; } = 8192;

    /// <summary>OIDC discovery document URL (<c>…/.well-known/openid-configuration</c>).</summary>
    public Uri? DiscoveryUrl { get; set; }

    /// <summary>URL of a JWKS document.</summary>
    public Uri? JwksUrl { get; set; }

    /// <summary>Path of a JWKS JSON file; re-read on the same schedule as a URL, so keys rotate without a restart.</summary>
    public string? JwksFile { get; set; }

    /// <summary>PEM RSA private key whose public half is also trusted (local development; <c>gatehouse token</c>).</summary>
    public string? DevSigningKeyFile { get; set; }

    /// <summary>Refuse metadata over plain HTTP: an attacker on the path could otherwise substitute keys.</summary>
    public bool RequireHttpsMetadata { get; set; } = true;

    /// <summary>Minimum time between key fetches, which bounds what unknown-<c>kid</c> tokens can trigger.</summary>
    public TimeSpan JwksMinRefreshInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Routine key refresh period.</summary>
    public TimeSpan JwksRefreshInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>After this long without a successful fetch the keys are treated as unavailable and logins fail closed.</summary>
    public TimeSpan JwksMaxStaleness { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Checks the options; each error names the offending option. Empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(Issuer))
        {
            errors.Add("Issuer is required: the exact 'iss' value of the identity provider.");
        }

        if (Audiences is null || Audiences.Count == 0)
        {
            errors.Add("Audiences must list at least one accepted 'aud' value.");
        }
        else if (Audiences.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add("Audiences must not contain empty values.");
        }

        if (string.IsNullOrWhiteSpace(GroupsClaim))
        {
            errors.Add("GroupsClaim must name a claim.");
        }

        ValidateAlgorithms(errors);

        var types = AllowedTypes ?? [];
        if (types.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add("AllowedTypes must not contain empty values.");
        }
        else if (types.Count == 0 && !AllowMissingType)
        {
            errors.Add("AllowedTypes is empty and AllowMissingType is false, so every token would be refused.");
        }

        if (ClockSkew < TimeSpan.Zero || ClockSkew > MaxClockSkew)
        {
            errors.Add($"ClockSkew must be between 0 and {MaxClockSkew.TotalSeconds:0} seconds.");
        }

        // 65535 is the largest PostgreSQL password message the front end accepts (DESIGN §2).
        if (MaxTokenBytes is < 256 or > 65535)
        {
            errors.Add("MaxTokenBytes must be between 256 and 65535.");
        }

        ValidateKeySources(errors);
        ValidateIntervals(errors);
        return errors;
    }

    private void ValidateAlgorithms(List<string> errors)
    {
        if (Algorithms is null || Algorithms.Count == 0)
        {
            errors.Add("Algorithms must list at least one algorithm.");
            return;
        }

        foreach (var alg in Algorithms)
        {
            // Only asymmetric algorithms: 'none' is unsigned, and HS* with a public key as the secret is the
            // classic key-confusion attack.
            if (!DefaultAlgorithms.Contains(alg, StringComparer.Ordinal))
            {
                errors.Add($"Algorithms: '{alg}' is not allowed; use RS256/384/512, PS256/384/512 or ES256/384/512.");
            }
        }
    }

    private void ValidateKeySources(List<string> errors)
    {
        var sources = (DiscoveryUrl is null ? 0 : 1) + (JwksUrl is null ? 0 : 1) + (string.IsNullOrWhiteSpace(JwksFile) ? 0 : 1);
        if (sources > 1)
        {
            errors.Add("Set only one of DiscoveryUrl, JwksUrl and JwksFile.");
        }
        else if (sources == 0 && string.IsNullOrWhiteSpace(DevSigningKeyFile))
        {
            errors.Add("Set one of DiscoveryUrl, JwksUrl or JwksFile (or DevSigningKeyFile for local development).");
        }

        ValidateUrl(errors, nameof(DiscoveryUrl), DiscoveryUrl);
        ValidateUrl(errors, nameof(JwksUrl), JwksUrl);
    }

    private void ValidateUrl(List<string> errors, string name, Uri? url)
    {
        if (url is null)
        {
            return;
        }

        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            errors.Add($"{name} must be an absolute http(s) URL.");
        }
        else if (RequireHttpsMetadata && url.Scheme != Uri.UriSchemeHttps)
        {
            errors.Add($"{name} must use https (or set RequireHttpsMetadata to false for a local test provider).");
        }
    }

    private void ValidateIntervals(List<string> errors)
    {
        if (JwksMinRefreshInterval <= TimeSpan.Zero)
        {
            errors.Add("JwksMinRefreshInterval must be positive.");
        }

        if (JwksRefreshInterval < JwksMinRefreshInterval)
        {
            errors.Add("JwksRefreshInterval must be at least JwksMinRefreshInterval.");
        }

        if (JwksMaxStaleness < JwksRefreshInterval)
        {
            errors.Add("JwksMaxStaleness must be at least JwksRefreshInterval.");
        }
    }
}
