using System.Text;

namespace Gatehouse.Protocols.MySql.Masking;

/// <summary>
/// One column definition of a result (Protocol::ColumnDefinition41): where the value comes from — schema,
/// org_table and org_name, which aliases do not change — and how it is encoded (type, character set).
/// A derived column (an expression, a UNION) has an empty <see cref="OrgTable"/>.
/// </summary>
internal readonly record struct MySqlColumn(string Schema, string OrgTable, string Name, string OrgName, ushort Charset, MySqlType Type)
{
    /// <summary>The binary pseudo character set: the value is bytes, not text.</summary>
    public const ushort BinaryCharset = 63;

    public bool IsDerived => OrgTable.Length == 0;

    /// <summary>Parses a column definition packet's payload; null when malformed.</summary>
    public static MySqlColumn? Parse(ReadOnlySpan<byte> payload)
    {
        var reader = new MySqlPayloadReader(payload);
        if (!reader.TryLengthEncodedBytes(out _) // catalog, always "def"
            || !reader.TryLengthEncodedBytes(out var schema)
            || !reader.TryLengthEncodedBytes(out _) // table as written (its alias)
            || !reader.TryLengthEncodedBytes(out var orgTable)
            || !reader.TryLengthEncodedBytes(out var name)
            || !reader.TryLengthEncodedBytes(out var orgName)
            || !reader.TryLengthEncoded(out var fixedLength) || fixedLength < 0x0A
            || !reader.TryUInt16(out var charset)
            || !reader.TrySkip(4) // column length
            || !reader.TryByte(out var type))
        {
            return null;
        }

        return new MySqlColumn(Encoding.UTF8.GetString(schema), Encoding.UTF8.GetString(orgTable), Encoding.UTF8.GetString(name),
            Encoding.UTF8.GetString(orgName), charset, (MySqlType)type);
    }

    /// <summary>
    /// Whether a masked string can stand in for the value: the string types (text and binary strings, ENUM,
    /// SET, JSON). Any other type is masked to NULL, because "****" in an INT or a DATETIME would break the
    /// client's decoder or mean something else.
    /// </summary>
    public bool IsString => Type is MySqlType.VarChar or MySqlType.VarString or MySqlType.String or MySqlType.TinyBlob or MySqlType.MediumBlob
        or MySqlType.LongBlob or MySqlType.Blob or MySqlType.Enum or MySqlType.Set or MySqlType.Json;

    /// <summary>Text the detectors can read: string types not in the binary character set.</summary>
    public bool IsText => IsString && Charset != BinaryCharset;
}

/// <summary>Column types of the MySQL protocol (enum_field_types), which decide a binary row value's encoding.</summary>
internal enum MySqlType : byte
{
    Decimal = 0, Tiny = 1, Short = 2, Long = 3, Float = 4, Double = 5, Null = 6, Timestamp = 7, LongLong = 8, Int24 = 9,
    Date = 10, Time = 11, DateTime = 12, Year = 13, NewDate = 14, VarChar = 15, Bit = 16, Timestamp2 = 17, DateTime2 = 18, Time2 = 19,
    Json = 245, NewDecimal = 246, Enum = 247, Set = 248, TinyBlob = 249, MediumBlob = 250, LongBlob = 251, Blob = 252,
    VarString = 253, String = 254, Geometry = 255,
}
