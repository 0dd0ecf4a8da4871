using System.Text;

namespace Gatehouse.Proxy.Core.Masking;

/// <summary>
/// The identifier-like words of any text: unquoted words folded to lower case, "quoted" and `quoted` names as
/// written. Strict mode reads string literals with it, since a string may be SQL a function runs
/// (<c>query_to_xml('select card ...')</c>), and a word in a literal only costs an over-cautious mask.
/// </summary>
public ref struct SqlIdentifiers(ReadOnlySpan<byte> sql)
{
    private readonly ReadOnlySpan<byte> _sql = sql;
    private int _at;

    public string Current { get; private set; } = "";

    public readonly SqlIdentifiers GetEnumerator() => this;

    public bool MoveNext()
    {
        while (_at < _sql.Length)
        {
            var b = _sql[_at];
            if (b is (byte)'"' or (byte)'`')
            {
                var end = _sql[(_at + 1)..].IndexOf(b);
                var name = end < 0 ? _sql[(_at + 1)..] : _sql.Slice(_at + 1, end);
                _at += name.Length + 2;
                if (name.Length > 0)
                {
                    Current = Encoding.UTF8.GetString(name);
                    return true;
                }

                continue;
            }

            if (!IsWordByte(b))
            {
                _at++;
                continue;
            }

            var start = _at;
            while (_at < _sql.Length && IsWordByte(_sql[_at]))
            {
                _at++;
            }

            if (!char.IsAsciiDigit((char)b)) // a run starting with a digit is a number, not a name
            {
                Current = Encoding.UTF8.GetString(_sql[start.._at]).ToLowerInvariant();
                return true;
            }
        }

        return false;
    }

    // Non-ASCII bytes belong to words: PostgreSQL and MySQL both allow letters beyond ASCII in names.
    private static bool IsWordByte(byte b) => b >= 0x80 || char.IsAsciiLetterOrDigit((char)b) || b is (byte)'_' or (byte)'$';
}
