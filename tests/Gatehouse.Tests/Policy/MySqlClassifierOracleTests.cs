using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Gatehouse.Host.Demo;
using Gatehouse.Protocols.Sql;
using Gatehouse.Proxy.Core.Policy;
using Gatehouse.Tests.Fixtures;
using Xunit.Abstractions;

namespace Gatehouse.Tests.Policy;

/// <summary>
/// Effect oracle: each corpus text runs for real on MariaDB (one COM_QUERY, multi-statements on, so the server
/// splits it), and whatever it did to a scratch database (dropped, emptied, rewritten, altered) must have been
/// flagged by some statement of <see cref="MySqlSqlClassifier"/>'s reading, or the classifier must have said
/// Unknown. There is no MySQL parser library; the server itself is the only authority on what a text does.
/// </summary>
[Collection("mariadb")]
public sealed class MySqlClassifierOracleTests
{
    private const string Database = "oracle_s";
    private const string SecondDatabase = "oracle_s_b"; // a case renames a table into it
    private const string User = "gatehouse_oracle";
    private const int ShownFailures = 50;

    private static readonly string[] Modes = ["default", "NO_BACKSLASH_ESCAPES", "ANSI_QUOTES"];

    private static readonly string ResetSql = $"""
        DROP DATABASE IF EXISTS {Database}; DROP DATABASE IF EXISTS {SecondDatabase}; CREATE DATABASE {Database};
        CREATE TABLE {Database}.canary (id int PRIMARY KEY, v varchar(20), c2 int) ENGINE = MyISAM;
        INSERT INTO {Database}.canary VALUES (1, 'a', 10), (2, 'b', 20), (3, 'c', 30);
        CREATE TABLE {Database}.other (id int PRIMARY KEY, w varchar(20)) ENGINE = MyISAM;
        INSERT INTO {Database}.other VALUES (1, 'p'), (2, 'q');
        CREATE VIEW {Database}.canary_v AS SELECT id, v FROM {Database}.canary
        """;

    // MyISAM on purpose: a non-transactional engine keeps what a statement did even if the text then rolls back
    // or the session ends, so every effect the server performed is visible to the observer.
    private static readonly string ObserveSql = $"""
        SELECT
          (SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{Database}'),
          (SELECT count(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{SecondDatabase}'),
          (SELECT group_concat(TABLE_NAME, ':', TABLE_TYPE, ':', coalesce(ENGINE, ''), ':', coalesce(CREATE_OPTIONS, '') ORDER BY TABLE_NAME)
             FROM information_schema.TABLES WHERE TABLE_SCHEMA = '{Database}'),
          (SELECT group_concat(COLUMN_NAME, ':', COLUMN_TYPE ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS
             WHERE TABLE_SCHEMA = '{Database}' AND TABLE_NAME = 'canary'),
          (SELECT group_concat(COLUMN_NAME, ':', COLUMN_TYPE ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS
             WHERE TABLE_SCHEMA = '{Database}' AND TABLE_NAME = 'other'),
          (SELECT count(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '{Database}')
            + (SELECT count(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '{Database}')
            + (SELECT count(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = '{Database}'),
          (SELECT count(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '{Database}'),
          (SELECT group_concat(TABLE_NAME) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '{Database}' AND VIEW_DEFINITION LIKE '%canary%')
        """;

    private readonly LocalMariaDb _db;
    private readonly ITestOutputHelper _output;

    public MySqlClassifierOracleTests(MariaDbFixture fixture, ITestOutputHelper output)
    {
        _db = fixture.Server;
        _output = output;
    }

    [Fact]
    public async Task Every_effect_the_server_shows_was_flagged_or_the_classifier_said_unknown()
    {
        var clock = Stopwatch.StartNew();
        var password = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        // Its own account, limited to the scratch databases: a hostile text cannot reach the fixture's app data.
        await _db.QueryAsync(
            $"CREATE OR REPLACE USER '{User}'@'127.0.0.1' IDENTIFIED BY '{password}';"
            + $"GRANT ALL ON `{Database}`.* TO '{User}'@'127.0.0.1'; GRANT ALL ON `{SecondDatabase}`.* TO '{User}'@'127.0.0.1';",
            "mysql");

        try
        {
            await RunCorpusAsync(password, clock);
        }
        finally
        {
            // The server is shared with the rest of the collection: leave it as the fixture made it.
            await _db.QueryAsync(
                $"DROP DATABASE IF EXISTS {Database}; DROP DATABASE IF EXISTS {SecondDatabase}; DROP USER IF EXISTS '{User}'@'127.0.0.1';", "mysql");
        }
    }

