using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Protocols.MySql.Masking;

/// <summary>
/// COM_FIELD_LIST (deprecated, still answered by MariaDB and MySQL 8) sends each column's definition with its
/// default value after the fixed fields. A default can be the very value a rule protects (an API key column
/// whose default is a live key), and the command names a table, a view or a wildcard the gateway would have to
/// resolve column by column. So in a masked session every default is sent as NULL, which clients read as "no
/// default"; names and types, all that clients use the command for (completion), are kept.
/// </summary>
internal static class MySqlFieldListDefaults
{
    private static readonly MaskAction Defaults = MaskAction.Whole("field-list-default");

    /// <summary>Replaces the definition's default with NULL; Pass when it has none or it is NULL already.</summary>
    public static RewriteDecision Strip(byte sequence, ReadOnlySpan<byte> payload, RewriteContext context, MaskingCounter counter)
    {
        var reader = new MySqlPayloadReader(payload);
        for (var i = 0; i < 6; i++)
        {
            // catalog, schema, table, org_table, name, org_name
            if (!reader.TryLengthEncodedBytes(out _))
            {
                return Malformed();
            }
        }

        if (!reader.TryLengthEncoded(out var fixedLength) || fixedLength > int.MaxValue || !reader.TrySkip((int)fixedLength))
        {
            return Malformed();
        }

        var rest = reader.Rest;
        if (rest.IsEmpty || rest is [0xFB])
        {
            return RewriteDecision.Pass;
        }

        var head = payload[..^rest.Length];
        new MySqlPacketWriter().Bytes(head).Byte(0xFB).WriteTo(context.Forward, sequence);
        counter.Masked(Defaults);
        return RewriteDecision.Replace;
    }

    private static RewriteDecision Malformed()
        => RewriteDecision.End(SessionEndReason.ProtocolViolation, "malformed column definition from the upstream in a COM_FIELD_LIST answer");
}
