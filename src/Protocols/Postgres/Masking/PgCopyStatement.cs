using System.Text;
using Gatehouse.Protocols.Sql;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>COPY's data formats (sql-copy.html).</summary>
internal enum PgCopyFormat : byte { Text, Csv, Binary }

/// <summary>
/// What the masker needs of a <c>COPY ... TO STDOUT</c>: a SELECT with the same columns, which the gateway
/// describes on its own connection to learn each column's table identity (COPY itself has no RowDescription),
/// and how the rows are written (format, delimiter, NULL string, quote and escape for CSV, header line).
/// Read with the PostgreSQL lexer; anything it does not understand makes <see cref="TryRead"/> fail, and
/// the masker then does not pass the data.
/// </summary>
internal sealed class PgCopyStatement
{
    public required string DescribeSql { get; init; }

    public PgCopyFormat Format { get; private set; }

    public byte Delimiter { get; private set; } = (byte)'\t';

    public byte[] Null { get; private set; } = "\\N"u8.ToArray();

    public byte Quote { get; private set; } = (byte)'"';

    public byte Escape { get; private set; } = (byte)'"';

    public bool Header { get; private set; }

    public static PgCopyStatement? TryRead(ReadOnlySpan<byte> sql)
    {
        var tokens = new List<SqlToken>();
        var lexer = new PgLexer(sql);
        for (var t = lexer.Next(); t.Kind != SqlTokenKind.End; t = lexer.Next())
        {
            if (t.Kind == SqlTokenKind.Error)
            {
                return null;
            }

            if (t.IsPunct(';'))
            {
                break;
            }

            tokens.Add(t);
        }

        var at = 0;
        if (Word(sql, tokens, at++) != "copy")
        {
            return null;
        }

        string describe;
        if (at < tokens.Count && tokens[at].IsPunct('('))
        {
            var close = Matching(tokens, at);
            if (close < 0)
            {
                return null;
            }

            describe = Text(sql, tokens[at + 1].Start, tokens[close].Start);
            at = close + 1;
        }
        else
        {
            // [ONLY] name [(columns)]: the same columns as SELECT columns FROM name.
            var nameStart = at;
            while (at < tokens.Count && (tokens[at].Kind is SqlTokenKind.Word or SqlTokenKind.QuotedName || tokens[at].IsPunct('.')) && Word(sql, tokens, at) != "to")
            {
                at++;
            }

            if (at == nameStart)
            {
                return null;
            }

            var table = Text(sql, tokens[nameStart].Start, tokens[at - 1].End);
            var columns = "*";
            if (at < tokens.Count && tokens[at].IsPunct('('))
            {
                var close = Matching(tokens, at);
                if (close < 0)
                {
                    return null;
                }

                columns = Text(sql, tokens[at + 1].Start, tokens[close].Start);
                at = close + 1;
            }

            describe = $"SELECT {columns} FROM {table}";
        }

        if (Word(sql, tokens, at) != "to" || Word(sql, tokens, at + 1) != "stdout")
        {
            return null;
        }

        var copy = new PgCopyStatement { DescribeSql = describe };
        return copy.ReadOptions(sql, tokens, at + 2) ? copy : null;
    }

    private bool ReadOptions(ReadOnlySpan<byte> sql, List<SqlToken> tokens, int at)
    {
        if (Word(sql, tokens, at) == "with")
        {
            at++;
        }

        var modern = at < tokens.Count && tokens[at].IsPunct('(');
        var end = modern ? Matching(tokens, at) : tokens.Count;
        if (end < 0 || (modern && end != tokens.Count - 1))
        {
            return false;
        }

        var nullSet = false;
        var escapeSet = false;
        var delimiterSet = false;
        for (var i = modern ? at + 1 : at; i < end; i++)
        {
            if (tokens[i].IsPunct(','))
            {
                continue;
            }

            var option = Word(sql, tokens, i);
            var value = Word(sql, tokens, i + 1);
            byte[]? text;
            switch (option)
            {
                case "format" when value is "text" or "csv" or "binary":
                    Format = value == "csv" ? PgCopyFormat.Csv : value == "binary" ? PgCopyFormat.Binary : PgCopyFormat.Text;
                    i++;
                    break;
                case "binary" when !modern:
                    Format = PgCopyFormat.Binary;
                    break;
                case "csv" when !modern:
                    Format = PgCopyFormat.Csv;
                    break;
                case "header":
                    Header = !(value is "false" or "off" || (i + 1 < end && Text(sql, tokens[i + 1].Start, tokens[i + 1].End) == "0"));
                    i += value is "true" or "on" or "false" or "off" || (i + 1 < end && tokens[i + 1].Kind == SqlTokenKind.Number) ? 1 : 0;
                    break;
                case "delimiter" or "null" or "quote" or "escape":
                    var v = i + 1;
                    if (!modern && Word(sql, tokens, v) == "as")
                    {
                        v++;
                    }

                    if ((text = StringValue(sql, tokens, v)) is null || (option != "null" && text.Length != 1))
                    {
                        return false; // a multi-byte delimiter or an escaped literal: not worth guessing at
                    }

                    _ = option switch
                    {
                        "delimiter" => Delimiter = text[0],
                        "quote" => Quote = text[0],
                        "escape" => Escape = text[0],
                        _ => 0,
                    };
                    nullSet |= option == "null";
                    escapeSet |= option == "escape";
                    delimiterSet |= option == "delimiter";
                    if (option == "null")
                    {
                        Null = text;
                    }

                    i = v;
                    break;
                case "encoding":
                    return false; // the gateway relays UTF8 only; a converted COPY is not read
                default:
                    // FORCE_QUOTE, FORCE_NOT_NULL, FORCE_NULL and the like change only how values are quoted.
                    if (option.Length == 0)
                    {
                        return false;
                    }

                    break;
            }
        }

        if (Format == PgCopyFormat.Csv)
        {
            Delimiter = delimiterSet ? Delimiter : (byte)',';
            Null = nullSet ? Null : [];
            Escape = escapeSet ? Escape : Quote;
        }

        return true;
    }

    private static string Word(ReadOnlySpan<byte> sql, List<SqlToken> tokens, int i) =>
        i < tokens.Count && tokens[i].Kind == SqlTokenKind.Word ? Encoding.UTF8.GetString(sql.Slice(tokens[i].Start, tokens[i].Length)).ToLowerInvariant() : "";

    /// <summary>A plain string literal's bytes; null for anything else (escaped literals are not decoded here).</summary>
    private static byte[]? StringValue(ReadOnlySpan<byte> sql, List<SqlToken> tokens, int i) =>
        i < tokens.Count && tokens[i].Kind == SqlTokenKind.String && (tokens[i].Flags & SqlTokenFlags.Escaped) == 0
            ? sql.Slice(tokens[i].ValueStart, tokens[i].ValueLength).ToArray() : null;

    private static int Matching(List<SqlToken> tokens, int open)
    {
        var depth = 0;
        for (var i = open; i < tokens.Count; i++)
        {
            depth += tokens[i].IsPunct('(') ? 1 : tokens[i].IsPunct(')') ? -1 : 0;
            if (depth == 0)
            {
                return i;
            }
        }

        return -1;
    }

    private static string Text(ReadOnlySpan<byte> sql, int start, int end) => Encoding.UTF8.GetString(sql[start..end]);
}
