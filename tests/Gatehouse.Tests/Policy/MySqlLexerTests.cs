using System.Text;
using FsCheck;
using FsCheck.Fluent;
using Gatehouse.Protocols.Sql;

namespace Gatehouse.Tests.Policy;

/// <summary>
/// <see cref="MySqlLexer"/> against the servers' own lexing (sql/sql_lex.cc of MySQL 8 and MariaDB 10.11),
/// hostile texts first: each must come out as the server reads it, or as an Error.
/// </summary>
public sealed class MySqlLexerTests
{
    private static readonly FsCheck.Config Config = FsCheck.Config.QuickThrowOnFailure.WithMaxTest(300);

    [Theory]
    [InlineData("DROP/**/TABLE", "Word:DROP:Drop Word:TABLE:Table")]
    [InlineData("SELECT 1 -- x\nDROP", "Word:SELECT:Select Number:1 Word:DROP:Drop")]
    [InlineData("SELECT 1 --x", "Word:SELECT:Select Number:1 Punct:- Punct:- Word:x")]
    [InlineData("SELECT 1 --", "Word:SELECT:Select Number:1")]
    [InlineData("SELECT 1 --\tx\nDROP", "Word:SELECT:Select Number:1 Word:DROP:Drop")]
    [InlineData("SELECT 1 --\u0001x\nDROP", "Word:SELECT:Select Number:1 Word:DROP:Drop")]
    [InlineData("1--1", "Number:1 Punct:- Punct:- Number:1")]
    [InlineData("# c\nDROP", "Word:DROP:Drop")]
    [InlineData("#", "")]
    [InlineData("/* /*! nested */", "")]
    [InlineData("/* /*! nested */ DROP", "Word:DROP:Drop")]
    [InlineData("SELECT /*+ BKA(t) SET_VAR(sql_mode='ANSI') */ 1", "Word:SELECT:Select Number:1")]
    [InlineData("a */ b", "Word:a Punct:* Punct:/ Word:b")]
    [InlineData(" \t\n\v\f\rx", "Word:x")]
    public void Comments_and_whitespace_produce_no_tokens(string sql, string expected) => Assert.Equal(expected, Describe(sql));

    [Theory]
    [InlineData("/*!50000 DROP TABLE t */")]
    [InlineData("/*!500000 DROP TABLE t */")]
    [InlineData("/*!DROP TABLE t*/")]
    [InlineData("/*!99999 DROP TABLE t */")]
    [InlineData("/*M!100000 DROP TABLE t*/")]
    [InlineData("/*M!DROP TABLE t*/")]
    public void Executable_comments_are_read_as_SQL_whatever_the_version(string sql)
    {
        var tokens = Lex(sql);
        Assert.Equal("Word:DROP:Drop Word:TABLE:Table Word:t", Describe(sql));
        Assert.All(tokens, t => Assert.Equal(SqlTokenFlags.Executable, t.Flags));
    }

    [Fact]
    public void Executable_comment_ends_at_its_star_slash_and_only_its_content_is_flagged()
    {
        var tokens = Lex("SELECT /*!1*/ 2 /*!*/ 3");
        Assert.Equal("Word:SELECT:Select Number:1 Number:2 Number:3", Describe("SELECT /*!1*/ 2 /*!*/ 3"));
        Assert.Equal([SqlTokenFlags.None, SqlTokenFlags.Executable, SqlTokenFlags.None, SqlTokenFlags.None], tokens.Select(t => t.Flags));
        Assert.Equal("Word:a Punct:*", Describe("/*!a*/*"));
        Assert.Equal("Number:7", Describe("/*!1234567*/")); // 6 version digits at most
    }

