namespace Gatehouse.Proxy.Core.Policy;

/// <summary>
/// One session's recently classified texts. Applications send the same few statement texts over and over
/// (a pool's prepared queries, an ORM's generated SQL), and a text's classification depends on nothing but
/// its bytes, so a repeated text is not read again. A hit is the exact same bytes (compared whole, never by
/// hash alone); small texts only and few of them, so a session holds at most about 20 KiB here.
/// </summary>
internal sealed class ClassificationCache
{
    public const int MaxTextBytes = 512;
    private const int Capacity = 32;

    private Dictionary<int, Entry>? _entries; // made on first use: a session that sends no statement holds nothing

    private sealed record Entry(byte[] Text, ClassifiedStatement[] Statements, string[] Objects);

    /// <summary>Fills <paramref name="result"/> from the cache and gives the cached copy of the text; false when this exact text is not there.</summary>
    public bool TryFill(ReadOnlySpan<byte> sql, int hash, SqlClassification result, out byte[]? text)
    {
        text = null;
        if (_entries is null || !_entries.TryGetValue(hash, out var entry) || !sql.SequenceEqual(entry.Text))
        {
            return false;
        }

        text = entry.Text;
        result.Statements.AddRange(entry.Statements);
        result.Objects.AddRange(entry.Objects);
        return true;
    }

    /// <summary>Keeps the text's classification; returns the cached copy of the text, or null when it is too long to keep.</summary>
    public byte[]? Add(ReadOnlySpan<byte> sql, int hash, SqlClassification result)
    {
        if (sql.Length > MaxTextBytes)
        {
            return null;
        }

        _entries ??= new Dictionary<int, Entry>(Capacity);
        if (_entries.Count >= Capacity)
        {
            _entries.Clear(); // a session whose texts keep changing gains nothing from keeping old ones
        }

        var text = sql.ToArray();
        _entries[hash] = new Entry(text, [.. result.Statements], [.. result.Objects]);
        return text;
    }

    public static int Hash(ReadOnlySpan<byte> sql)
    {
        var hash = default(HashCode); // seeded per process, so texts cannot be chosen to collide
        hash.AddBytes(sql);
        return hash.ToHashCode();
    }
}
