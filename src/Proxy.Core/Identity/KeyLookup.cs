using Microsoft.IdentityModel.Tokens;

namespace Gatehouse.Proxy.Core.Identity;

/// <summary>The keys published under one <c>kid</c>, or why there are none.</summary>
internal readonly record struct KeyLookup(KeyLookupStatus Status, JsonWebKey[] Keys)
{
    public static KeyLookup Unknown => new(KeyLookupStatus.Unknown, []);

    public static KeyLookup Unavailable => new(KeyLookupStatus.Unavailable, []);
}