    [Theory]
    [InlineData("/*! SELECT /* x */ 1 */")]                   // a comment inside an executable comment
    [InlineData("/*! SELECT 1")]                              // never closed
    [InlineData("/*!50000 '*/ DROP TABLE t; -- ' */")]       // a server skipping the comment sees DROP
    [InlineData("/*! SELECT `*/` */")]
    [InlineData("/*! SELECT 1 -- */\n */")]
    [InlineData("/*! SELECT 1 # */\n */")]
    [InlineData("SELECT /*+ QB_NAME('*/') */ 1")]            // MySQL 8's hint scanner skips quoted text
    [InlineData("SELECT /*+ BKA(`t */ DROP TABLE x; # `) */")]
    [InlineData("/* never closed")]
    [InlineData("SELECT 'abc")]
    [InlineData("SELECT 'abc\\'")]
    [InlineData("SELECT \"abc")]
    [InlineData("SELECT `abc")]
    [InlineData("SELECT ``")]
    [InlineData("SELECT `a\0b`")]
    [InlineData("SELECT x'12")]
    [InlineData("SELECT x'1'")]
    [InlineData("SELECT x'1G'")]
    [InlineData("SELECT b'102'")]
    [InlineData("SELECT N'abc")]
    [InlineData("SELECT @'abc")]
    [InlineData("SELECT @`abc")]
    [InlineData("SELECT @@")]
    [InlineData("SELECT @@'x'")]
    [InlineData("SELECT 1.5e")]
    [InlineData("SELECT .5e+")]
    [InlineData("SELECT 1.5ex")]
    [InlineData("SELECT\u00011")]
    [InlineData("SELECT\u007F1")]
    [InlineData("SELECT 1 # c\0DROP")]                       // a NUL ends a line comment in both servers
    [InlineData("SELECT 1;\0DROP TABLE t")]
    public void Unreadable_text_is_an_error_and_then_the_end(string sql)
    {
        var lexer = new MySqlLexer(Encoding.UTF8.GetBytes(sql));
        SqlToken token;
        do
        {
            token = lexer.Next();
        }
        while (token.Kind is not (SqlTokenKind.Error or SqlTokenKind.End));

        Assert.Equal(SqlTokenKind.Error, token.Kind);
        Assert.Equal(Encoding.UTF8.GetByteCount(sql), token.End);
        Assert.Equal(SqlTokenKind.End, lexer.Next().Kind);
        Assert.Equal(SqlTokenKind.End, lexer.Next().Kind);
    }

    [Fact]
    public void Error_starts_where_the_unreadable_part_starts()
    {
        var tokens = Lex("SELECT 'x' 'abc");
        Assert.Equal(SqlTokenKind.Error, tokens[^1].Kind);
        Assert.Equal(11, tokens[^1].Start);
    }

    [Fact]
    public void Strings_with_doubled_quotes_and_backslashes()
    {
        Assert.Equal("String:'it''s'", Describe("'it''s'"));
        Assert.Equal("it's", DecodeOnly("'it''s'"));
        Assert.Equal("a'b", DecodeOnly("'a\\'b'"));
        Assert.Equal("String:'a\\' Word:c Error", Describe("'a\\'c'", noBackslashEscapes: true));
        Assert.Equal("String:'a\\' Error", Describe("'a\\'b'", noBackslashEscapes: true)); // b' starts a bit literal
        Assert.Equal("a\\", DecodeOnly("'a\\'", noBackslashEscapes: true));
        Assert.Equal("a\"\"b", DecodeOnly("'a\"\"b'"));
        Assert.Equal("a\"b", DecodeOnly("\"a\"\"b\""));
        Assert.Equal("String:'a' String:'b'", Describe("'a' 'b'"));
        Assert.Equal("String:''", Describe("''"));
        var token = Lex("'it''s'")[0];
        Assert.Equal(SqlTokenFlags.Escaped, token.Flags);
        Assert.Equal((1, 5), (token.ValueStart, token.ValueLength));
        Assert.Equal(SqlTokenFlags.None, Lex("'plain'")[0].Flags);
    }

    [Fact]
    public void Backslash_escapes_decode_as_the_server_does()
    {
        var sql = "'\\0\\'\\\"\\b\\n\\r\\t\\Z\\\\\\%\\_\\q\\é'";
        Assert.Equal("\0'\"\b\n\r\t\u001A\\\\%\\_qé", DecodeOnly(sql));
        Assert.Equal("\\n\\%", DecodeOnly("'\\n\\%'", noBackslashEscapes: true));
    }

