using System.Text;
using Gatehouse.Protocols.Postgres.Masking;

namespace Gatehouse.Tests.Masking;

/// <summary>Which CommandComplete tags drop the masking catalog: anything after which a name may resolve differently.</summary>
public sealed class PgCatalogInvalidationTests
{
    [Theory]
    [InlineData("CREATE TABLE", true)]
    [InlineData("ALTER TABLE", true)]
    [InlineData("DROP VIEW", true)]
    [InlineData("CREATE FUNCTION", true)]
    [InlineData("IMPORT FOREIGN SCHEMA", true)]
    [InlineData("DO", true)] // a DO block or a procedure may have run any DDL
    [InlineData("CALL", true)]
    [InlineData("SELECT 3", false)]
    [InlineData("INSERT 0 1", false)]
    [InlineData("DOX", false)]
    [InlineData("COPY 2", false)]
    public void Ddl_and_code_that_may_run_ddl_drop_the_catalog(string tag, bool drops)
    {
        Assert.Equal(drops, PgResultMasker.IsDdl(Encoding.ASCII.GetBytes(tag + "\0")));
        Assert.Equal(drops, PgResultMasker.IsDdl(Encoding.ASCII.GetBytes(tag)));
    }
}
