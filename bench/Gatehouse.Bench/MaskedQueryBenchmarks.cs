using BenchmarkDotNet.Attributes;
using Gatehouse.Fuzz.Support;

namespace Gatehouse.Bench;

/// <summary>
/// Cost per statement of a contractor's session that sends simple Queries whose results have a derived column
/// (<c>count(*)</c>): the Query through the client's relay, then RowDescription, one DataRow, CommandComplete and
/// ReadyForQuery through the upstream's, planned in strict mode (which reads the statement's text) and masked;
/// against the same statement in an exempt session (the baseline), whose frames pass uninspected.
/// </summary>
[MemoryDiagnoser]
public class MaskedQueryBenchmarks
{
    private readonly byte[] _query = PgMessages.Query(MaskedStream.CountSql);
    private readonly byte[] _response = MaskedStream.DerivedResponse("17");
    private SteadyRelay? _client;
    private SteadyRelay? _upstream;
    private SteadyRelay? _exemptClient;
    private SteadyRelay? _exemptUpstream;

    [GlobalSetup]
    public void Setup()
    {
        (_client, _upstream) = MaskedStream.CreateSession(metrics: null);
        (_exemptClient, _exemptUpstream) = MaskedStream.CreateExemptSession();

        // Strict mode must be reading the text: a derived value of the card column comes out masked whole.
        _client.Pump(PgMessages.Query("SELECT max(card_number) FROM stream_cards"));
        if (_upstream.PumpAndRead(MaskedStream.DerivedResponse("4000000000000001")).AsSpan().IndexOf("4000000000000001"u8) >= 0)
        {
            throw new InvalidOperationException("strict mode did not mask a derived value of the card column");
        }

        _client.Pump(_query);
        if (_upstream.PumpAndRead(_response).AsSpan().IndexOf("17"u8) < 0)
        {
            throw new InvalidOperationException("the count of a statement that reads no sensitive column was masked");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client?.Dispose();
        _upstream?.Dispose();
        _exemptClient?.Dispose();
        _exemptUpstream?.Dispose();
    }

    /// <summary>The same statement in an analyst's session, without a masker.</summary>
    [Benchmark(Baseline = true)]
    public long ExemptQuery()
    {
        _exemptClient!.Pump(_query);
        return _exemptUpstream!.Pump(_response);
    }

    /// <summary>One statement and its one-row result, both ways.</summary>
    [Benchmark]
    public long DerivedColumnQuery()
    {
        _client!.Pump(_query);
        return _upstream!.Pump(_response);
    }
}
