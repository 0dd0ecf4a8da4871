using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.Sql;

namespace Gatehouse.Fuzz.Targets;

/// <summary>
/// <see cref="MySqlLexer"/> over SQL text. Input: an options byte (bit 0 NO_BACKSLASH_ESCAPES, bit 1
/// ANSI_QUOTES), then the text. The lexer reports unreadable text as an Error token, so any exception is a
/// crash; so is a token out of order or out of bounds, more tokens than bytes (it must terminate), anything
/// but End after End or Error, a value range outside its token, or <see cref="MySqlLexer.Decode"/> writing
/// past the token's value length or returning more than it.
/// </summary>
internal sealed class MySqlLexerTarget : IFuzzTarget
{
    private const byte Canary = 0xA5;

    public static string Name => "mysql-lexer";

    public static void Run(ReadOnlySpan<byte> input)
    {
        var options = input.IsEmpty ? (byte)0 : input[0];
        var sql = input.IsEmpty ? input : input[1..];
        var noBackslashEscapes = (options & 1) != 0;
        var lexer = new MySqlLexer(sql, noBackslashEscapes, ansiQuotes: (options & 2) != 0);
        var buffer = new byte[sql.Length + 16];
        var previousEnd = 0;
        var count = 0;
        while (true)
        {
            var token = lexer.Next();
            if (token.Start < previousEnd || token.Length < 0 || token.End > sql.Length)
            {
                throw new FuzzInvariantException($"token {token} out of order or bounds (previous end {previousEnd}, length {sql.Length})");
            }

            if (++count > sql.Length + 1)
            {
                throw new FuzzInvariantException($"{count} tokens from {sql.Length} bytes");
            }

            if (token.Kind is SqlTokenKind.End or SqlTokenKind.Error)
            {
                FuzzCounters.Hit($"{Name}.{(token.Kind == SqlTokenKind.End ? "end" : "error")}");
                for (var i = 0; i < 3; i++)
                {
                    if (lexer.Next().Kind != SqlTokenKind.End)
                    {
                        throw new FuzzInvariantException($"a token after {token.Kind}");
                    }
                }

                break;
            }

            if (token.Length == 0 || lexer.Position != token.End)
            {
                throw new FuzzInvariantException($"token {token} is empty or Position {lexer.Position} is not its end");
            }

            if ((token.Flags & SqlTokenFlags.Executable) != 0)
            {
                FuzzCounters.Hit($"{Name}.executable");
            }

            CheckDecode(sql, token, buffer, noBackslashEscapes);
            previousEnd = token.End;
        }

        if (count >= 5)
        {
            FuzzCounters.Hit($"{Name}.tokens>=5");
        }
    }

    private static void CheckDecode(ReadOnlySpan<byte> sql, SqlToken token, byte[] buffer, bool noBackslashEscapes)
    {
        if (token.ValueLength == 0)
        {
            return;
        }

        if (token.ValueStart < token.Start || token.ValueStart + token.ValueLength > token.End)
        {
            throw new FuzzInvariantException($"token {token}: value outside the token");
        }

        buffer.AsSpan().Fill(Canary);
        var destination = buffer.AsSpan(0, token.ValueLength + 16);
        var written = MySqlLexer.Decode(sql, token, destination, noBackslashEscapes);
        if (written < 0 || written > token.ValueLength)
        {
            throw new FuzzInvariantException($"token {token}: Decode returned {written}");
        }

        if (destination[token.ValueLength..].ContainsAnyExcept(Canary))
        {
            throw new FuzzInvariantException($"token {token}: Decode wrote past the value length");
        }

        if ((token.Flags & SqlTokenFlags.Escaped) != 0)
        {
            FuzzCounters.Hit($"{Name}.decoded-escaped");
        }
    }
}
