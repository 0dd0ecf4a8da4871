using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using BenchmarkDotNet.Attributes;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.MySql.Masking;
using Gatehouse.Protocols.Postgres.Masking;
using Gatehouse.Protocols.Sql;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Metrics;

namespace Gatehouse.Bench;

/// <summary>
/// The result masker's per-row cost on a 10-column text DataRow: one column masked by rule (partial, keep 4:
/// the row is rewritten with recomputed lengths), one derived column scanned by every detector and found
/// clean, and a row with nothing to do (decided without a copy). The same for a MySQL text row (length-encoded
/// values) and a MySQL binary row (COM_STMT_EXECUTE's encoding). Target: 0 bytes per row; metrics are live,
/// as in the gateway.
/// </summary>
[MemoryDiagnoser]
public class MaskingBenchmarks
{
    private static readonly string[] Values =
    [
        "10452", "Ada Lovelace", "4111 1111 1111 1111", "ada@example.com", "2026-12-03 10:11:12+00", "shipped",
        "1499.00", "EUR", "12 Analytical Engine Way, London", "first order of the month",
    ];

    private readonly ArrayBufferWriter<byte> _output = new(4096);
    private byte[] _row = [];
    private PgRowMasker _masker = null!;
    private PgResultShape _oneMasked = null!;
    private PgResultShape _oneScanned = null!;
    private PgResultShape _nothing = null!;
    private GatehouseMetrics _metrics = null!;
    private byte[] _mySqlTextRow = [];
    private byte[] _mySqlBinaryRow = [];
    private MySqlRowMasker _mySqlMasker = null!;
    private MySqlResultShape _mySqlOneMasked = null!;
    private MySqlResultShape _mySqlNothing = null!;
    private byte[] _hugeRow = [];
    private PgRowStream _stream = null!;
    private byte[] _hugeCopyRow = [];
    private PgCopyMasker _copy = null!;
    private MaskingSession _session = null!;

    /// <summary>The 200-byte SELECT of ClassifierBenchmarks.</summary>
    internal static readonly byte[] Select = Encoding.UTF8.GetBytes("SELECT o.id, o.created_at, o.total_cents, c.email FROM public.orders o JOIN public.customers c "
        + "ON c.id = o.customer_id WHERE o.status = $1 AND o.created_at >= $2 ORDER BY o.created_at DESC LIMIT 50");

    internal static readonly byte[] Update = "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2"u8.ToArray();

    private StoreVerdicts _stores = null!;

    private static readonly HashSet<string> OwnFunctions = new(StringComparer.Ordinal) { "refresh_totals" };

    // A view column that shows a sensitive one (strict mode counts its name like a rule's).
    private static readonly SensitiveViewColumns ViewColumns = ShowingCard();

    private static SensitiveViewColumns ShowingCard()
    {
        var columns = new SensitiveViewColumns();
        columns.Add("accounts_v", "card_last_seen");
        return columns;
    }

    [GlobalSetup]
    public void Setup()
    {
        _row = DataRowBody(Values);
        var rule = new MaskingRule { Name = "cards", Columns = [ColumnPattern.TryParse("card", out var p) ? p : throw new InvalidOperationException()], Action = new MaskAction("cards", MaskStrategy.Partial) };
        var actions = DetectorActions.RedactEach();
        var session = new MaskingPolicy([rule], ContentKinds.All, actions, DetectorScope.Derived, strict: true, tokenKey: []).ForSession([], "db")!;
        _session = session;
        _stores = new StoreVerdicts(session);
        _metrics = new GatehouseMetrics(new BenchMeterFactory());
        _masker = new PgRowMasker(session, new MaskingCounter(_metrics));
        _oneMasked = Shape(column => column == 2 ? new PgColumnPlan(rule.Action, false, 25, 0) : new PgColumnPlan(null, false, 25, 0));
        _oneScanned = Shape(column => new PgColumnPlan(null, column == 9, 25, 0));
        _nothing = Shape(_ => new PgColumnPlan(null, false, 25, 0));
        _hugeRow = HugeDataRow();
        _stream = new PgRowStream(_masker, holdLimit: 1024 * 1024);
        _hugeCopyRow = HugeCopyRow();
        _copy = new PgCopyMasker(PgCopyStatement.TryRead("COPY orders TO STDOUT"u8)!, _oneMasked, session, _masker, new MaskingCounter(_metrics));
        _mySqlTextRow = MySqlTextRow(Values);
        _mySqlBinaryRow = [0x00, 0x00, 0x00, .. _mySqlTextRow]; // every column a string: length-encoded, none NULL
        _mySqlMasker = new MySqlRowMasker(session, new MaskingCounter(_metrics));
        var text = new MySqlColumn("app", "orders", "c", "c", 45, Protocols.MySql.Masking.MySqlType.VarString);
        _mySqlOneMasked = new MySqlResultShape([.. Enumerable.Range(0, Values.Length).Select(i => new MySqlColumnPlan(i == 2 ? rule.Action : null, false, text))]);
        _mySqlNothing = new MySqlResultShape([.. Enumerable.Range(0, Values.Length).Select(_ => new MySqlColumnPlan(null, false, text))]);
        if (!OneMaskedColumn() || ScannedColumnClean() || NothingToMask() || !MySqlTextOneMaskedColumn() || !MySqlBinaryOneMaskedColumn() || MySqlTextNothingToMask()
            || !StoreCheckRead() || !StoreCheckWriteRepeated() || HugeRowStreamed() != _hugeRow.Length || HugeCopyRowStreamed() != _hugeCopyRow.Length) // partial masking keeps an ASCII card's length: every byte came out
        {
            throw new InvalidOperationException("the benchmark rows do not take the paths they are named after");
        }
    }