    [Fact]
    public void Double_quotes_are_strings_unless_ansi_quotes()
    {
        Assert.Equal("String:\"x\"", Describe("\"x\""));
        Assert.Equal("QuotedName:\"x\"", Describe("\"x\"", ansiQuotes: true));
        Assert.Equal("a\\\"b", DecodeOnly("\"a\\\"\"b\"", ansiQuotes: true)); // no backslash escapes in names
        Assert.Equal("QuotedName:\"a\\\" Word:b Error", Describe("\"a\\\"b\"", ansiQuotes: true));
    }

    [Fact]
    public void Backquoted_names()
    {
        Assert.Equal("QuotedName:`a``b`", Describe("`a``b`"));
        Assert.Equal("a`b", DecodeOnly("`a``b`"));
        Assert.Equal("a\\b", DecodeOnly("`a\\b`"));
        Assert.Equal("QuotedName:`DROP`", Describe("`DROP`"));
    }

    [Fact]
    public void A_no_break_space_is_part_of_a_word_as_the_server_sees_it()
    {
        Assert.Equal("Word:SELECT\u00A0DROP", Describe("SELECT\u00A0DROP"));
        Assert.Equal("Word:\u00A0DROP Word:TABLE:Table", Describe("\u00A0DROP TABLE"));
        Assert.Equal("Word:zoë Word:数据", Describe("zoë 数据"));
    }

    [Fact]
    public void Malformed_utf8_in_a_word_is_an_error()
    {
        Assert.Equal(SqlTokenKind.Error, LexBytes([(byte)'a', 0xC3, (byte)'b'])[^1].Kind);
        Assert.Equal(SqlTokenKind.Error, LexBytes([0x80, (byte)'a'])[^1].Kind);
        Assert.Equal(SqlTokenKind.String, LexBytes([(byte)'\'', 0xFF, (byte)'\''])[0].Kind); // strings hold any bytes
    }

    [Theory]
    [InlineData("1e5", "Number:1e5")]
    [InlineData("1E+5", "Number:1E+5")]
    [InlineData("1.5e-3", "Number:1.5e-3")]
    [InlineData("0x1F", "Number:0x1F")]
    [InlineData("0b101", "Number:0b101")]
    [InlineData(".5", "Number:.5")]
    [InlineData("12.", "Number:12.")]
    [InlineData("12.5abc", "Number:12.5 Word:abc")]
    [InlineData("123abc", "Word:123abc")]
    [InlineData("123", "Number:123")]
    [InlineData("1e5x", "Number:1e5 Word:x")]
    [InlineData("1ex", "Word:1ex")]
    [InlineData("1e+x", "Word:1e Punct:+ Word:x")]
    [InlineData("0x1G", "Word:0x1G")]
    [InlineData("0X1F", "Word:0X1F")]
    [InlineData("0x", "Word:0x")]
    [InlineData("0b12", "Word:0b12")]
    [InlineData("1..10", "Number:1 Punct:. Number:.10")]
    [InlineData("x'4142' X'' b'101' B'' N'n' n'n'", "String:x'4142' String:X'' String:b'101' String:B'' String:N'n' String:n'n'")]
    [InlineData("x\"41\"", "Word:x String:\"41\"")]
    [InlineData("_utf8mb4'x' _binary \"y\"", "Word:_utf8mb4 String:'x' Word:_binary String:\"y\"")]
    [InlineData("\\N \\n", "Word:\\N:Null Punct:\\ Word:n")]
    public void Numbers_words_and_prefixed_literals(string sql, string expected) => Assert.Equal(expected, Describe(sql));

    [Fact]
    public void Hex_and_bit_literals_decode_to_their_bytes()
    {
        Assert.Equal("AB", DecodeOnly("x'4142'"));
        Assert.Equal("\u0001A", DecodeOnly("b'101000001'"));
        Assert.Equal("n", DecodeOnly("N'n'"));
    }