    private async Task RunCorpusAsync(string password, Stopwatch clock)
    {
        await using var admin = await MySqlOracleClient.ConnectAsync(_db.Port, User, password, null);
        await admin.QueryAsync("SET SESSION lock_wait_timeout = 10");
        var cases = MySqlOracleCases.All(Database);
        var classifier = new MySqlSqlClassifier();
        var run = new Run();

        Must(await admin.QueryAsync(ResetSql), "reset");
        var baseline = await ObserveAsync(admin);
        foreach (var oracleCase in cases)
        {
            var classification = new SqlClassification();
            classifier.Classify(Encoding.UTF8.GetBytes(oracleCase.Sql), classification);
            var statements = Effective(classification);
            if (oracleCase.Harmless)
            {
                CheckHarmless(run, oracleCase, statements);
            }

            var quoting = oracleCase.Sql.Contains('\\', StringComparison.Ordinal) || oracleCase.Sql.Contains('"', StringComparison.Ordinal);
            foreach (var mode in quoting ? Modes : Modes[..1])
            {
                run.Runs++;
                var outcome = await RunCaseAsync(password, mode, oracleCase.Sql);
                var state = await ObserveAsync(admin);
                if (state == baseline)
                {
                    continue;
                }

                var effects = Effects(baseline, state, await SurvivorsAsync(admin));
                run.RunsWithEffects++;
                foreach (var effect in effects)
                {
                    run.EffectCounts[effect.Name] = run.EffectCounts.GetValueOrDefault(effect.Name) + 1;
                    Judge(run, oracleCase, mode, outcome, effect, statements, classification);
                }

                // Only a changed database is rebuilt: most texts change nothing, and rebuilding is the slow part.
                Must(await admin.QueryAsync(ResetSql), "reset");
                Assert.Equal(baseline, await ObserveAsync(admin));
            }
        }

        _output.WriteLine($"cases: {cases.Count} ({cases.Count(c => c.Harmless)} harmless), runs (case x sql_mode): {run.Runs}, "
            + $"runs with effects: {run.RunsWithEffects}, time: {clock.Elapsed.TotalSeconds:0.0} s");
        _output.WriteLine($"effects seen: {string.Join(", ", run.EffectCounts.OrderByDescending(e => e.Value).Select(e => $"{e.Key}={e.Value}"))}");
        _output.WriteLine($"effects flagged: {run.Flagged}, excused by Unknown: {run.ExcusedUnknown}, excused by a routine body or CALL/DO: {run.ExcusedOpaque}");
        _output.WriteLine($"cases excused by Unknown: {string.Join(", ", run.UnknownCases)}");
        _output.WriteLine($"mismatches: {run.Failures.Count}, value-dependent notes (not failures): {run.Notes.Count}, harmless violations: {run.HarmlessFailures.Count}");
        foreach (var note in run.Notes)
        {
            _output.WriteLine("note: " + note);
        }

        foreach (var failure in run.Failures.Concat(run.HarmlessFailures))
        {
            _output.WriteLine("FAIL: " + failure);
        }

        var all = run.Failures.Concat(run.HarmlessFailures).ToList();
        Assert.True(all.Count == 0,
            $"{all.Count} classifier mismatches (first {Math.Min(ShownFailures, all.Count)}):\n{string.Join("\n", all.Take(ShownFailures))}");
    }

    /// <summary>Runs one text on a fresh session (no variables, prepared statements, temporary tables or locks carried over).</summary>
    private async Task<QueryOutcome> RunCaseAsync(string password, string mode, string sql)
    {
        await using var victim = await MySqlOracleClient.ConnectAsync(_db.Port, User, password, Database);
        if (mode != Modes[0])
        {
            // Added to the server's default, so only the quoting rule differs from the default run.
            Must(await victim.QueryAsync($"SET SESSION sql_mode = CONCAT(@@sql_mode, ',{mode}')"), "sql_mode");
        }

        return await victim.QueryAsync(sql);
    }

    private static void Must(QueryOutcome outcome, string what) =>
        Assert.True(outcome.Error is null, $"{what} failed: {outcome.Error}");

    /// <summary>The classification as the guard judges it: an EXECUTE of a name this text prepared is what was prepared.</summary>
    private static List<ClassifiedStatement> Effective(SqlClassification classification)
    {
        var prepared = new Dictionary<string, ClassifiedStatement>(StringComparer.Ordinal);
        var statements = new List<ClassifiedStatement>();
        foreach (var statement in classification.Statements)
        {
            var effective = statement;
            switch (statement.Prepared)
            {
                case PreparedAction.Prepare when statement.PreparedName is { } name:
                    prepared[name] = statement;
                    break;
                case PreparedAction.Execute when statement.PreparedName is { } name && prepared.TryGetValue(name, out var known):
                    effective = statement with { Kind = known.Kind, Risks = known.Risks | StatementRisk.DynamicSql };
                    break;
                case PreparedAction.Deallocate when statement.PreparedName is { } name:
                    prepared.Remove(name);
                    break;
            }

            statements.Add(effective);
        }

        return statements;
    }