    [Benchmark(Baseline = true)]
    public bool NothingToMask() => Mask(_nothing);

    [Benchmark]
    public bool OneMaskedColumn() => Mask(_oneMasked);

    [Benchmark]
    public bool ScannedColumnClean() => Mask(_oneScanned);

    /// <summary>
    /// A 4 MiB DataRow over the inspection limit, masked as it streams (PgRowStream) in the relay's 64 KiB parts:
    /// the card column partially masked, the 4 MiB document forwarded part by part. Per 4 MiB row; target 0 bytes.
    /// </summary>
    [Benchmark]
    public long HugeRowStreamed()
    {
        _stream.Begin(_oneMasked);
        return InParts(_hugeRow, _stream);
    }

    /// <summary>
    /// The same row as a 4 MiB text COPY row (tab-separated, as psql's <c>\copy</c> gets it), masked as it streams
    /// (PgCopyLineStream): fields carry no lengths, so each is found by its delimiter. Per 4 MiB row; target 0 bytes.
    /// </summary>
    [Benchmark]
    public long HugeCopyRowStreamed() => InParts(_hugeCopyRow, _copy.BeginStream(holdLimit: 1024 * 1024));

    /// <summary>Feeds a message to its stream in the relay's 64 KiB parts; the bytes that went out.</summary>
    private long InParts(byte[] frame, PgMessageStream stream)
    {
        const int part = 64 * 1024;
        long written = 0;
        for (var at = 0; at < frame.Length; at += part)
        {
            _output.ResetWrittenCount();
            var length = Math.Min(part, frame.Length - at);
            stream.Write(new ReadOnlySequence<byte>(frame, at, length), final: at + length == frame.Length, _output);
            written += _output.WrittenCount;
        }

        return written;
    }

    /// <summary>
    /// The laundering check a masked session runs on every statement (StrictReferences.FindStore) for the
    /// 200-byte SELECT: a read is cleared by a byte scan for the words a storing read must contain, without
    /// reading it again. Target 0 bytes.
    /// </summary>
    [Benchmark]
    public bool StoreCheckRead()
    {
        var lexer = new PgLexer(Select);
        return StrictReferences.FindStore(ref lexer, Select, Proxy.Core.Policy.StatementKind.Read, _session, OwnFunctions, ViewColumns) is null;
    }

    /// <summary>TPC-B's UPDATE, repeated as an application repeats its writes: judged once, then remembered (StoreVerdicts). Target 0 bytes.</summary>
    [Benchmark]
    public bool StoreCheckWriteRepeated()
    {
        var lexer = new PgLexer(Update);
        return _stores.Find(ref lexer, Update, Proxy.Core.Policy.StatementKind.Write, OwnFunctions, ViewColumns) is null;
    }

    [Benchmark]
    public bool MySqlTextNothingToMask() => MaskMySql(_mySqlTextRow, _mySqlNothing, binary: false);

    [Benchmark]
    public bool MySqlTextOneMaskedColumn() => MaskMySql(_mySqlTextRow, _mySqlOneMasked, binary: false);

    [Benchmark]
    public bool MySqlBinaryOneMaskedColumn() => MaskMySql(_mySqlBinaryRow, _mySqlOneMasked, binary: true);

    private bool MaskMySql(byte[] row, MySqlResultShape shape, bool binary)
    {
        _output.ResetWrittenCount();
        _mySqlMasker.TryMask(row, 1, shape, binary, _output, out var rewritten);
        return rewritten;
    }

    private static byte[] MySqlTextRow(string[] values) => [.. values.SelectMany(v => (byte[])[(byte)Encoding.UTF8.GetByteCount(v), .. Encoding.UTF8.GetBytes(v)])];

    private bool Mask(PgResultShape shape)
    {
        _output.ResetWrittenCount();
        return _masker.TryMask(_row, shape, _output, out _);
    }

    private static PgResultShape Shape(Func<int, PgColumnPlan> plan) => new(Enumerable.Range(0, Values.Length).Select(plan).ToArray());

    /// <summary>The 10 columns of <see cref="Values"/> as a whole DataRow frame, the last one a 4 MiB document.</summary>
    private static byte[] HugeDataRow()
    {
        var values = Values.ToArray();
        values[^1] = new string('d', 4 * 1024 * 1024);
        var body = DataRowBody(values);
        var frame = new byte[5 + body.Length];
        frame[0] = (byte)'D';
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), frame.Length - 1);
        body.CopyTo(frame, 5);
        return frame;
    }

    private static byte[] HugeCopyRow()
    {
        var values = Values.ToArray();
        values[^1] = new string('d', 4 * 1024 * 1024);
        var line = Encoding.UTF8.GetBytes(string.Join('\t', values) + "\n");
        var frame = new byte[5 + line.Length];
        frame[0] = (byte)'d';
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), frame.Length - 1);
        line.CopyTo(frame, 5);
        return frame;
    }

    private static byte[] DataRowBody(string[] values)
    {
        var body = new ArrayBufferWriter<byte>();
        BinaryPrimitives.WriteInt16BigEndian(body.GetSpan(2), (short)values.Length);
        body.Advance(2);
        foreach (var v in values)
        {
            var bytes = Encoding.UTF8.GetBytes(v);
            BinaryPrimitives.WriteInt32BigEndian(body.GetSpan(4), bytes.Length);
            body.Advance(4);
            body.Write(bytes);
        }

        return body.WrittenSpan.ToArray();
    }
}
