using Gatehouse.Host.Demo;

namespace Gatehouse.Tests.Fixtures;

/// <summary>One throwaway MariaDB server shared by every test class in the "mariadb" collection (install-db costs seconds, so once per collection).</summary>
public sealed class MariaDbFixture : IAsyncLifetime
{
    private LocalMariaDb? _server;

    public LocalMariaDb Server => _server ?? throw new InvalidOperationException("MariaDbFixture has not been initialized.");

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        _server = await LocalMariaDb.StartAsync(new LocalMariaDbOptions(), timeout.Token);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

[CollectionDefinition("mariadb")]
public sealed class MariaDbCollection : ICollectionFixture<MariaDbFixture>
{
}
