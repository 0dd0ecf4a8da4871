using System.Buffers;
using System.Text;

namespace Gatehouse.Protocols.Sql;

/// <summary>
/// Splits MySQL/MariaDB SQL text (UTF-8, as on the wire) into tokens the way the servers' own lexers do
/// (<c>lex_one_token</c> in sql/sql_lex.cc of MySQL 8 and MariaDB 10.11), so the classifier sees what the
/// server will execute. Where the two servers differ, or a text can be read two ways, it returns an
/// <see cref="SqlTokenKind.Error"/> token rather than pick one: the classifier refuses what it cannot read.
/// <list type="bullet">
/// <item>Executable comments (<c>/*!</c>, <c>/*!NNNNN</c>, <c>/*M!</c>, <c>/*M!NNNNNN</c>) are always read as
/// executed, whatever the version: a server that skips them reads less, never more. A server that skips one
/// ends it at the first <c>*/</c>, so a token or line comment inside that covers that <c>*/</c> is an Error,
/// and so is any <c>/*</c> inside.</item>
/// <item><c>/*+ hint */</c> is an ordinary comment, but MySQL 8 scans hints honouring quotes: a hint whose
/// quotes hide the first <c>*/</c> is an Error.</item>
/// <item>A word directly followed by <c>.</c> and a name byte, and the word after such a <c>.</c> (or after any
/// <c>.</c> not part of a number), is a name to the server, never a key word (<c>MY_LEX_IDENT_SEP</c>): such
/// words get <see cref="Keyword.None"/>, and after the dot even digits make a Word (<c>t.1e5</c>).</item>
/// <item>Numbers: a digit run followed by a name byte is a word (<c>123abc</c>, <c>1ex</c>, <c>0x1G</c>,
/// <c>0X1F</c>, <c>0b12</c>), except that an exponent ends a number: <c>1e5x</c> is Number <c>1e5</c> then
/// Word <c>x</c>, as in the server. <c>1.5e</c> and <c>.5e+</c> (an exponent without digits) are an Error:
/// the server returns a stray character token there.</item>
/// <item>A charset introducer (<c>_utf8mb4'x'</c>) is a Word followed by a separate String.</item>
/// <item><c>@@global.x</c> is Variable <c>@@global</c> (its <see cref="SqlToken.Keyword"/> says Global), Punct
/// <c>.</c>, Word <c>x</c> — the server's own split. <c>@x.y</c> is one Variable (the server reads user
/// variable names with dots).</item>
/// <item>MariaDB's <c>\N</c> (NULL) is one Word with <see cref="Keyword.Null"/>.</item>
/// <item>Bytes of 0x80 and up in a word must be well-formed UTF-8 (MariaDB ends the word at a malformed
/// sequence and fails to parse): otherwise Error. The lexer assumes a connection character set in which no
/// multi-byte character contains an ASCII byte (utf8mb4, utf8mb3, latin1, binary — not sjis, gbk, big5).</item>
/// </list>
/// Tokens of quoted things carry the text between the quotes in <see cref="SqlToken.ValueStart"/> and
/// <see cref="SqlToken.ValueLength"/> (a Word's value is the word itself); <see cref="Decode"/> gives the value.
/// </summary>
internal ref struct MySqlLexer : ISqlLexer
{
    private static readonly SearchValues<byte> HexDigits = SearchValues.Create("0123456789abcdefABCDEF"u8);

    private readonly ReadOnlySpan<byte> _sql;
    private readonly bool _noBackslashEscapes;
    private readonly bool _ansiQuotes;
    private readonly bool _skipConditional;
    private int _pos;
    private int _executableEnd = -1; // where the open executable comment's "*/" starts; -1 outside one
    private After _after;            // what the previous token makes of the next byte (MY_LEX_IDENT_SEP)
    private bool _done;

    /// <param name="skipConditional">
    /// Read versioned (<c>/*!NNNNN</c>) and MariaDB-only (<c>/*M!</c>) comments as plain comments, as a server
    /// whose version or kind they do not match does (MariaDB skips 50700-99999 and anything newer than itself).
    /// </param>
    public MySqlLexer(ReadOnlySpan<byte> sql, bool noBackslashEscapes = false, bool ansiQuotes = false, bool skipConditional = false)
    {
        _sql = sql;
        _noBackslashEscapes = noBackslashEscapes;
        _ansiQuotes = ansiQuotes;
        _skipConditional = skipConditional;
    }

    /// <summary>The byte offset just after the last token returned (or comment skipped).</summary>
    public readonly int Position => _pos;

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public SqlToken Next()
    {
        if (_done)
        {
            return new SqlToken(SqlTokenKind.End, _sql.Length, 0);
        }

        var after = _after;
        _after = After.Nothing;
        if (!SkipPlainSpace() && !SkipSpaceAndComments(out var error))
        {
            return Fail(error);
        }

        if (_pos >= _sql.Length)
        {
            _done = true;
            return new SqlToken(SqlTokenKind.End, _sql.Length, 0);
        }

        var start = _pos;
        SqlToken token;
        if (after == After.Separator && _sql[start] == '.')
        {
            // A dot joined to a name separates names: never the start of a number (t.5 is t . 5).
            token = new SqlToken(SqlTokenKind.Punct, start, 1, Char: (byte)'.');
            _after = start + 1 < _sql.Length && IsNameByte(_sql[start + 1]) ? After.Name : After.Nothing;
        }
        else
        {
            token = after == After.Name && IsNameByte(_sql[start]) ? LexNameAfterDot(start) : LexToken(start);
        }

        if (token.Kind == SqlTokenKind.Error)
        {
            return Fail(token.Start);
        }

        // A skipped executable comment ends at its first "*/": a token over it reads differently there.
        if (_executableEnd >= 0)
        {
            if (token.End > _executableEnd)
            {
                return Fail(start);
            }

            token = token with { Flags = token.Flags | SqlTokenFlags.Executable };
        }

        _pos = token.End;
        return token;
    }

    /// <summary>
    /// Writes the value of a String, QuotedName, Variable or Word token into <paramref name="destination"/>
    /// (at least <see cref="SqlToken.ValueLength"/> bytes) and returns its length: doubled quotes and (for
    /// strings, unless <paramref name="noBackslashEscapes"/>) backslash escapes undone, X'..' and B'..' turned
    /// into their bytes. A Variable's <see cref="SqlToken.Char"/> says how its name is quoted: '\'' string rules,
    /// '`' name rules, 0 not quoted. Other tokens have no value (0).
    /// </summary>
    public readonly string? DecodeName(in SqlToken token, scoped Span<byte> destination)
        => token.ValueLength <= destination.Length ? System.Text.Encoding.UTF8.GetString(destination[..Decode(_sql, token, destination, _noBackslashEscapes)]) : null;

    public static int Decode(ReadOnlySpan<byte> sql, in SqlToken token, Span<byte> destination, bool noBackslashEscapes = false)
    {
        var value = sql.Slice(token.ValueStart, token.ValueLength);
        if (destination.Length < value.Length)
        {
            throw new ArgumentException("The destination is shorter than the token's value.", nameof(destination));
        }

        if (token.ValueLength == 0)
        {
            return 0;
        }

        switch (token.Kind)
        {
            case SqlTokenKind.String when (sql[token.Start] | 0x20) == 'x':
                return DecodeHex(value, destination);
            case SqlTokenKind.String when (sql[token.Start] | 0x20) == 'b':
                return DecodeBits(value, destination);
            case SqlTokenKind.String:
            case SqlTokenKind.QuotedName:
            case SqlTokenKind.Variable:
                if ((token.Flags & SqlTokenFlags.Escaped) == 0)
                {
                    break;
                }

                var quote = sql[token.ValueStart - 1];
                var backslashes = !noBackslashEscapes
                    && (token.Kind == SqlTokenKind.String || (token.Kind == SqlTokenKind.Variable && token.Char == '\''));
                return Unescape(value, quote, backslashes, destination);
            case SqlTokenKind.Word:
                break;
            default:
                return 0;
        }

        value.CopyTo(destination);
        return value.Length;
    }

    private SqlToken Fail(int at)
    {
        _done = true;
        _pos = _sql.Length;
        return new SqlToken(SqlTokenKind.Error, at, _sql.Length - at);
    }

    /// <summary>
    /// The common case, kept small enough to inline: whitespace, then a byte that starts a token. False when a
    /// comment, the end of the text or of an executable comment may follow: <see cref="SkipSpaceAndComments"/> decides.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private bool SkipPlainSpace()
    {
        var sql = _sql;
        var pos = _pos;
        while (pos < sql.Length && IsSpace(sql[pos]))
        {
            pos++;
        }

        _pos = pos;
        return pos < sql.Length && pos != _executableEnd && sql[pos] is not ((byte)'#' or (byte)'-' or (byte)'/');
    }

    /// <summary>Skips whitespace and comments, opening and closing executable comments; false with the error's offset.</summary>
    private bool SkipSpaceAndComments(out int error)
    {
        var sql = _sql;
        while (true)
        {
            while (_pos < sql.Length && IsSpace(sql[_pos]))
            {
                _pos++;
            }

            error = _pos;
            if (_pos >= sql.Length)
            {
                // An executable comment left open: both servers call that a syntax error.
                return _executableEnd < 0;
            }

            if (_pos == _executableEnd)
            {
                _pos += 2;
                _executableEnd = -1;
                continue;
            }

            var c = sql[_pos];
            var next = _pos + 1 < sql.Length ? sql[_pos + 1] : -1;
            if (c == '#' || (c == '-' && next == '-' && (_pos + 2 >= sql.Length || sql[_pos + 2] <= ' ' || sql[_pos + 2] == 0x7F)))
            {
                // Both servers end a line comment at a NUL too; the NUL is then an Error token.
                var end = _pos;
                while (end < sql.Length && sql[end] != '\n' && sql[end] != 0)
                {
                    end++;
                }

                if (_executableEnd >= 0 && end > _executableEnd)
                {
                    return false;
                }

                _pos = end;
                continue;
            }

            if (c != '/' || next != '*')
            {
                return true;
            }

            if (_executableEnd >= 0)
            {
                return false; // nested comments inside an executable comment read differently per server and version
            }

            var close = sql[(_pos + 2)..].IndexOf("*/"u8);
            if (close < 0)
            {
                return false;
            }

            close += _pos + 2;
            var body = _pos + 2;
            if (body < sql.Length && (sql[body] == '!' || (sql[body] == 'M' && body + 1 < sql.Length && sql[body + 1] == '!')))
            {
                var mariaDbOnly = sql[body] == 'M';
                body += mariaDbOnly ? 2 : 1;
                var afterVersion = SkipVersion(sql, body);
                if (_skipConditional && (mariaDbOnly || afterVersion != body))
                {
                    _pos = close + 2;
                    continue;
                }

                body = afterVersion;
                _executableEnd = close;
                _pos = Math.Min(body, close);
                continue;
            }

            if (body < sql.Length && sql[body] == '+' && HintEnd(sql, body + 1) != close)
            {
                return false;
            }

            _pos = close + 2;
        }
    }

    /// <summary>Skips a 5-digit version and a 6th digit if there is one (MariaDB reads 6, MySQL 8 6 before a space).</summary>
    private static int SkipVersion(ReadOnlySpan<byte> sql, int at)
    {
        var digits = 0;
        while (digits < 6 && at + digits < sql.Length && IsDigit(sql[at + digits]))
        {
            digits++;
        }

        return digits >= 5 ? at + digits : at;
    }

    /// <summary>Where MySQL 8's hint scanner, which skips quoted text, finds the hint's "*/"; -1 if nowhere.</summary>
    private static int HintEnd(ReadOnlySpan<byte> sql, int at)
    {
        for (var i = at; i < sql.Length; i++)
        {
            var c = sql[i];
            if (c == '*' && i + 1 < sql.Length && sql[i + 1] == '/')
            {
                return i;
            }

            if (c is (byte)'\'' or (byte)'"' or (byte)'`')
            {
                var closing = sql[(i + 1)..].IndexOf(c);
                if (closing < 0)
                {
                    return -1;
                }

                i += closing + 1; // a doubled quote is two quoted runs back to back: the same end
            }
        }

        return -1;
    }

    private SqlToken LexToken(int start)
    {
        var sql = _sql;
        var c = sql[start];
        var next = start + 1 < sql.Length ? sql[start + 1] : -1;
        switch (c)
        {
            case (byte)'\'':
                return LexString(start, start, SqlTokenKind.String);
            case (byte)'"':
                return _ansiQuotes ? LexDelimited(start, start, SqlTokenKind.QuotedName) : LexString(start, start, SqlTokenKind.String);
            case (byte)'`':
                return LexDelimited(start, start, SqlTokenKind.QuotedName);
            case (byte)'@':
                return LexVariable(start);
            case (byte)'?':
                return new SqlToken(SqlTokenKind.Parameter, start, 1);
            case (byte)'.':
                if (next >= 0 && IsDigit((byte)next))
                {
                    return LexFraction(start, start + 1);
                }

                _after = next >= 0 && IsNameByte((byte)next) ? After.Name : After.Nothing;
                return new SqlToken(SqlTokenKind.Punct, start, 1, Char: c);
            case (byte)'\\' when next == 'N':
                return new SqlToken(SqlTokenKind.Word, start, 2, Keyword.Null, ValueStart: start, ValueLength: 2);
            case (byte)'x' or (byte)'X' when next == '\'':
                return LexHexOrBits(start, hex: true);
            case (byte)'b' or (byte)'B' when next == '\'':
                return LexHexOrBits(start, hex: false);
            case (byte)'n' or (byte)'N' when next == '\'':
                return LexString(start, start + 1, SqlTokenKind.String);
        }

        if (IsDigit(c))
        {
            return LexNumber(start);
        }

        if (IsNameByte(c))
        {
            var end = ScanName(start);
            if (end < 0)
            {
                return Error(start);
            }

            return WordAt(start, end, keyword: true);
        }

        if (c < ' ' || c == 0x7F)
        {
            return Error(start);
        }

        return new SqlToken(SqlTokenKind.Punct, start, 1, Char: c);
    }

    /// <summary>After a '.', the server reads a name whatever it spells (MY_LEX_IDENT_START): digits too, no key words.</summary>
    private SqlToken LexNameAfterDot(int start)
    {
        var end = ScanName(start);
        return end < 0 ? Error(start) : WordAt(start, end, keyword: false);
    }

    /// <param name="keyword">Whether the word may be a key word; a word joined to a following '.' never is.</param>
    private SqlToken WordAt(int start, int end, bool keyword)
    {
        if (JoinedToDot(end))
        {
            _after = After.Separator;
            keyword = false;
        }

        var kw = keyword ? Keywords.Lookup(_sql[start..end]) : Keyword.None;
        return new SqlToken(SqlTokenKind.Word, start, end - start, kw, ValueStart: start, ValueLength: end - start);
    }

    /// <summary>A name directly followed by '.' and a name byte: the server neither looks it up as a key word nor the next one.</summary>
    private readonly bool JoinedToDot(int end) => end + 1 < _sql.Length && _sql[end] == '.' && IsNameByte(_sql[end + 1]);

    /// <summary>The end of the name bytes from <paramref name="at"/>; -1 if a byte of 0x80 and up is not well-formed UTF-8.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private readonly int ScanName(int at)
    {
        var sql = _sql;
        var i = at;
        while (i < sql.Length && (CharClass[sql[i]] & AsciiName) != 0)
        {
            i++; // the common case, one table test per byte
        }

        return i < sql.Length && sql[i] >= 0x80 ? ScanNonAsciiName(i) : i;
    }

    private readonly int ScanNonAsciiName(int at)
    {
        var sql = _sql;
        var i = at;
        while (i < sql.Length && IsNameByte(sql[i]))
        {
            if (sql[i] < 0x80)
            {
                i++;
                continue;
            }

            if (Rune.DecodeFromUtf8(sql[i..], out _, out var consumed) != OperationStatus.Done)
            {
                return -1;
            }

            i += consumed;
        }

        return i;
    }

    private SqlToken LexNumber(int start)
    {
        var sql = _sql;
        var i = start;
        if (sql[i] == '0' && i + 1 < sql.Length && sql[i + 1] is (byte)'x' or (byte)'b')
        {
            // 0x1F and 0b101 only in lower case, and only if no name byte follows: 0x1G, 0X1F, 0b2 are words.
            var hex = sql[i + 1] == 'x';
            var j = i + 2;
            while (j < sql.Length && (hex ? HexDigits.Contains(sql[j]) : sql[j] is (byte)'0' or (byte)'1'))
            {
                j++;
            }

            if (j - i >= 3 && !IsNameAt(j))
            {
                return new SqlToken(SqlTokenKind.Number, start, j - start);
            }

            return WordFromDigits(start);
        }

        while (i < sql.Length && IsDigit(sql[i]))
        {
            i++;
        }

        if (!IsNameAt(i))
        {
            // MariaDB keeps "1..10" (a FOR range) an integer; MySQL would read "1." then ".10".
            if (i < sql.Length && sql[i] == '.' && !(i + 1 < sql.Length && sql[i + 1] == '.'))
            {
                return LexFraction(start, i + 1);
            }

            return new SqlToken(SqlTokenKind.Number, start, i - start);
        }

        if (sql[i] is (byte)'e' or (byte)'E')
        {
            var j = i + 1;
            if (j < sql.Length && sql[j] is (byte)'+' or (byte)'-')
            {
                j++;
            }

            if (j < sql.Length && IsDigit(sql[j]))
            {
                // The exponent ends the number even if name bytes follow: 1e5x is 1e5 then x.
                while (j < sql.Length && IsDigit(sql[j]))
                {
                    j++;
                }

                return new SqlToken(SqlTokenKind.Number, start, j - start);
            }
        }

        return WordFromDigits(start);
    }

    /// <summary>A word that starts with digits (the server's MY_LEX_IDENT_START: no key word look-up).</summary>
    private SqlToken WordFromDigits(int start)
    {
        var end = ScanName(start);
        return end < 0 ? Error(start) : WordAt(start, end, keyword: false);
    }

    /// <summary>The part of a number from just after its '.': digits, then an optional exponent that must have digits.</summary>
    private readonly SqlToken LexFraction(int start, int at)
    {
        var sql = _sql;
        var i = at;
        while (i < sql.Length && IsDigit(sql[i]))
        {
            i++;
        }

        if (i < sql.Length && sql[i] is (byte)'e' or (byte)'E')
        {
            i++;
            if (i < sql.Length && sql[i] is (byte)'+' or (byte)'-')
            {
                i++;
            }

            if (i >= sql.Length || !IsDigit(sql[i]))
            {
                return Error(start); // the server returns a stray character token: nothing parses after it
            }

            while (i < sql.Length && IsDigit(sql[i]))
            {
                i++;
            }
        }

        return new SqlToken(SqlTokenKind.Number, start, i - start);
    }

    /// <summary>X'..' (an even number of hex digits) or B'..' (binary digits): anything else is an error to the server.</summary>
    private readonly SqlToken LexHexOrBits(int start, bool hex)
    {
        var sql = _sql;
        var i = start + 2;
        while (i < sql.Length && (hex ? HexDigits.Contains(sql[i]) : sql[i] is (byte)'0' or (byte)'1'))
        {
            i++;
        }

        var digits = i - start - 2;
        if (i >= sql.Length || sql[i] != '\'' || (hex && digits % 2 != 0))
        {
            return Error(start);
        }

        return new SqlToken(SqlTokenKind.String, start, i + 1 - start, ValueStart: start + 2, ValueLength: digits);
    }

    /// <summary>A string from its opening quote at <paramref name="quoteAt"/>: doubled quotes and backslash escapes.</summary>
    private readonly SqlToken LexString(int start, int quoteAt, SqlTokenKind kind)
    {
        var sql = _sql;
        var quote = sql[quoteAt];
        var flags = SqlTokenFlags.None;
        var i = quoteAt + 1;
        while (i < sql.Length)
        {
            var c = sql[i];
            if (c == '\\' && !_noBackslashEscapes)
            {
                flags = SqlTokenFlags.Escaped;
                i += 2;
                continue;
            }

            if (c == quote)
            {
                if (i + 1 < sql.Length && sql[i + 1] == quote)
                {
                    flags = SqlTokenFlags.Escaped;
                    i += 2;
                    continue;
                }

                return new SqlToken(kind, start, i + 1 - start, Flags: flags, ValueStart: quoteAt + 1, ValueLength: i - quoteAt - 1);
            }

            i++;
        }

        return Error(start);
    }

    /// <summary>A `name` (or "name" under ANSI_QUOTES): doubled quotes only; empty, unterminated or holding a NUL is an error.</summary>
    private readonly SqlToken LexDelimited(int start, int quoteAt, SqlTokenKind kind)
    {
        var sql = _sql;
        var quote = sql[quoteAt];
        var flags = SqlTokenFlags.None;
        var i = quoteAt + 1;
        while (i < sql.Length && sql[i] != 0)
        {
            if (sql[i] == quote)
            {
                if (i + 1 < sql.Length && sql[i + 1] == quote)
                {
                    flags = SqlTokenFlags.Escaped;
                    i += 2;
                    continue;
                }

                var length = i - quoteAt - 1;
                return length == 0
                    ? Error(start)
                    : new SqlToken(kind, start, i + 1 - start, Flags: flags, ValueStart: quoteAt + 1, ValueLength: length);
            }

            i++;
        }

        return Error(start);
    }

    private SqlToken LexVariable(int start)
    {
        var sql = _sql;
        var at = start + 1;
        var c = at < sql.Length ? sql[at] : -1;
        switch (c)
        {
            case '\'':
            case '"' when !_ansiQuotes:
                return AsVariable(LexString(start, at, SqlTokenKind.Variable), '\'');
            case '`':
            case '"':
                return AsVariable(LexDelimited(start, at, SqlTokenKind.Variable), '`');
            case '@':
                at++;
                if (at < sql.Length && sql[at] == '`')
                {
                    return AsVariable(LexDelimited(start, at, SqlTokenKind.Variable), '`');
                }

                var end = ScanName(at);
                if (end <= at)
                {
                    return Error(start); // @@ needs a name (not a string)
                }

                // The server reads @@global.x as @@ global . x, the dot a separator whatever follows it.
                if (end < sql.Length && sql[end] == '.')
                {
                    _after = After.Separator;
                }

                return new SqlToken(SqlTokenKind.Variable, start, end - start, Keywords.Lookup(sql[at..end]), ValueStart: at, ValueLength: end - at);
            default:
                // A user variable or the host of user@host: letters, digits, '.', '_', '$' and bytes of 0x80 and up.
                var i = at;
                while (i < sql.Length && (IsNameByte(sql[i]) || sql[i] == '.'))
                {
                    i++;
                }

                return new SqlToken(SqlTokenKind.Variable, start, i - start, ValueStart: at, ValueLength: i - at);
        }
    }

    private static SqlToken AsVariable(SqlToken token, char rules)
        => token.Kind == SqlTokenKind.Error ? token : token with { Char = (byte)rules };

    private readonly bool IsNameAt(int i) => i < _sql.Length && IsNameByte(_sql[i]);

    private static SqlToken Error(int at) => new(SqlTokenKind.Error, at, 0);

    private static bool IsSpace(byte c) => (CharClass[c] & Space) != 0;

    private static bool IsDigit(byte c) => (uint)(c - '0') <= 9;

    private static bool IsNameByte(byte c) => (CharClass[c] & Name) != 0;

    private const byte Name = 1;
    private const byte Space = 2;
    private const byte AsciiName = 4;

    /// <summary>
    /// One lookup per byte: name bytes (A-Z a-z 0-9 _ $ and 0x80 up, the server's ident_map for utf8mb4; the
    /// ASCII ones also <see cref="AsciiName"/>) and the bytes its my_isspace calls space (' ', \t \n \v \f \r).
    /// </summary>
    private static ReadOnlySpan<byte> CharClass =>
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        2, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0, 0, 0, 0,
        0, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0, 0, 5,
        0, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 0, 0, 0, 0, 0,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ];

    private static int Unescape(ReadOnlySpan<byte> value, byte quote, bool backslashes, Span<byte> destination)
    {
        var written = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '\\' && backslashes && i + 1 < value.Length)
            {
                c = value[++i];
                switch (c)
                {
                    case (byte)'0': c = 0; break;
                    case (byte)'b': c = 0x08; break;
                    case (byte)'n': c = (byte)'\n'; break;
                    case (byte)'r': c = (byte)'\r'; break;
                    case (byte)'t': c = (byte)'\t'; break;
                    case (byte)'Z': c = 0x1A; break;
                    case (byte)'%' or (byte)'_':
                        destination[written++] = (byte)'\\'; // kept for LIKE patterns
                        break;
                }
            }
            else if (c == quote && i + 1 < value.Length && value[i + 1] == quote)
            {
                i++;
            }

            destination[written++] = c;
        }

        return written;
    }

    private static int DecodeHex(ReadOnlySpan<byte> digits, Span<byte> destination)
    {
        var written = 0;
        for (var i = 0; i + 1 < digits.Length; i += 2)
        {
            destination[written++] = (byte)((HexValue(digits[i]) << 4) | HexValue(digits[i + 1]));
        }

        return written;
    }

    private static int HexValue(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    /// <summary>B'..' as bytes, right-aligned: B'101000001' is 0x01 0x41, as the server reads it.</summary>
    private static int DecodeBits(ReadOnlySpan<byte> bits, Span<byte> destination)
    {
        var written = 0;
        var first = bits.Length % 8 == 0 ? 8 : bits.Length % 8;
        var value = 0;
        for (var i = 0; i < bits.Length; i++)
        {
            value = (value << 1) | (bits[i] - '0');
            if (i + 1 == first || (i + 1 > first && (i + 1 - first) % 8 == 0))
            {
                destination[written++] = (byte)value;
                value = 0;
            }
        }

        return written;
    }

    private enum After : byte
    {
        Nothing,
        /// <summary>The previous token was a name joined to a '.': that dot separates names.</summary>
        Separator,
        /// <summary>The previous token was a separating '.' joined to a name byte: a name follows, never a key word or number.</summary>
        Name,
    }
}
