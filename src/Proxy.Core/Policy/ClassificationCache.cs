namespace Gatehouse.Proxy.Core.Policy;

/// <summary>
/// One session's recently classified texts. Applications send the same few statement texts over and over
/// (a pool's prepared queries, an ORM's generated SQL), and a text's classification depends on nothing but
/// its bytes, so a repeated text is not read again. A hit is the exact same bytes (compared whole, never by
/// hash alone); small texts only and few of them, so a session holds at most about 20 KiB here.
/// A session whose texts never repeat (values written into the SQL, as pgbench's simple protocol does) gains
/// nothing from it and paid a hash and four allocations a statement: after a whole cache's worth of misses in a
/// row it looks up and keeps only every 16th text, and goes back to every text at its first hit.
/// </summary>
internal sealed class ClassificationCache
{
    public const int MaxTextBytes = 512;
    private const int Capacity = 32;
    private const int SampleEvery = 16; // once texts stop repeating: one in this many is looked up and kept

    private Dictionary<int, Entry>? _entries; // made on first use: a session that sends no statement holds nothing
    private int _missesInARow;
    private int _skipped;

    /// <summary>Whether to look <paramref name="sql"/> up (and keep it when missing): false for long texts, and for most texts of a session whose texts do not repeat.</summary>
    public bool ShouldLookUp(ReadOnlySpan<byte> sql)
    {
        if (sql.Length > MaxTextBytes)
        {
            return false;
        }

        if (_missesInARow < Capacity || ++_skipped >= SampleEvery)
        {
            _skipped = 0;
            return true;
        }

        return false;
    }

    private sealed record Entry(byte[] Text, ClassifiedStatement[] Statements, string[] Objects);

    /// <summary>Fills <paramref name="result"/> from the cache and gives the cached copy of the text; false when this exact text is not there.</summary>
    public bool TryFill(ReadOnlySpan<byte> sql, int hash, SqlClassification result, out byte[]? text)
    {
        text = null;
        if (_entries is null || !_entries.TryGetValue(hash, out var entry) || !sql.SequenceEqual(entry.Text))
        {
            return false;
        }

        _missesInARow = 0;
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

        _missesInARow++;
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
