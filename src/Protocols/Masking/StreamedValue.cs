using System.Security.Cryptography;
using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Protocols.Masking;

/// <summary>What a row masked as it streams (PgRowStream, MySqlRowStream) does with the bytes of the value it is reading.</summary>
internal enum StreamedValueMode : byte
{
    /// <summary>Forward the value as it came.</summary>
    Copy,
    /// <summary>Drop the value's bytes: its replacement is already out.</summary>
    Skip,
    /// <summary>Hash the value's bytes; the token goes out at its end.</summary>
    Token,
    /// <summary>Hold the value whole, then mask (partial) or scan it.</summary>
    Buffer,
}

internal static class StreamedValue
{
    /// <summary>A value the detectors should read that is larger than a stream may hold: masked whole, counted under this name.</summary>
    public static readonly MaskAction TooLargeToScan = MaskAction.Whole("detector:too-large-to-scan");

    /// <summary>Writes the token of a value whose bytes <paramref name="hmac"/> hashed as they passed, and disposes of it.</summary>
    public static void FinishToken(ref IncrementalHash? hmac, Span<byte> token)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        hmac!.GetHashAndReset(mac);
        hmac.Dispose();
        hmac = null;
        ValueMasker.WriteTokenFromMac(mac, token);
    }
}
