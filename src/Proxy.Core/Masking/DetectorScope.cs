namespace Gatehouse.Proxy.Core.Masking;

/// <summary>Which result columns the content detectors read.</summary>
public enum DetectorScope : byte
{
    /// <summary>Columns without table identity (expressions, casts, set operations) and view expressions.</summary>
    Derived,
    /// <summary>Every string value, table columns included: slower, catches sensitive data in columns nobody listed.</summary>
    All,
}
