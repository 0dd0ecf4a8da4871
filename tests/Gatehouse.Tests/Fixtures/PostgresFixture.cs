using Gatehouse.Host.Demo;

namespace Gatehouse.Tests.Fixtures;

/// <summary>One throwaway PostgreSQL server shared by every test class in the "postgres" collection (initdb costs seconds, so once per collection).</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private LocalPostgres? _server;

    public LocalPostgres Server => _server ?? throw new InvalidOperationException("PostgresFixture has not been initialized.");

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        _server = await LocalPostgres.StartAsync(new LocalPostgresOptions(), timeout.Token);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition("postgres")]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
}