    private static void CheckHarmless(Run run, MySqlOracleCase oracleCase, List<ClassifiedStatement> statements)
    {
        foreach (var s in statements)
        {
            if (s.Kind == StatementKind.Unknown || (s.Risks & StatementPolicy.DefaultDenied) != 0)
            {
                run.HarmlessFailures.Add($"[{oracleCase.Name}] harmless text {Quote(oracleCase.Sql)} classified {s.Kind} {s.Risks} ({s.Note})");
            }
        }
    }

    private static void Judge(Run run, MySqlOracleCase oracleCase, string mode, QueryOutcome outcome, Effect effect,
        List<ClassifiedStatement> statements, SqlClassification classification)
    {
        if (statements.Any(s => (s.Risks & effect.Flags) != 0 || (effect.Kinds.Contains(s.Kind) && effect.Flags == StatementRisk.None)))
        {
            run.Flagged++;
            return;
        }

        if (statements.Any(s => s.Kind == StatementKind.Unknown))
        {
            run.ExcusedUnknown++;
            run.UnknownCases.Add(oracleCase.Name);
            return;
        }

        // A routine body is judged where it is created (RoutineBody, denied by default); CALL and DO run code
        // decided elsewhere: neither can say what the body does, and both are flagged as such.
        if (statements.Any(s => (s.Risks & StatementRisk.RoutineBody) != 0 || ((s.Risks & StatementRisk.DynamicSql) != 0 && s.Prepared == PreparedAction.None)))
        {
            run.ExcusedOpaque++;
            return;
        }

        var line = $"[{oracleCase.Name}] text {Quote(oracleCase.Sql)} mode {mode}: effect {effect.Name} ({effect.Detail}) needs "
            + $"{(effect.Flags == StatementRisk.None ? string.Join("|", effect.Kinds) : effect.Flags.ToString())}; server ran {outcome.Succeeded} result(s)"
            + (outcome.Error is null ? "" : $", then error {outcome.Error}")
            + $"; classifier: {Describe(oracleCase.Sql, classification)}";
        if (oracleCase.ValueDependent && statements.Any(s => s.Kind is StatementKind.Write or StatementKind.Ddl))
        {
            run.Notes.Add(line);
        }
        else
        {
            run.Failures.Add(line);
        }
    }

    private static string Describe(string sql, SqlClassification classification)
    {
        var bytes = Encoding.UTF8.GetBytes(sql);
        return string.Join("; ", classification.Statements.Select(s =>
            $"{s.Kind} {s.Risks}{(s.Note is null ? "" : $" ({s.Note})")} @{s.Start}+{s.Length} "
            + Quote(Encoding.UTF8.GetString(bytes, Math.Min(s.Start, bytes.Length), Math.Min(s.Length, bytes.Length - Math.Min(s.Start, bytes.Length))))));
    }

    private static string Quote(string text) =>
        "«" + text.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\t", "\\t", StringComparison.Ordinal) + "»";

    private static async Task<State> ObserveAsync(MySqlOracleClient admin)
    {
        var outcome = await admin.QueryAsync(ObserveSql);
        Must(outcome, "observe");
        var row = outcome.ResultSets[0][0];
        var state = new State(row[0] == "1", row[1] == "1", row[2] ?? "", row[3] ?? "", row[4] ?? "", row[5] ?? "0", row[6] ?? "0", row[7] ?? "", "", "");
        if (!state.DatabaseExists)
        {
            return state;
        }

        return state with
        {
            CanaryRows = await RowsAsync(admin, $"{Database}.canary", state.CanaryColumns),
            OtherRows = await RowsAsync(admin, $"{Database}.other", state.OtherColumns),
        };
    }

    private static async Task<string> RowsAsync(MySqlOracleClient admin, string table, string columns)
    {
        if (columns.Length == 0)
        {
            return "";
        }

        var outcome = await admin.QueryAsync($"SELECT * FROM {table} ORDER BY 1");
        if (outcome.Error is not null)
        {
            return "error: " + outcome.Error;
        }

        // Each value with its column name, so rows compare on the columns both sides still have.
        var names = columns.Split(',').Select(c => c.Split(':')[0]).ToArray();
        return string.Join(",", outcome.ResultSets[0].Select(r => string.Join("|", r.Select((v, i) => $"{names[i]}={v ?? "NULL"}"))));
    }

