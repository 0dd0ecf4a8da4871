using System.Text;
using Gatehouse.Protocols.Sql;
using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Tests.Masking;

/// <summary>Strict mode's signal: a statement whose derived columns may carry a sensitive value.</summary>
public sealed class StrictReferencesTests
{
    private static readonly MaskingSession Session = new MaskingPolicy(
    [
        new() { Name = "cards", Columns = [Pattern("billing.customers.card")], Action = new MaskAction("cards", MaskStrategy.Redact) },
        new() { Name = "ssn", Columns = [Pattern("ssn")], Action = new MaskAction("ssn", MaskStrategy.Redact) },
    ], ContentKinds.None, new Dictionary<ContentKinds, MaskAction>(), DetectorScope.Derived, strict: true, tokenKey: []).ForSession([], "db")!;

    private static ColumnPattern Pattern(string text) => ColumnPattern.TryParse(text, out var p) ? p : throw new ArgumentException(text);

    private static bool Find(string sql)
    {
        var bytes = Encoding.UTF8.GetBytes(sql);
        var lexer = new PgLexer(bytes);
        return StrictReferences.Find(ref lexer, bytes, Session);
    }

    [Theory]
    [InlineData("SELECT upper(card) FROM customers")]
    [InlineData("SELECT c.\"card\" || '' FROM customers c")]
    [InlineData("SELECT substr(SSN, 1, 3) FROM people")]
    [InlineData("SELECT to_json(c) FROM customers c")]
    [InlineData("SELECT c::text FROM billing.customers AS c")]
    [InlineData("SELECT row(c.*)::text FROM customers c")]
    [InlineData("SELECT row_to_json(customers) FROM customers")]
    [InlineData("SELECT customers FROM customers")]
    [InlineData("SELECT to_json(s) FROM (SELECT * FROM customers) s")]
    [InlineData("SELECT to_json(s) FROM (SELECT * FROM customers) AS s")]
    [InlineData("WITH w AS (SELECT * FROM customers) SELECT w::text FROM w")]
    [InlineData("WITH a AS (SELECT 1), w AS (SELECT * FROM customers) SELECT to_jsonb(w) FROM w")]
    [InlineData("SELECT x FROM customers c, LATERAL to_json(c) x")]
    [InlineData("SELECT c.* , md5(c::text) FROM customers c")]
    [InlineData("SELECT jsonb_agg(c) FROM orders o JOIN customers c ON c.id = o.customer")]
    [InlineData("SELECT query_to_xml('select card from customers', true, false, '')")]
    [InlineData("SELECT $q$ unterminated")]
    [InlineData("SELECT to_json(c) FROM customers c, generate_series(1, 2) g")]
    [InlineData("SELECT g FROM generate_series(1, 2) g, LATERAL (SELECT * FROM customers) s WHERE s IS NOT NULL")]
    [InlineData("SELECT u FROM unnest(ARRAY(SELECT c FROM customers c)) u")]
    [InlineData("SELECT x FROM (SELECT * FROM customers) AS x")]
    [InlineData("SELECT x FROM LATERAL (SELECT * FROM customers) x")]
    [InlineData("SELECT * FROM shop.customers_of(1)")] // a function that may read a sensitive table itself
    [InlineData("SELECT f FROM customers_of(1) f")]
    [InlineData("SELECT o.id, x.n FROM orders o JOIN LATERAL top_customers(o.id) x ON true")]
    [InlineData("SELECT g FROM public.generate_series(1, 2) g")] // not pg_catalog's: a user's function of that name
    [InlineData("SELECT histogram_bounds::text FROM pg_catalog.pg_stats")] // sampled values of every column
    [InlineData("SELECT upper(query) FROM pg_stat_activity")] // what other sessions run
    [InlineData("SELECT substr(trace, 1, 10) FROM information_schema.\"OPTIMIZER_TRACE\"")] // ranges quote values the optimizer computed; any case
    [InlineData("SELECT upper(U&\"c\\0061rd\") FROM customers")] // a Unicode-escaped name is the name it stands for
    [InlineData("SELECT upper(U&\"\\+000073sn\") FROM people")]
    [InlineData("SELECT upper(U&\"c\\zzzzrd\") FROM customers")] // an escape that cannot be decoded: could be any name
    // Columns read without their names, renamed by position (set operations take the first branch's names).
    [InlineData("SELECT reverse(z) FROM billing.customers AS t(z)")]
    [InlineData("SELECT reverse(z) FROM ONLY customers t (a, z)")]
    [InlineData("SELECT o.id, reverse(c.z) FROM orders o JOIN customers c(a, z) ON c.a = o.id")]
    [InlineData("SELECT reverse(z) FROM (SELECT * FROM customers) s(a, b, c, z)")]
    [InlineData("SELECT reverse(z) FROM (TABLE customers) AS s(a, b, c, z)")]
    [InlineData("WITH x(a, b, c, z) AS (SELECT * FROM customers) SELECT reverse(z) FROM x")]
    [InlineData("WITH w AS (SELECT 1), x(a, z) AS (SELECT c.* FROM customers c) SELECT reverse(z) FROM x")]
    [InlineData("SELECT reverse(z) FROM (SELECT 1 a, '' z WHERE false UNION ALL SELECT * FROM customers) s")]
    [InlineData("SELECT 1 a, '' z WHERE false UNION ALL TABLE customers")]
    [InlineData("SELECT ts_stat('select to_tsvector(card_' || 'number) from customers')")] // SQL text built as it runs
    [InlineData("SELECT pg_catalog.ts_rewrite('a'::tsquery, 'select ' || 'x')")]
    [InlineData("SELECT \"table_to_xml\"('customers', true, false, '')")] // a table named by a string
    [InlineData("EXECUTE rev")] // a prepared statement's text is elsewhere (PREPARE rev AS SELECT reverse(card) …)
    [InlineData("execute rev(1, 'x')")]
    [InlineData("EXECUTE \"function\"")] // a statement so named, not a trigger's EXECUTE FUNCTION
    [InlineData("CREATE TEMP TABLE t AS EXECUTE rev")]
    public void Statements_whose_derived_columns_may_carry_sensitive_values(string sql) => Assert.True(Find(sql));

