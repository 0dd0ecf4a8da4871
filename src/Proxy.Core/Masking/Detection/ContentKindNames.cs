namespace Gatehouse.Proxy.Core.Masking;

/// <summary>The detector names the configuration uses.</summary>
public static class ContentKindNames
{
    private static readonly (string Name, ContentKinds Kind)[] Names =
    [
        ("card", ContentKinds.Card), ("email", ContentKinds.Email), ("us_ssn", ContentKinds.UsSsn), ("iban", ContentKinds.Iban),
        ("phone", ContentKinds.Phone), ("aws_key", ContentKinds.AwsKey), ("jwt", ContentKinds.Jwt), ("private_key", ContentKinds.PrivateKey),
    ];

    public static IReadOnlyList<string> All { get; } = Names.Select(n => n.Name).ToArray();

    public static bool TryParse(string name, out ContentKinds kind)
    {
        foreach (var (n, k) in Names)
        {
            if (n.Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                kind = k;
                return true;
            }
        }

        kind = ContentKinds.None;
        return false;
    }

    public static string Name(ContentKinds single) => Names.First(n => n.Kind == single).Name;
}
