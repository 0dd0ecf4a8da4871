namespace Gatehouse.Protocols.Sql;

/// <summary>
/// PostgreSQL's lexical rules (src/backend/parser/scan.l, PostgreSQL 15) for a server running with
/// <c>standard_conforming_strings = on</c> and UTF-8, which the gateway enforces for every session: nested
/// <c>/* */</c> comments, <c>--</c> to the end of the line, '' strings without backslash escapes, E'' with them,
/// B'' X'' N'' U&amp;'' strings, "" and U&amp;"" identifiers, $tag$ dollar quotes, $n parameters. Whitespace is
/// exactly the server's (space, \t, \n, \r, \f); every byte of 0x80 and above is an identifier character, so a
/// no-break space before a key word glues it to a word just as the server does. Anything the server would
/// read differently, or that never ends, is an <see cref="SqlTokenKind.Error"/> and the lexer stops.
/// </summary>
internal ref struct PgLexer(ReadOnlySpan<byte> sql) : ISqlLexer
{
    private readonly ReadOnlySpan<byte> _sql = sql;
    private int _pos;
    private bool _failed;

    public readonly int Position => _pos;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public SqlToken Next()
    {
        if (_failed)
        {
            return new SqlToken(SqlTokenKind.End, _sql.Length, 0);
        }

        // Most tokens are a word after at most one space: take those without Scan's frame (its prologue alone
        // showed in perf), and leave every other whitespace, comment and token to it.
        var sql = _sql;
        var pos = _pos;
        if (pos < sql.Length && sql[pos] == ' ')
        {
            pos++;
        }

        _pos = pos;
        var token = pos < sql.Length && IsIdentStart(sql[pos]) ? ScanWord(pos) : Scan();
        if (token.Kind == SqlTokenKind.Error)
        {
            _failed = true;
            _pos = _sql.Length;
        }

        return token;
    }

    private SqlToken Scan()
    {
        var sql = _sql;
        var pos = _pos; // a local: the lexer lives in the caller's frame, and every store to it is a memory write
        while (true)
        {
            if (pos >= sql.Length)
            {
                _pos = pos;
                return new SqlToken(SqlTokenKind.End, sql.Length, 0);
            }

            var c = sql[pos];
            if (c is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\f')
            {
                pos++;
            }
            else if (c == '-' && At(pos + 1) == '-')
            {
                // -- runs to the end of the line (scan.l: comment = "--"{non_newline}*).
                pos += 2;
                while (pos < sql.Length && sql[pos] is not ((byte)'\n' or (byte)'\r'))
                {
                    pos++;
                }
            }
            else if (c == '/' && At(pos + 1) == '*')
            {
                _pos = pos;
                if (!SkipBlockComment())
                {
                    return Error(_pos);
                }

                pos = _pos;
            }
            else
            {
                break;
            }
        }

        _pos = pos;
        var start = _pos;
        var b = _sql[start];
        if (IsIdentStart(b))
        {
            return ScanWord(start);
        }

        if (b is >= (byte)'0' and <= (byte)'9' || (b == '.' && IsDigit(At(start + 1))))
        {
            return ScanNumber(start);
        }

        switch (b)
        {
            case (byte)'\'':
                return ScanQuoted(start, start, (byte)'\'', backslashEscapes: false, SqlTokenKind.String, SqlTokenFlags.None);
            case (byte)'"':
                return ScanQuoted(start, start, (byte)'"', backslashEscapes: false, SqlTokenKind.QuotedName, SqlTokenFlags.None);
            case (byte)'$':
                return ScanDollar(start);
        }

        if (b < 0x20 || b == 0x7F)
        {
            return Error(start); // the server makes a one-character token of it and fails; the gateway does not guess
        }

        _pos++;
        return new SqlToken(SqlTokenKind.Punct, start, 1, Char: b);
    }

    private SqlToken ScanWord(int start)
    {
        var sql = _sql;
        var end = start + 1;
        while (end < sql.Length && IsIdentContinue(sql[end]))
        {
            end++;
        }

        // A one-letter word right before a quote is a string prefix (flex takes the longest match, and
        // "E'" is longer than "E"); U& before a quote or double quote starts a Unicode literal.
        if (end - start == 1)
        {
            var prefix = (byte)(_sql[start] | 0x20);
            var next = At(end);
            if (next == '\'' && prefix is (byte)'e' or (byte)'b' or (byte)'x' or (byte)'n')
            {
                return ScanQuoted(start, end, (byte)'\'', backslashEscapes: prefix == 'e', SqlTokenKind.String, SqlTokenFlags.None);
            }

            if (prefix == 'u' && next == '&' && At(end + 1) is (byte)'\'' or (byte)'"')
            {
                var quote = _sql[end + 1];
                return ScanQuoted(start, end + 1, quote, backslashEscapes: false,
                    quote == '"' ? SqlTokenKind.QuotedName : SqlTokenKind.String, SqlTokenFlags.Unicode);
            }
        }

        _pos = end;
        return new SqlToken(SqlTokenKind.Word, start, end - start, Keywords.Lookup(_sql[start..end]));
    }

    /// <summary>
    /// A quoted literal from <paramref name="open"/> (the opening quote) on. A doubled quote stands for one;
    /// in E'' strings a backslash takes the next byte literally (so \' does not end the string).
    /// </summary>
    private SqlToken ScanQuoted(int start, int open, byte quote, bool backslashEscapes, SqlTokenKind kind, SqlTokenFlags flags)
    {
        var i = open + 1;
        while (i < _sql.Length)
        {
            var c = _sql[i];
            if (c == quote)
            {
                if (At(i + 1) == quote)
                {
                    flags |= SqlTokenFlags.Escaped;
                    i += 2;
                    continue;
                }

                if (kind == SqlTokenKind.QuotedName && i == open + 1)
                {
                    return Error(start); // zero-length delimited identifier
                }

                _pos = i + 1;
                if (backslashEscapes || (flags & SqlTokenFlags.Unicode) != 0)
                {
                    flags |= SqlTokenFlags.Escaped; // the value needs decoding whether or not it holds an escape
                }

                return new SqlToken(kind, start, _pos - start, Flags: flags, ValueStart: open + 1, ValueLength: i - open - 1);
            }

            if (c == '\\' && backslashEscapes)
            {
                flags |= SqlTokenFlags.Escaped;
                i += 2;
                continue;
            }

            i++;
        }

        return Error(start);
    }

    private SqlToken ScanDollar(int start)
    {
        if (IsDigit(At(start + 1)))
        {
            var end = start + 1;
            while (end < _sql.Length && IsDigit(_sql[end]))
            {
                end++;
            }

            _pos = end;
            return new SqlToken(SqlTokenKind.Parameter, start, end - start);
        }

        // $tag$ ... $tag$ where the tag is an identifier without '$' (scan.l dolqdelim).
        var tagEnd = start + 1;
        if (tagEnd < _sql.Length && IsIdentStart(_sql[tagEnd]))
        {
            tagEnd++;
            while (tagEnd < _sql.Length && _sql[tagEnd] != '$' && IsIdentContinue(_sql[tagEnd]))
            {
                tagEnd++;
            }
        }

        if (At(tagEnd) != '$')
        {
            _pos = start + 1; // a lone '$' (scan.l dolqfailed): one character, as the server reads it
            return new SqlToken(SqlTokenKind.Punct, start, 1, Char: (byte)'$');
        }

        var delimiter = _sql[start..(tagEnd + 1)];
        var bodyStart = tagEnd + 1;
        var close = _sql[bodyStart..].IndexOf(delimiter);
        if (close < 0)
        {
            return Error(start);
        }

        _pos = bodyStart + close + delimiter.Length;
        return new SqlToken(SqlTokenKind.String, start, _pos - start, ValueStart: bodyStart, ValueLength: close);
    }

    private SqlToken ScanNumber(int start)
    {
        var i = start;
        while (IsDigit(At(i)))
        {
            i++;
        }

        // "1..2" is 1 followed by ".." (scan.l decimalfail): the dot is taken only when another dot does not follow.
        if (At(i) == '.' && At(i + 1) != '.')
        {
            i++;
            while (IsDigit(At(i)))
            {
                i++;
            }
        }

        if ((At(i) | 0x20) == 'e')
        {
            var j = i + 1;
            if (At(j) is (byte)'+' or (byte)'-')
            {
                j++;
            }

            if (IsDigit(At(j)))
            {
                i = j;
                while (IsDigit(At(i)))
                {
                    i++;
                }
            }
        }

        // Letters right after a number start a new word in PostgreSQL 15 (16 calls it trailing junk): "1drop" is 1, drop.
        _pos = i;
        return new SqlToken(SqlTokenKind.Number, start, i - start);
    }

    /// <summary>Nested block comments (scan.l xc): each /* opens one more level.</summary>
    private bool SkipBlockComment()
    {
        var depth = 0;
        var i = _pos;
        while (i < _sql.Length - 1)
        {
            if (_sql[i] == '/' && _sql[i + 1] == '*')
            {
                depth++;
                i += 2;
            }
            else if (_sql[i] == '*' && _sql[i + 1] == '/')
            {
                depth--;
                i += 2;
                if (depth == 0)
                {
                    _pos = i;
                    return true;
                }
            }
            else
            {
                i++;
            }
        }

        return false;
    }

    private SqlToken Error(int start)
    {
        _pos = _sql.Length;
        return new SqlToken(SqlTokenKind.Error, start, _sql.Length - start);
    }

    private readonly int At(int index) => index < _sql.Length ? _sql[index] : -1;

    private static bool IsDigit(int b) => b is >= '0' and <= '9';

    private static bool IsIdentStart(byte b) => (CharClass[b] & Start) != 0;

    private static bool IsIdentContinue(byte b) => (CharClass[b] & Continue) != 0;

    private const byte Start = 1;
    private const byte Continue = 2;

    /// <summary>scan.l ident_start [A-Za-z-ÿ_] and ident_cont (those, digits and '$'), one lookup per byte.</summary>
    private static ReadOnlySpan<byte> CharClass =>
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0,
        0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 3,
        0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 0, 0,
        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
        3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    ];

    /// <summary>
    /// The value of a quoted identifier ("a""b" → a"b, U&amp;"d\0061t\+000061" → data). Returns false for what
    /// it cannot decode exactly (an escape it does not know, or a U&amp; name followed by UESCAPE, which the caller checks).
    /// </summary>
    public readonly string? DecodeName(in SqlToken token, scoped Span<byte> destination)
        => TryDecodeName(_sql, token, destination, out var written) ? System.Text.Encoding.UTF8.GetString(destination[..written]) : null;

    public static bool TryDecodeName(ReadOnlySpan<byte> sql, in SqlToken token, Span<byte> destination, out int written)
    {
        var value = sql.Slice(token.ValueStart, token.ValueLength);
        written = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '"')
            {
                i++; // the second of a doubled quote
            }
            else if (c == '\\' && (token.Flags & SqlTokenFlags.Unicode) != 0)
            {
                if (!TryUnicodeEscape(value, ref i, destination, ref written))
                {
                    return false;
                }

                continue;
            }

            if (written >= destination.Length)
            {
                return false;
            }

            destination[written++] = c;
        }

        return true;
    }

    private static bool TryUnicodeEscape(ReadOnlySpan<byte> value, ref int i, Span<byte> destination, ref int written)
    {
        if (i + 1 < value.Length && value[i + 1] == '\\')
        {
            i++;
            if (written >= destination.Length)
            {
                return false;
            }

            destination[written++] = (byte)'\\';
            return true;
        }

        var digits = i + 1 < value.Length && value[i + 1] == '+' ? 6 : 4;
        var from = i + (digits == 6 ? 2 : 1);
        if (from + digits > value.Length || !int.TryParse(value.Slice(from, digits), System.Globalization.NumberStyles.HexNumber, null, out var code)
            || !System.Text.Rune.TryCreate(code, out var rune) || written + rune.Utf8SequenceLength > destination.Length)
        {
            return false;
        }

        written += rune.EncodeToUtf8(destination[written..]);
        i = from + digits - 1;
        return true;
    }
}
