namespace Gatehouse.Protocols.Postgres;

/// <summary>Reads the fields of an ErrorResponse or NoticeResponse body (55.8).</summary>
internal static class PgErrorFields
{
    /// <summary>"SQLSTATE: message", for logs and the gateway's own errors.</summary>
    public static string Describe(ReadOnlySpan<byte> body)
    {
        string? code = null, message = null;
        var reader = new PgSpanReader(body);
        while (reader.TryReadByte(out var field) && field != 0)
        {
            if (!reader.TryReadCString(out var value))
            {
                break;
            }

            if (field == (byte)'C') code = value;
            else if (field == (byte)'M') message = value;
        }

        return $"{code ?? "?????"}: {message ?? "(no message)"}";
    }
}
