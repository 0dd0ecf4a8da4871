namespace Gatehouse.Host.Demo;

/// <summary>The same customers as <see cref="DemoData"/> (PostgreSQL), for the MariaDB upstream; run in database app.</summary>
internal static class MariaDbDemoData
{
    // No GRANTs needed: the login users hold ALL on app.*, which covers tables created later.
    public const string Sql = """
        CREATE TABLE customers (
          id int PRIMARY KEY AUTO_INCREMENT,
          name varchar(100) NOT NULL,
          email varchar(200) NOT NULL,
          card_number varchar(32)
        ) ENGINE=InnoDB;
        INSERT INTO customers (name, email, card_number) VALUES
          ('Ada Lovelace', 'ada@example.com', '4111 1111 1111 1111'),
          ('Alan Turing', 'alan@example.com', '5500 0000 0000 0004'),
          ('Grace Hopper', 'grace@example.com', '3400 0000 0000 009');
        """;
}