    [Theory]
    [InlineData("t.select", "Word:t Punct:. Word:select")]
    [InlineData("t.1e5", "Word:t Punct:. Word:1e5")]
    [InlineData("db.t.c", "Word:db Punct:. Word:t Punct:. Word:c")]
    [InlineData("DROP.t", "Word:DROP Punct:. Word:t")]
    [InlineData("`t`.drop", "QuotedName:`t` Punct:. Word:drop")]
    [InlineData("`t`.5", "QuotedName:`t` Number:.5")]
    [InlineData("t.`c`", "Word:t Punct:. QuotedName:`c`")]
    [InlineData("t. drop", "Word:t Punct:. Word:drop:Drop")]
    [InlineData("t .drop", "Word:t Punct:. Word:drop")]
    public void Names_joined_to_a_dot_are_never_key_words(string sql, string expected) => Assert.Equal(expected, Describe(sql));

    [Theory]
    [InlineData("@name", "Variable:@name")]
    [InlineData("@a.b$c_1", "Variable:@a.b$c_1")]
    [InlineData("@'q'", "Variable:@'q'")]
    [InlineData("@\"q\"", "Variable:@\"q\"")]
    [InlineData("@`q`", "Variable:@`q`")]
    [InlineData("@@name", "Variable:@@name")]
    [InlineData("@@`name`", "Variable:@@`name`")]
    [InlineData("@@global.name", "Variable:@@global:Global Punct:. Word:name")]
    [InlineData("@@session.sql_log_bin", "Variable:@@session:Session Punct:. Word:sql_log_bin")]
    [InlineData("@@global.5", "Variable:@@global:Global Punct:. Word:5")]
    [InlineData("'u'@'h'", "String:'u' Variable:@'h'")]
    [InlineData("@ x", "Variable:@ Word:x")]
    [InlineData("? := <=> -> ;", "Parameter:? Punct:: Punct:= Punct:< Punct:= Punct:> Punct:- Punct:> Punct:;")]
    public void Variables_parameters_and_punctuation(string sql, string expected) => Assert.Equal(expected, Describe(sql));

    [Fact]
    public void Quoted_variable_names_decode_by_their_quoting()
    {
        Assert.Equal("a'b", DecodeOnly("@'a\\'b'"));
        Assert.Equal("a'b", DecodeOnly("@'a''b'"));
        Assert.Equal("a`b", DecodeOnly("@`a``b`"));
        Assert.Equal("a\\\"b", DecodeOnly("@\"a\\\"\"b\"", ansiQuotes: true));
        Assert.Equal("sql_mode", DecodeOnly("@@sql_mode"));
        Assert.Equal("DROP", DecodeOnly("DROP"));
    }

    [Fact]
    public void Positions_are_byte_offsets()
    {
        var sql = "SELECT 'é', `x` ;";
        var tokens = Lex(sql);
        Assert.Equal([(0, 6), (7, 4), (11, 1), (13, 3), (17, 1)], tokens.Select(t => (t.Start, t.Length)));
        var lexer = new MySqlLexer(Encoding.UTF8.GetBytes(sql));
        lexer.Next();
        Assert.Equal(6, lexer.Position);
        Assert.Equal(new SqlToken(SqlTokenKind.End, 18, 0), End(sql));
    }

    [Fact]
    public void Random_bytes_terminate_in_order_and_in_bounds()
    {
        var bytes = Gen.Frequency(
            (3, Gen.Elements("'\"`@#-/*!M+.\\xXbBnN_0159eE;?\n \0\u00C3\u00A0"u8.ToArray())),
            (1, ArbMap.Default.GeneratorFor<byte>()));
        var input = Gen.Choose(0, 200).SelectMany(n => Gen.ArrayOf(bytes, n));
        Check.One(Config, Prop.ForAll(Gen.Zip(input, Gen.Choose(0, 3)).ToArbitrary(), t =>
        {
            var (sql, flags) = t;
            var lexer = new MySqlLexer(sql, (flags & 1) != 0, (flags & 2) != 0);
            var previousEnd = 0;
            var destination = new byte[sql.Length];
            for (var count = 0; ; count++)
            {
                var token = lexer.Next();
                Assert.True(count <= sql.Length, "more tokens than bytes");
                Assert.True(token.Start >= previousEnd && token.End <= sql.Length, $"token {token} out of order or bounds");
                if (token.Kind is SqlTokenKind.End or SqlTokenKind.Error)
                {
                    Assert.Equal(SqlTokenKind.End, lexer.Next().Kind);
                    break;
                }

                Assert.True(token.Length > 0);
                Assert.True(token.ValueLength == 0 || (token.ValueStart >= token.Start && token.ValueStart + token.ValueLength <= token.End));
                Assert.InRange(MySqlLexer.Decode(sql, token, destination.AsSpan(0, token.ValueLength), (flags & 1) != 0), 0, token.ValueLength);
                previousEnd = token.End;
            }
        }));
    }

