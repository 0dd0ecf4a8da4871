using System.Text;
using Gatehouse.Protocols.Postgres.Masking;

namespace Gatehouse.Tests.Masking;

/// <summary>What the masker reads of a COPY ... TO STDOUT: the SELECT to describe and the row syntax.</summary>
public sealed class PgCopyStatementTests
{
    private static PgCopyStatement? Read(string sql) => PgCopyStatement.TryRead(Encoding.UTF8.GetBytes(sql));

    [Theory]
    [InlineData("COPY people TO STDOUT", "SELECT * FROM people")]
    [InlineData("copy s.\"People\" (id, card) to stdout", "SELECT id, card FROM s.\"People\"")]
    [InlineData("COPY (SELECT card FROM people WHERE id = 1) TO STDOUT WITH (FORMAT csv)", "SELECT card FROM people WHERE id = 1")]
    [InlineData("COPY (SELECT '(' || card || ')' FROM people) TO STDOUT", "SELECT '(' || card || ')' FROM people")]
    public void The_columns_are_those_of_the_equivalent_select(string sql, string describe) => Assert.Equal(describe, Read(sql)!.DescribeSql);

    [Fact]
    public void Options_in_both_syntaxes_set_the_row_syntax()
    {
        var text = Read("COPY t TO STDOUT")!;
        Assert.Equal((PgCopyFormat.Text, (byte)'\t', "\\N"), (text.Format, text.Delimiter, Encoding.UTF8.GetString(text.Null)));

        var csv = Read("COPY t TO STDOUT (FORMAT csv, HEADER, DELIMITER ';', NULL 'NULL', QUOTE '|')")!;
        Assert.Equal((PgCopyFormat.Csv, (byte)';', "NULL", (byte)'|', (byte)'|', true),
            (csv.Format, csv.Delimiter, Encoding.UTF8.GetString(csv.Null), csv.Quote, csv.Escape, csv.Header));

        var legacy = Read("COPY t TO STDOUT WITH CSV HEADER")!;
        Assert.Equal((PgCopyFormat.Csv, (byte)',', "", true), (legacy.Format, legacy.Delimiter, Encoding.UTF8.GetString(legacy.Null), legacy.Header));

        Assert.Equal(PgCopyFormat.Binary, Read("COPY t TO STDOUT BINARY")!.Format);
        Assert.Equal(PgCopyFormat.Binary, Read("COPY t TO STDOUT (FORMAT binary)")!.Format);
    }

    [Theory]
    [InlineData("SELECT 1")]
    [InlineData("COPY t FROM STDIN")]
    [InlineData("COPY t TO '/tmp/x'")]
    [InlineData("COPY t TO STDOUT (DELIMITER '||')")]
    [InlineData("COPY t TO STDOUT (ENCODING 'LATIN1')")]
    [InlineData("COPY t TO STDOUT (DELIMITER E'\\t')")]
    [InlineData("COPY (SELECT 1 TO STDOUT")]
    [InlineData("COPY t TO STDOUT (FORMAT csv, QUOTE )")] // an escaped literal is not decoded here
    public void What_it_cannot_read_it_refuses(string sql) => Assert.Null(Read(sql));
}
