using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Fuzz.Support;

/// <summary>Detector actions for masking sessions built in code (fuzz targets, properties, benchmarks).</summary>
internal static class DetectorActions
{
    /// <summary>Every detector redacting what it finds, each named as the gateway's config names it (<c>detector:card</c>).</summary>
    public static Dictionary<ContentKinds, MaskAction> RedactEach()
        => Enum.GetValues<ContentKinds>().Where(k => k is not (ContentKinds.None or ContentKinds.All))
            .ToDictionary(k => k, k => new MaskAction("detector:" + ContentKindNames.Name(k), MaskStrategy.Redact));
}
