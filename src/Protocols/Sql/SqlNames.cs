using System.Text;

namespace Gatehouse.Protocols.Sql;

/// <summary>
/// Turns the tokens of a (possibly qualified) object name into the string policy rules match, and interns it
/// per session: an application names the same few tables over and over, so after its first statements the
/// classifier allocates nothing for names. The cache is bounded so hostile clients cannot grow it.
/// </summary>
[System.Runtime.CompilerServices.SkipLocalsInit]
internal sealed class SqlNames
{
    private const int MaxCached = 2048;
    private const int MaxNameBytes = 512;

    private readonly Dictionary<string, string> _cache = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> _lookup;

    public SqlNames() => _lookup = _cache.GetAlternateLookup<ReadOnlySpan<char>>();

    /// <summary>The interned string for a name already normalised to UTF-8 bytes.</summary>
    public string Intern(ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > MaxNameBytes)
        {
            return Encoding.UTF8.GetString(utf8);
        }

        Span<char> chars = stackalloc char[MaxNameBytes];
        var count = Encoding.UTF8.GetChars(utf8, chars);
        var name = chars[..count];
        if (_lookup.TryGetValue(name, out var known))
        {
            return known;
        }

        var created = name.ToString();
        if (_cache.Count < MaxCached)
        {
            _cache[created] = created;
        }

        return created;
    }
}