    [Theory]
    [InlineData("SELECT count(*) FROM customers")]
    [InlineData("SELECT length(c.name), upper(c.email) FROM billing.customers c WHERE c.id = 1")]
    [InlineData("SELECT o.total * 2 FROM orders o JOIN customers c ON c.id = o.customer")]
    [InlineData("SELECT now()")]
    [InlineData("SELECT coalesce(name, 'x') FROM customers AS c")]
    [InlineData("SELECT t.typname FROM pg_catalog.pg_type t WHERE t.oid = 25")]
    [InlineData("SELECT upper(name) FROM customers c -- then to_json(c) in a comment\nWHERE c.id = 1")]
    [InlineData("SELECT upper(name) FROM customers c WHERE (c.kind = 'x') /* user-defined ) user */")]
    [InlineData("SELECT g, g * 2 FROM generate_series(1, 10) g")]
    [InlineData("SELECT g FROM pg_catalog.generate_series(1, 10) AS g")]
    [InlineData("SELECT x FROM unnest(ARRAY[1, 2]) AS x(n) ORDER BY x")]
    [InlineData("SELECT generate_series(1, 3) FROM generate_series(1, 2)")]
    [InlineData("SELECT count(*) n, n + 1 FROM customers")]
    [InlineData("SELECT o.id, g FROM orders o CROSS JOIN LATERAL generate_series(1, o.n) g")]
    [InlineData("SELECT o.id FROM orders o, LATERAL (SELECT 1 AS one) s")]
    [InlineData("INSERT INTO audit.log (a, b) SELECT 1, 2")]
    [InlineData("SELECT j.x FROM t, JSON_TABLE(t.doc, '$[*]' COLUMNS (x INT PATH '$')) AS j")]
    [InlineData("SELECT upper(U&\"n\\0061me\") FROM customers")] // name, escaped
    [InlineData("GRANT EXECUTE ON FUNCTION f(int) TO app")]
    [InlineData("SELECT upper(ts_stat) FROM stats")] // a column so named, not a call
    [InlineData("SELECT upper(x) FROM generate_series(1, 3) g(x)")] // a call's alias list: its own values
    [InlineData("SELECT upper(z) FROM (SELECT name FROM customers) s(z)")] // renamed, but every column read is named
    [InlineData("SELECT upper(name) FROM customers UNION ALL SELECT upper(note) FROM orders")]
    [InlineData("SELECT *, CAST((name) AS varchar(10)) FROM customers")] // a type's modifier is no alias list
    [InlineData("SELECT upper(t.name) FROM customers t TABLESAMPLE BERNOULLI (10), orders o")]
    [InlineData("SELECT count(*) FROM customers c JOIN orders o USING (id) WHERE EXISTS (SELECT 1)")]
    [InlineData("CREATE TRIGGER t AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION pg_catalog.suppress_redundant_updates_trigger()")]
    public void Statements_that_only_qualify_columns_or_name_none_that_are_sensitive(string sql) => Assert.False(Find(sql));

    [Theory]
    [InlineData("SELECT people_of(1)::text", true)]
    [InlineData("SELECT app.people_of(1) AS p", true)]
    [InlineData("SELECT \"people_of\"(1)", true)]
    [InlineData("SELECT \"People_Of\"(1)", false)] // quoted: case kept, so another function
    [InlineData("SELECT \"people\"\"of\"(1)", false)] // people"of: another function
    [InlineData("SELECT U&\"people\\005fof\"(1)", true)] // escapes decoded: people_of
    [InlineData("SELECT upper(name), count(*) FROM customers", false)]
    [InlineData("SELECT people_of FROM t", false)] // a column of that name, not a call
    public void A_call_of_the_databases_own_function_counts(string sql, bool expected)
    {
        var bytes = Encoding.UTF8.GetBytes(sql);
        var lexer = new PgLexer(bytes);
        Assert.Equal(expected, StrictReferences.Find(ref lexer, bytes, Session, new HashSet<string>(StringComparer.Ordinal) { "people_of" }));
    }

    [Theory]
    [InlineData("SELECT upper(cc) FROM people_v", true)]
    [InlineData("SELECT reverse(v.\"cc\") FROM people_v v", true)]
    [InlineData("SELECT upper(name) FROM people_v", false)]
    // View columns are named by whoever wrote the view: where the name is a qualifier, an alias, a table or a lone word in a string, it reads nothing.
    [InlineData("SELECT upper(cc.relname) FROM pg_class AS cc, people_v WHERE cc.relkind = 'cc'", false)]
    [InlineData("SELECT upper(name) AS cc FROM people_v", false)]
    [InlineData("SELECT name FROM cc, people_v", false)] // a table of that name
    [InlineData("SELECT upper(cc) FROM people", false)] // another relation's cc: the view is not named
    [InlineData("SELECT query_to_xml('select cc from people_v', true, true, '')", true)]
    public void A_view_column_that_shows_a_sensitive_one_counts_like_it(string sql, bool expected)
    {
        var bytes = Encoding.UTF8.GetBytes(sql);
        var lexer = new PgLexer(bytes);
        var views = new SensitiveViewColumns();
        views.Add("people_v", "cc");
        Assert.Equal(expected, StrictReferences.Find(ref lexer, bytes, Session, new HashSet<string>(StringComparer.Ordinal), views));
    }
}
