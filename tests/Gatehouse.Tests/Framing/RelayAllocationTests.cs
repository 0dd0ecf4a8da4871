using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.MySql.Masking;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Protocols.Postgres.Masking;
using Gatehouse.Protocols.Sql;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Metrics;
using Gatehouse.Proxy.Core.Policy;
using Gatehouse.Proxy.Core.Relay;
using Gatehouse.Tests.Metrics;
using static Gatehouse.Fuzz.Support.PgMessages;

namespace Gatehouse.Tests.Framing;

/// <summary>
/// The allocation budget of bench/Gatehouse.Bench/allocation-budget.json, enforced in-process on every test
/// run: each benchmark body (the same <see cref="SteadyRelay"/> the benchmarks use) is warmed up, then run
/// many times while the thread's allocated bytes are measured; bytes per operation must stay within budget.
/// Everything runs inline on the test thread, so the per-thread counter sees all of it.
/// </summary>
public sealed class RelayAllocationTests
{
    private const int Messages = 1000; // as RelayBenchmarks.Messages
    private const int WarmUp = 20;
    private const int Measured = 50;
    private const int Rounds = 3;

    private static readonly Lazy<IReadOnlyDictionary<string, long>> Budgets = new(LoadBudgets);

    // The recorder's work runs on its loop's thread, beyond this thread's allocation counter, and the sync
    // benchmark waits on the disk 100,000 times: BenchmarkDotNet's MemoryDiagnoser holds those to their budget
    // (--allocation-budget).
    public static TheoryData<string> BudgetedBenchmarks => [.. Budgets.Value.Keys
        .Where(k => !k.StartsWith("RecorderBenchmarks.", StringComparison.Ordinal) && !k.StartsWith("SegmentSyncBenchmarks.", StringComparison.Ordinal))
        .Order(StringComparer.Ordinal)];