    /// <summary>The contents of every base table in both scratch databases: where the canaries' data went after a RENAME.</summary>
    private static async Task<HashSet<string>> SurvivorsAsync(MySqlOracleClient admin)
    {
        var survivors = new HashSet<string>(StringComparer.Ordinal);
        var tables = await admin.QueryAsync(
            $"SELECT TABLE_SCHEMA, TABLE_NAME, group_concat(COLUMN_NAME, ':' ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS "
            + $"WHERE TABLE_SCHEMA IN ('{Database}', '{SecondDatabase}') AND TABLE_NAME IN (SELECT TABLE_NAME FROM information_schema.TABLES "
            + $"WHERE TABLE_SCHEMA = COLUMNS.TABLE_SCHEMA AND TABLE_TYPE = 'BASE TABLE') GROUP BY TABLE_SCHEMA, TABLE_NAME");
        Must(tables, "survivors");
        foreach (var row in tables.ResultSets[0])
        {
            var rows = await RowsAsync(admin, $"`{row[0]}`.`{row[1]}`", row[2]!);
            survivors.Add(rows);
        }

        return survivors;
    }

    /// <summary>What changed from the baseline, each with the flags (or, for mild effects, kinds) that account for it.</summary>
    private static List<Effect> Effects(State before, State after, HashSet<string> survivors)
    {
        var effects = new List<Effect>();
        // A canary whose exact contents now live under another name was renamed (RENAME, ALTER ... RENAME): data kept.
        var moved = new Dictionary<string, bool>(StringComparer.Ordinal)
        {
            ["canary"] = survivors.Contains(before.CanaryRows) && after.CanaryRows != before.CanaryRows,
            ["other"] = survivors.Contains(before.OtherRows) && after.OtherRows != before.OtherRows,
        };
        foreach (var (name, renamed) in moved)
        {
            if (renamed)
            {
                effects.Add(new Effect("table renamed", name, StatementRisk.None, [StatementKind.Ddl]));
            }
        }

        if (!after.DatabaseExists)
        {
            effects.Add(new Effect("database dropped", Database, StatementRisk.DropDatabase, []));
            return effects;
        }

        var beforeTables = Names(before.Tables);
        var afterTables = Names(after.Tables);
        var created = afterTables.Keys.Except(beforeTables.Keys).ToList();
        foreach (var (name, _) in beforeTables)
        {
            if (!afterTables.ContainsKey(name) && !moved.GetValueOrDefault(name))
            {
                // A name gone while another appeared may be a RENAME (data kept): any DDL accounts for that.
                effects.Add(created.Count > 0
                    ? new Effect("object gone or renamed", $"{name} -> {string.Join("/", created)}", StatementRisk.None, [StatementKind.Ddl])
                    : new Effect("object dropped", name, StatementRisk.Drop | StatementRisk.DropDatabase, []));
            }
        }

        if (created.Count > 0)
        {
            effects.Add(new Effect("object created", string.Join("/", created), StatementRisk.None, [StatementKind.Ddl]));
        }

        foreach (var (name, definition) in beforeTables)
        {
            if (afterTables.TryGetValue(name, out var now) && now != definition)
            {
                effects.Add(new Effect("object redefined", $"{name}: {definition} -> {now}", StatementRisk.None, [StatementKind.Ddl]));
            }
        }

        if (before.CanaryViewDefinitions != after.CanaryViewDefinitions && afterTables.ContainsKey("canary_v"))
        {
            effects.Add(new Effect("view replaced", after.CanaryViewDefinitions, StatementRisk.None, [StatementKind.Ddl]));
        }

        if (before.Routines != after.Routines)
        {
            effects.Add(new Effect("routine/trigger/event created", after.Routines, StatementRisk.None, [StatementKind.Ddl]));
        }

        if (before.Indexes != after.Indexes)
        {
            effects.Add(new Effect("indexes changed", $"{before.Indexes} -> {after.Indexes}", StatementRisk.None, [StatementKind.Ddl]));
        }

        TableEffects(effects, "canary", before.CanaryColumns, after.CanaryColumns, before.CanaryRows, after.CanaryRows,
            afterTables.ContainsKey("canary") && !moved["canary"]);
        TableEffects(effects, "other", before.OtherColumns, after.OtherColumns, before.OtherRows, after.OtherRows,
            afterTables.ContainsKey("other") && !moved["other"]);
        if (effects.Count == 0 && after.SecondDatabaseExists)
        {
            effects.Add(new Effect("database created", SecondDatabase, StatementRisk.None, [StatementKind.Ddl]));
        }

        return effects;

        static Dictionary<string, string> Names(string tables) =>
            tables.Split(',', StringSplitOptions.RemoveEmptyEntries).ToDictionary(t => t.Split(':')[0], t => t, StringComparer.Ordinal);
    }

