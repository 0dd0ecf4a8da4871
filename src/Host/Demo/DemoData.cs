namespace Gatehouse.Host.Demo;

/// <summary>A few rows so the demo has something to query.</summary>
internal static class DemoData
{
    public const string Sql = """
        CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text NOT NULL, card_number text);
        INSERT INTO customers (name, email, card_number) VALUES
          ('Ada Lovelace', 'ada@example.com', '4111 1111 1111 1111'),
          ('Alan Turing', 'alan@example.com', '5500 0000 0000 0004'),
          ('Grace Hopper', 'grace@example.com', '3400 0000 0000 009');
        GRANT ALL ON customers TO gatehouse_scram, gatehouse_md5, gatehouse_clear;
        GRANT ALL ON SEQUENCE customers_id_seq TO gatehouse_scram, gatehouse_md5, gatehouse_clear;
        """;
}
