namespace Gatehouse.Proxy.Core.Identity;

/// <summary>What the key store could say about a <c>kid</c>.</summary>
internal enum KeyLookupStatus
{
    Found,
    Unknown,
    Unavailable,
}