    private static void TableEffects(List<Effect> effects, string table, string columnsBefore, string columnsAfter,
        string rowsBefore, string rowsAfter, bool exists)
    {
        StatementKind[] changing = [StatementKind.Write, StatementKind.Ddl];
        if (!exists)
        {
            return;
        }

        var beforeColumns = columnsBefore.Split(',').Select(c => c.Split(':')[0]).ToList();
        var afterColumns = columnsAfter.Split(',').Select(c => c.Split(':')[0]).ToList();
        var lost = beforeColumns.Except(afterColumns).ToList();
        if (lost.Count > 0)
        {
            // A replaced table (CREATE OR REPLACE) loses its columns too; a renamed column keeps the data.
            effects.Add(afterColumns.Except(beforeColumns).Any() && afterColumns.Count >= beforeColumns.Count
                ? new Effect("column renamed", $"{table}.{string.Join("/", lost)}", StatementRisk.None, [StatementKind.Ddl])
                : new Effect("column dropped", $"{table}.{string.Join("/", lost)}", StatementRisk.AlterDrop | StatementRisk.Drop, []));
        }
        else if (columnsBefore != columnsAfter)
        {
            effects.Add(new Effect("column changed", $"{table}: {columnsAfter}", StatementRisk.None, [StatementKind.Ddl]));
        }

        if (rowsBefore == rowsAfter)
        {
            return;
        }

        // Rows by their id, compared on the columns both sides have (a dropped column is its own effect above).
        var common = beforeColumns.Intersect(afterColumns).ToHashSet(StringComparer.Ordinal);
        var before = Rows(rowsBefore, common);
        var after = Rows(rowsAfter, common);
        if (before.Count == after.Count && before.All(kv => after.TryGetValue(kv.Key, out var now) && now == kv.Value))
        {
            return;
        }

        var deleted = before.Keys.Count(k => !after.ContainsKey(k));
        var changed = before.Count(kv => after.TryGetValue(kv.Key, out var now) && now != kv.Value);
        var added = after.Keys.Count(k => !before.ContainsKey(k));
        var detail = $"{table}: {rowsBefore} -> {rowsAfter}";
        if (deleted == before.Count)
        {
            effects.Add(new Effect("all rows deleted", detail,
                StatementRisk.UnboundedDelete | StatementRisk.Truncate | StatementRisk.Drop | StatementRisk.DropDatabase, []));
        }
        else if (changed + deleted == before.Count && changed > 0)
        {
            effects.Add(new Effect("all rows changed", detail,
                StatementRisk.UnboundedUpdate | StatementRisk.UnboundedDelete | StatementRisk.Truncate | StatementRisk.Drop, []));
        }
        else if (deleted + changed + added > 0)
        {
            effects.Add(new Effect("some rows written", detail, StatementRisk.None, changing));
        }

        static Dictionary<string, string> Rows(string rows, HashSet<string> columns)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var row in rows.Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var values = row.Split('|').Where(v => columns.Contains(v.Split('=')[0])).ToList();
                result[values.FirstOrDefault(v => v.StartsWith("id=", StringComparison.Ordinal)) ?? row.Split('|')[0]] = string.Join("|", values);
            }

            return result;
        }
    }

    private sealed record State(bool DatabaseExists, bool SecondDatabaseExists, string Tables, string CanaryColumns, string OtherColumns,
        string Routines, string Indexes, string CanaryViewDefinitions, string CanaryRows, string OtherRows);

    /// <summary>An observed change; accounted for by any of <paramref name="Flags"/>, or when there are none by a statement of one of <paramref name="Kinds"/>.</summary>
    private sealed record Effect(string Name, string Detail, StatementRisk Flags, StatementKind[] Kinds);

    private sealed class Run
    {
        public int Runs { get; set; }
        public int RunsWithEffects { get; set; }
        public int Flagged { get; set; }
        public int ExcusedUnknown { get; set; }
        public int ExcusedOpaque { get; set; }
        public Dictionary<string, int> EffectCounts { get; } = new(StringComparer.Ordinal);
        public List<string> Failures { get; } = [];
        public List<string> Notes { get; } = [];
        public SortedSet<string> UnknownCases { get; } = new(StringComparer.Ordinal);
        public List<string> HarmlessFailures { get; } = [];
    }
}
