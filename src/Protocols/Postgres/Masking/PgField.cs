using System.Buffers.Binary;
using System.Text;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>One RowDescription field: the result column's name, its origin (table OID 0 = derived), type and format.</summary>
internal readonly record struct PgField(string Name, uint Table, short Attribute, uint Type, short Format)
{
    /// <summary>Parses a RowDescription body (55.7); null when malformed.</summary>
    public static PgField[]? ParseRowDescription(ReadOnlySpan<byte> body)
    {
        if (body.Length < 2)
        {
            return null;
        }

        var count = BinaryPrimitives.ReadInt16BigEndian(body);
        if (count < 0)
        {
            return null;
        }

        var fields = new PgField[count];
        var at = 2;
        for (var i = 0; i < count; i++)
        {
            var end = body[at..].IndexOf((byte)0);
            if (end < 0 || body.Length - at - end - 1 < 18)
            {
                return null;
            }

            var name = Encoding.UTF8.GetString(body.Slice(at, end));
            var f = body[(at + end + 1)..];
            fields[i] = new PgField(name, BinaryPrimitives.ReadUInt32BigEndian(f), BinaryPrimitives.ReadInt16BigEndian(f[4..]),
                BinaryPrimitives.ReadUInt32BigEndian(f[6..]), BinaryPrimitives.ReadInt16BigEndian(f[16..]));
            at += end + 1 + 18;
        }

        return at == body.Length ? fields : null;
    }

    /// <summary>
    /// Types whose text and binary forms are both the UTF-8 text, so a masked string can stand in for the
    /// value in either format: text, varchar, bpchar, name, "char", unknown. Any other type is masked to NULL,
    /// because "****" in an int8 or a jsonb would break the client's decoder or mean something else.
    /// </summary>
    public static bool IsText(uint type) => type is 25 or 1043 or 1042 or 19 or 18 or 705;
}