    [Theory]
    [MemberData(nameof(BudgetedBenchmarks))]
    public void Allocated_bytes_per_operation_stay_within_budget(string benchmark)
    {
        var budget = Budgets.Value[benchmark];
        double perOperation;
        if (benchmark.StartsWith("RelayBenchmarks.", StringComparison.Ordinal) || benchmark.StartsWith("MaskedStreamBenchmarks.", StringComparison.Ordinal))
        {
            using var pump = CreatePump(benchmark, out var batch, out var direction);
            var framesBefore = (pump as SteadyRelay)?.Relay.Frames ?? 0; // a masked stream's relay has had its RowDescription
            var outputLength = 0L;
            for (var i = 0; i < WarmUp; i++)
            {
                outputLength = pump.Pump(batch);
            }

            Assert.Equal(batch.Length, outputLength); // what went in came out
            // Steady state is the least of three measured rounds: a one-off allocation on this thread (the
            // runtime's own, while other tests load the machine) is not the relay's per-message cost.
            perOperation = double.MaxValue;
            for (var round = 0; round < Rounds; round++)
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                for (var i = 0; i < Measured; i++)
                {
                    pump.Pump(batch);
                }

                perOperation = Math.Min(perOperation, (GC.GetAllocatedBytesForCurrentThread() - before) / (double)(Measured * Messages));
            }

            if (pump is SteadyRelay relay)
            {
                Assert.Equal((WarmUp + Rounds * Measured) * (long)Messages, relay.Relay.Frames - framesBefore);
            }
        }
        else
        {
            var decode = CreateDecode(benchmark);
            // What each body returns: a DataRow's length, one statement, or the whole mix allowed.
            var expected = benchmark switch
            {
                "ClassifierBenchmarks.PgGuardMix" => 6,
                _ when benchmark.StartsWith("ClassifierBenchmarks.", StringComparison.Ordinal) => 1,
                "MaskingBenchmarks.OneMaskedColumn" or "MaskingBenchmarks.MySqlTextOneMaskedColumn" or "MaskingBenchmarks.MySqlBinaryOneMaskedColumn"
                    or "MaskingBenchmarks.HugeRowStreamed" or "MaskingBenchmarks.HugeCopyRowStreamed" => 1,
                _ when benchmark.StartsWith("MaskingBenchmarks.", StringComparison.Ordinal) => 0,
                _ when benchmark.StartsWith("MaskedQueryBenchmarks.", StringComparison.Ordinal) => 1,
                _ => 100,
            };
            for (var i = 0; i < 1000; i++)
            {
                Assert.Equal(expected, decode());
            }

            // The least of a few rounds, as for the relay: an allocation made once (a lazy static, a buffer the
            // runtime makes for this thread) shows in one round; one made per operation shows in every round.
            const int perRound = 34_000; // about 100,000 in all, as before the rounds (the huge row takes 70 µs each)
            perOperation = double.MaxValue;
            for (var round = 0; round < Rounds; round++)
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                for (var i = 0; i < perRound; i++)
                {
                    decode();
                }

                perOperation = Math.Min(perOperation, (GC.GetAllocatedBytesForCurrentThread() - before) / (double)perRound);
            }
        }

        Assert.True(perOperation <= budget, $"{benchmark}: {perOperation:F3} B/op allocated, budget {budget} B/op");
    }

    [Fact]
    public void The_typical_DataRow_is_100_bytes()
        => Assert.Equal(100, TypicalDataRow().Length);

    private static IBatchPump CreatePump(string benchmark, out byte[] batch, out Direction direction)
    {
        if (benchmark.StartsWith("MaskedStreamBenchmarks.", StringComparison.Ordinal))
        {
            direction = Direction.UpstreamToClient;
            batch = MaskedStream.Batch(Messages);
            return MaskedStream.Create(masked: benchmark.EndsWith(".Masked", StringComparison.Ordinal), new GatehouseMetrics(new OwnMeterFactory()));
        }

        var dataRows = benchmark.EndsWith("(Workload=DataRow)", StringComparison.Ordinal);
        Assert.True(dataRows || benchmark.EndsWith("(Workload=QuerySync)", StringComparison.Ordinal), benchmark);
        direction = dataRows ? Direction.UpstreamToClient : Direction.ClientToUpstream;
        batch = dataRows
            ? Concat([.. Enumerable.Repeat(TypicalDataRow(), Messages)])
            : Concat([.. Enumerable.Repeat(Concat(Query("select id, email, created from users where id = 1042"), Sync()), Messages / 2)]);
        var decoder = dataRows ? PgFrameDecoder.Backend : PgFrameDecoder.ForFrontend(16 * 1024 * 1024);
        var method = benchmark["RelayBenchmarks.".Length..benchmark.IndexOf('(', StringComparison.Ordinal)];
        return method switch
        {
            "PipeCopy" => new SteadyPipeCopy(),
            "Relay" => new SteadyRelay(direction, decoder, PassThroughRewriter.Instance),
            "RelaySessionRewriter" => new SteadyRelay(direction, decoder, new PgSessionRewriter()),
            _ => throw new InvalidOperationException($"no in-process body for {benchmark}: add one here when adding a benchmark"),
        };
    }

    private static Func<long> CreateDecode(string benchmark)
    {
        if (benchmark.StartsWith("ClassifierBenchmarks.", StringComparison.Ordinal))
        {
            return CreateClassify(benchmark);
        }

        if (benchmark.StartsWith("MaskingBenchmarks.", StringComparison.Ordinal))
        {
            return CreateMask(benchmark);
        }

        if (benchmark.StartsWith("MaskedQueryBenchmarks.", StringComparison.Ordinal))
        {
            return CreateQuery(benchmark);
        }

        var row = TypicalDataRow();
        var buffer = benchmark switch
        {
            "FrameDecoderBenchmarks.SingleSegment" => new ReadOnlySequence<byte>(row),
            "FrameDecoderBenchmarks.HeaderSplitAcrossSegments" => SequenceFactory.FromSegments(row, [2, row.Length - 2]),
            "FrameDecoderBenchmarks.OneBytePerSegment" => SequenceFactory.FromSegments(row, [.. Enumerable.Repeat(1, row.Length)]),
            _ => throw new InvalidOperationException($"no in-process body for {benchmark}: add one here when adding a benchmark"),
        };
        var decoder = PgFrameDecoder.Backend;
        return () =>
        {
            decoder.TryReadHeader(buffer, out var header, out _);
            return header.TotalLength;
        };
    }

    /// <summary>As bench/Gatehouse.Bench/MaskedQueryBenchmarks.cs: one statement and its one-row result through both directions of a session; 1 = the row came back as sent.</summary>
    private static Func<long> CreateQuery(string benchmark)
    {
        var (client, upstream) = benchmark.EndsWith(".ExemptQuery", StringComparison.Ordinal)
            ? MaskedStream.CreateExemptSession() : MaskedStream.CreateSession(new GatehouseMetrics(new OwnMeterFactory()));
        var query = Query(MaskedStream.CountSql);
        var response = MaskedStream.DerivedResponse("17");
        return () =>
        {
            client.Pump(query);
            return upstream.Pump(response) == response.Length ? 1 : 0;
        };
    }

    /// <summary>As bench/Gatehouse.Bench/MaskingBenchmarks.cs: a 10-column text row, one column masked, scanned, or none; 1 = rewritten.</summary>
    private static Func<long> CreateMask(string benchmark)
    {
        string?[] values = ["10452", "Ada Lovelace", "4111 1111 1111 1111", "ada@example.com", "2026-12-03 10:11:12+00", "shipped", "1499.00", "EUR", "12 Analytical Engine Way, London", "first order of the month"];
        var body = DataRow(values)[5..];
        var rule = new MaskAction("cards", MaskStrategy.Partial);
        var actions = Enum.GetValues<ContentKinds>()
            .Where(k => k is not (ContentKinds.None or ContentKinds.All))
            .ToDictionary(k => k, k => new MaskAction("detector", MaskStrategy.Redact));
        var session = new MaskingPolicy([], ContentKinds.All, actions,
            DetectorScope.Derived, strict: true, tokenKey: []).ForSession([], "db")!;
        if (benchmark.StartsWith("MaskingBenchmarks.MySql", StringComparison.Ordinal))
        {
            var text = new MySqlColumn("app", "orders", "c", "c", 45, MySqlType.VarString);
            var mySqlShape = new MySqlResultShape([.. Enumerable.Range(0, values.Length)
                .Select(i => new MySqlColumnPlan(i == 2 && benchmark.Contains("OneMasked", StringComparison.Ordinal) ? rule : null, false, text))]);
            byte[] textRow = [.. values.SelectMany(v => (byte[])[(byte)Encoding.UTF8.GetByteCount(v!), .. Encoding.UTF8.GetBytes(v!)])];
            var binary = benchmark.Contains("Binary", StringComparison.Ordinal);
            byte[] row = binary ? [0x00, 0x00, 0x00, .. textRow] : textRow;
            var mySqlMasker = new MySqlRowMasker(session, new MaskingCounter(null));
            var mySqlOutput = new ArrayBufferWriter<byte>(4096);
            return () =>
            {
                mySqlOutput.ResetWrittenCount();
                mySqlMasker.TryMask(row, 1, mySqlShape, binary, mySqlOutput, out var rewritten);
                return rewritten ? 1 : 0;
            };
        }

        if (benchmark is "MaskingBenchmarks.StoreCheckRead" or "MaskingBenchmarks.StoreCheckWriteRepeated")
        {
            var select = Encoding.UTF8.GetBytes("SELECT o.id, o.created_at, o.total_cents, c.email FROM public.orders o JOIN public.customers c "
                + "ON c.id = o.customer_id WHERE o.status = $1 AND o.created_at >= $2 ORDER BY o.created_at DESC LIMIT 50");
            var cards = new MaskingPolicy([new MaskingRule { Name = "cards", Columns = [ColumnPattern.TryParse("card", out var p) ? p : null!], Action = rule }],
                ContentKinds.All, actions, DetectorScope.Derived, strict: true, tokenKey: []).ForSession([], "db")!;
            var functions = new HashSet<string>(StringComparer.Ordinal) { "refresh_totals" };
            var views = new SensitiveViewColumns();
            views.Add("accounts_v", "card_last_seen");
            var update = "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2"u8.ToArray();
            var stores = new StoreVerdicts(cards);
            var (text, kind) = benchmark.EndsWith("Read", StringComparison.Ordinal) ? (select, StatementKind.Read) : (update, StatementKind.Write);
            return () =>
            {
                var lexer = new PgLexer(text);
                return stores.Find(ref lexer, text, kind, functions, views) is null ? 0 : 1;
            };
        }

        var masker = new PgRowMasker(session, new MaskingCounter(null));
        if (benchmark == "MaskingBenchmarks.HugeRowStreamed")
        {
            // As the benchmark, with a 256 KiB document instead of 4 MiB (the same parts, a tenth of the time).
            values[^1] = new string('d', 256 * 1024);
            var frame = DataRow(values);
            var stream = new PgRowStream(masker, holdLimit: 1024 * 1024);
            var cardMasked = new PgResultShape([.. Enumerable.Range(0, values.Length).Select(i => new PgColumnPlan(i == 2 ? rule : null, false, 25, 0))]);
            return StreamInParts(frame, () =>
            {
                stream.Begin(cardMasked);
                return stream;
            });
        }

        if (benchmark == "MaskingBenchmarks.HugeCopyRowStreamed")
        {
            // As the benchmark, with a 256 KiB document instead of 4 MiB.
            values[^1] = new string('d', 256 * 1024);
            var line = Encoding.UTF8.GetBytes(string.Join('\t', values) + "\n");
            byte[] frame = [(byte)'d', 0, 0, 0, 0, .. line];
            BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), frame.Length - 1);
            var cardMasked = new PgResultShape([.. Enumerable.Range(0, values.Length).Select(i => new PgColumnPlan(i == 2 ? rule : null, false, 25, 0))]);
            var copy = new PgCopyMasker(PgCopyStatement.TryRead("COPY orders TO STDOUT"u8)!, cardMasked, session, masker, new MaskingCounter(null));
            return StreamInParts(frame, () => copy.BeginStream(holdLimit: 1024 * 1024));
        }

        var shape = new PgResultShape([.. Enumerable.Range(0, values.Length).Select(i => benchmark switch
        {
            "MaskingBenchmarks.OneMaskedColumn" when i == 2 => new PgColumnPlan(rule, false, 25, 0),
            "MaskingBenchmarks.ScannedColumnClean" when i == 9 => new PgColumnPlan(null, true, 25, 0),
            _ => new PgColumnPlan(null, false, 25, 0),
        })]);
        var output = new ArrayBufferWriter<byte>(4096);
        return () =>
        {
            output.ResetWrittenCount();
            return masker.TryMask(body, shape, output, out _) ? 1 : 0;
        };
    }

    /// <summary>A message too large to inspect, masked as it streams in the relay's 64 KiB parts; 1 = every part taken.</summary>
    private static Func<long> StreamInParts(byte[] frame, Func<PgMessageStream> begin)
    {
        var streamed = new ArrayBufferWriter<byte>(64 * 1024);
        return () =>
        {
            var stream = begin();
            var ok = true;
            for (var at = 0; at < frame.Length; at += 64 * 1024)
            {
                streamed.ResetWrittenCount();
                var length = Math.Min(64 * 1024, frame.Length - at);
                ok &= stream.Write(new ReadOnlySequence<byte>(frame, at, length), final: at + length == frame.Length, streamed).Action == RewriteAction.Replace;
            }

            return ok ? 1 : 0;
        };
    }

    /// <summary>As bench/Gatehouse.Bench/ClassifierBenchmarks.cs: the same statements, classifiers and rules.</summary>
    private static Func<long> CreateClassify(string benchmark)
    {
        var pgSelect = Encoding.UTF8.GetBytes("SELECT o.id, o.created_at, o.total_cents, c.email FROM public.orders o JOIN public.customers c ON c.id = o.customer_id "
            + "WHERE o.status = $1 AND o.created_at >= $2 ORDER BY o.created_at DESC LIMIT 50");
        var mySqlSelect = Encoding.UTF8.GetBytes("SELECT o.id, o.created_at, o.total_cents, c.email FROM `shop`.`orders` o JOIN customers c ON c.id = o.customer_id "
            + "WHERE o.status = ? AND o.created_at >= ? ORDER BY o.created_at DESC LIMIT 50");
        byte[][] mix =
        [
            pgSelect, "BEGIN"u8.ToArray(), "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2"u8.ToArray(),
            "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)"u8.ToArray(),
            "/* app:checkout */ SELECT abalance FROM pgbench_accounts WHERE aid = $1"u8.ToArray(), "END"u8.ToArray(),
        ];
        var result = new SqlClassification();
        var guard = new StatementGuard(new StatementPolicy(
        [
            new PolicyRule { Name = "dba-maintenance", Decision = PolicyDecision.Allow, Roles = new HashSet<string> { "dba" }, Risks = StatementRisk.Drop | StatementRisk.Truncate },
            new PolicyRule { Name = "no-writes-to-audit", Decision = PolicyDecision.Deny, Kinds = new HashSet<StatementKind> { StatementKind.Write }, Objects = [new ObjectPattern("audit.log_*")] },
            new PolicyRule { Name = "grants-need-approval", Decision = PolicyDecision.Hold, Risks = StatementRisk.GrantRevoke },
        ]), new PgSqlClassifier(), new PolicySubject("bench", "alice", ["analyst"], "app-db"));
        ISqlClassifier classifier = benchmark.Contains("MySql", StringComparison.Ordinal) ? new MySqlSqlClassifier() : new PgSqlClassifier();
        var sql = benchmark.Contains("MySql", StringComparison.Ordinal) ? mySqlSelect : pgSelect;
        return benchmark switch
        {
            "ClassifierBenchmarks.PgClassifySelect" or "ClassifierBenchmarks.MySqlClassifySelect" => () =>
            {
                result.Clear();
                classifier.Classify(sql, result);
                return result.Statements.Count;
            },
            "ClassifierBenchmarks.PgGuardMix" => () =>
            {
                var allowed = 0;
                foreach (var statement in mix)
                {
                    allowed += guard.Judge(statement).Allowed ? 1 : 0;
                }

                return allowed;
            },
            _ => throw new InvalidOperationException($"no in-process body for {benchmark}: add one here when adding a benchmark"),
        };
    }

    /// <summary>As bench/Gatehouse.Bench/Workloads.cs: four text columns, 100 bytes on the wire.</summary>
    private static byte[] TypicalDataRow() => DataRow("1042", "alice@example.com", "2024-06-01 12:34:56.789+00", "a text column of thirty bytes.");

    private static IReadOnlyDictionary<string, long> LoadBudgets()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Gatehouse.slnx")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        var path = Path.Combine(dir.FullName, "bench", "Gatehouse.Bench", "allocation-budget.json");
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        return json.RootElement.GetProperty("budgets").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt64(), StringComparer.Ordinal);
    }
}