    [Fact]
    public void Comments_and_case_between_tokens_do_not_change_the_token_sequence()
    {
        string[] words = ["SELECT", "a", "FROM", "t", "WHERE", "id", "=", "1", ";", "DROP", "TABLE", "'s''x'", "`q`", "@v", "?", "(", ")", ",", "2.5", "x'41'", "_utf8mb4", "DELETE"];
        string[] separators = [" ", "/* comment */", "/**/", "\n", "\t ", " -- line\n", "#c\n", " /*! */ ", "/*+ hint */"];
        var statement = Gen.Choose(1, 14).SelectMany(n => Gen.ArrayOf(Gen.Zip(Gen.Elements(words), Gen.Zip(Gen.Elements(separators), Gen.Elements(true, false)), (w, r) => (Word: w, Separator: r.Item1, Flip: r.Item2)), n));
        Check.One(Config, Prop.ForAll(statement.ToArbitrary(), parts =>
        {
            var plain = string.Join(' ', parts.Select(p => p.Word));
            var varied = string.Concat(parts.Select(p => (p.Flip && !p.Word.Contains('\'', StringComparison.Ordinal) ? Flip(p.Word) : p.Word) + p.Separator));
            Assert.Equal(Shape(plain), Shape(varied));
            Assert.DoesNotContain(SqlTokenKind.Error, Lex(varied).Select(t => t.Kind));
        }));
    }

    private static string Flip(string word) => string.Concat(word.Select(c => char.IsAsciiLetterUpper(c) ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)));

    private static string Shape(string sql) => string.Join(' ', Lex(sql).Select(t => $"{t.Kind}:{t.Keyword}:{(char)t.Char}"));

    private static List<SqlToken> Lex(string sql, bool noBackslashEscapes = false, bool ansiQuotes = false)
        => LexBytes(Encoding.UTF8.GetBytes(sql), noBackslashEscapes, ansiQuotes);

    private static List<SqlToken> LexBytes(byte[] sql, bool noBackslashEscapes = false, bool ansiQuotes = false)
    {
        var lexer = new MySqlLexer(sql, noBackslashEscapes, ansiQuotes);
        var tokens = new List<SqlToken>();
        for (var token = lexer.Next(); token.Kind != SqlTokenKind.End; token = lexer.Next())
        {
            tokens.Add(token);
        }

        return tokens;
    }

    private static SqlToken End(string sql)
    {
        var lexer = new MySqlLexer(Encoding.UTF8.GetBytes(sql));
        var token = lexer.Next();
        while (token.Kind != SqlTokenKind.End)
        {
            token = lexer.Next();
        }

        return token;
    }

    /// <summary>Kind:text[:Keyword] per token; Error without text.</summary>
    private static string Describe(string sql, bool noBackslashEscapes = false, bool ansiQuotes = false)
    {
        var bytes = Encoding.UTF8.GetBytes(sql);
        return string.Join(' ', Lex(sql, noBackslashEscapes, ansiQuotes).Select(t => t.Kind == SqlTokenKind.Error
            ? "Error"
            : $"{t.Kind}:{Encoding.UTF8.GetString(bytes, t.Start, t.Length)}{(t.Keyword == Keyword.None ? "" : $":{t.Keyword}")}"));
    }

    /// <summary>The decoded value of the text's only token.</summary>
    private static string DecodeOnly(string sql, bool noBackslashEscapes = false, bool ansiQuotes = false)
    {
        var bytes = Encoding.UTF8.GetBytes(sql);
        var tokens = Lex(sql, noBackslashEscapes, ansiQuotes);
        Assert.Single(tokens);
        var destination = new byte[tokens[0].ValueLength];
        var written = MySqlLexer.Decode(bytes, tokens[0], destination, noBackslashEscapes);
        return Encoding.UTF8.GetString(destination, 0, written);
    }
}
