using System.Collections.Concurrent;
using Gatehouse.Protocols.Masking;

namespace Gatehouse.Tests.Masking;

/// <summary>
/// The masking catalogs' shared cache (<see cref="CatalogCache{TConnection}"/>): a lookup that DDL overtook
/// keeps nothing it loaded, relations and function names alike, since what it read may predate the DDL (a view
/// redefined to show a card column would otherwise be judged by its old definition for up to a minute); the
/// next lookup stores what it loads.
/// </summary>
public sealed class CatalogCacheTests
{
    [Fact]
    public void A_statement_waits_once_for_the_names_then_goes_on_even_if_they_are_still_missing()
    {
        var wait = new CatalogNamesWait();
        var loading = new TaskCompletionSource().Task;
        Assert.Equal(Gatehouse.Proxy.Core.Relay.RewriteAction.Hold, wait.Before(loading)?.Action);
        Assert.Null(wait.Before(loading)); // the same statement, back after the load: judged without the names (fail closed)
        Assert.NotNull(wait.Before(loading)); // the next statement waits again
        Assert.Null(wait.Before(loading));
        Assert.Null(wait.Before(null)); // loaded: no wait
    }

    [Fact]
    public async Task Relations_a_lookup_read_before_DDL_dropped_the_cache_are_not_kept()
    {
        await using var catalog = new FakeCatalog();
        var load = catalog.LoadAsync("app.v", "old definition");
        await catalog.Entered.Task;
        catalog.Invalidate(); // DDL through another session while the lookup's query runs
        catalog.Gate.SetResult();
        Assert.False(await load);
        Assert.Empty(catalog.Entries);

        catalog.Reset();
        catalog.Gate.SetResult();
        Assert.True(await catalog.LoadAsync("app.v", "new definition"));
        Assert.Equal("new definition", catalog.Entries["app.v"]);
    }

    [Fact]
    public async Task Function_names_a_lookup_read_before_DDL_dropped_the_cache_are_not_kept()
    {
        await using var catalog = new FakeCatalog();
        var load = catalog.LoadFunctionsAsync();
        await catalog.Entered.Task;
        catalog.Invalidate();
        catalog.Gate.SetResult();
        await load;
        Assert.False(catalog.TryGetFunctions(out _)); // not loaded: strict mode fails closed

        catalog.Reset();
        catalog.Gate.SetResult();
        await catalog.LoadFunctionsAsync();
        Assert.True(catalog.TryGetFunctions(out var names));
        Assert.Contains("f", names);
    }

    [Fact]
    public async Task Views_load_before_the_function_names_and_DDL_during_them_keeps_neither()
    {
        await using var catalog = new FakeCatalog { HoldViews = true };
        var load = catalog.LoadFunctionsAsync();
        await catalog.Entered.Task; // in the views' lookup
        catalog.Invalidate();
        catalog.Gate.SetResult();
        await load;
        Assert.False(catalog.TryGetFunctions(out _)); // function names known means views known: neither is
        Assert.Null(catalog.Views);
        Assert.Equal(0, catalog.FunctionQueries);

        await catalog.LoadFunctionsAsync(); // the gate stays open now
        Assert.True(catalog.TryGetFunctions(out _));
        Assert.Equal(["app.v"], catalog.Views);
    }

    [Fact]
    public async Task Sessions_and_statements_waiting_for_function_names_share_one_load()
    {
        await using var catalog = new FakeCatalog();
        var loads = Enumerable.Range(0, 20).Select(_ => catalog.LoadFunctionsAsync()).ToList();
        Assert.Null(catalog.FunctionsOrStartLoading()); // not loaded yet: starts nothing new either
        await catalog.Entered.Task;
        catalog.Gate.SetResult();
        await Task.WhenAll(loads);
        Assert.Equal(1, catalog.FunctionQueries);
        Assert.Same(loads[0], loads[19]);
        Assert.NotNull(catalog.FunctionsOrStartLoading());
    }

    [Fact]
    public void Every_drop_moves_the_generation_on_so_sessions_replan()
    {
        var catalog = new FakeCatalog();
        var before = catalog.Generation;
        Parallel.For(0, 1000, _ => catalog.Invalidate());
        Assert.Equal(before + 2000, catalog.Generation); // no bump lost, two per drop
    }

    private sealed class FakeConnection : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => default;
    }

    private sealed class FakeCatalog() : CatalogCache<FakeConnection, string>(TimeProvider.System)
    {
        public ConcurrentDictionary<string, string> Entries { get; } = new();

        /// <summary>Completed when a lookup has taken its generation and started its query.</summary>
        public TaskCompletionSource Entered { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>The query's answer is held until this completes.</summary>
        public TaskCompletionSource Gate { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Reset()
        {
            Entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
            Gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public Task<bool> LoadAsync(string name, string value) => UseAsync(async (_, _) =>
        {
            var generation = Generation;
            Entered.TrySetResult();
            await Gate.Task;
            return Publish(Entries, [KeyValuePair.Create(name, value)], generation);
        });

        protected override Task<FakeConnection> OpenAsync(CancellationToken ct) => Task.FromResult(new FakeConnection());

        public int FunctionQueries { get; private set; }

        protected override async Task<IReadOnlySet<string>> QueryFunctionNamesAsync(FakeConnection connection, CancellationToken ct)
        {
            FunctionQueries++;
            Entered.TrySetResult();
            await Gate.Task;
            return new HashSet<string> { "f" };
        }

        /// <summary>Hold the views' lookup (Entered, Gate) instead of the function names'.</summary>
        public bool HoldViews { get; init; }

        protected override async Task<IReadOnlyList<string>?> LoadViewsAsync(FakeConnection connection, int generation, CancellationToken ct)
        {
            if (HoldViews)
            {
                Entered.TrySetResult();
                await Gate.Task;
            }

            return Generation == generation ? ["app.v"] : null;
        }

        protected override void ClearEntries() => Entries.Clear();

        protected override void LogUnavailable(string reason) => throw new InvalidOperationException(reason);
    }
}
