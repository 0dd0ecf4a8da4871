using System.Text;
using Gatehouse.Fuzz.Support;
using Gatehouse.Fuzz.Targets;
using static Gatehouse.Fuzz.Support.PgMessages;
using My = Gatehouse.Fuzz.Support.MySqlMessages;

namespace Gatehouse.Fuzz.Runner;

/// <summary>
/// The seed inputs of every target, as written to <c>corpus/&lt;target&gt;/</c> by <c>gen-corpus</c>. Chunked
/// targets' files start with their <see cref="InputPlan"/> byte (and the relay and handshake targets' with an
/// options byte after it); see each target for the layout.
/// </summary>
internal static class SeedCorpus
{
    public static IReadOnlyDictionary<string, IReadOnlyList<(string File, byte[] Bytes)>> Build() => new Dictionary<string, IReadOnlyList<(string, byte[])>>
    {
        [PgStartupTarget.Name] =
        [
            ("startup.bin", Plan(0x00, StartupPacket())),
            ("startup-one-byte-writes.bin", Plan(0x01, StartupPacket())),
            ("startup-small-blocks.bin", Plan(0x27, StartupPacket())),
            ("startup-protocol-3.2-no-params.bin", Plan(0x00, Startup((3 << 16) | 2))),
            ("startup-then-query.bin", Plan(0x45, Concat(StartupPacket(), Query("select 1")))),
            ("ssl-request.bin", Plan(0x00, SslRequest())),
            ("ssl-request-one-byte.bin", Plan(0x01, SslRequest())),
            ("gssenc-request.bin", Plan(0x00, GssEncRequest())),
            ("cancel-request.bin", Plan(0x32, CancelRequest(4242, 0x1234567))),
        ],
        [PgFrontendFramesTarget.Name] =
        [
            ("query-sync.bin", Relay(0x00, 0x00, Query("select 1"), Sync())),
            ("query-sync-one-byte.bin", Relay(0x01, 0x00, Query("select 1"), Sync())),
            ("extended.bin", Relay(0x57, 0x00, ExtendedQuery())),
            ("extended-inspect-all.bin", Relay(0x35, 0x20, ExtendedQuery())),
            ("extended-drop-queries.bin", Relay(0x4A, 0x30, Query("select 1"), ExtendedQuery(), Query("select 2"), Sync())),
            ("small-statement-cap.bin", Relay(0x23, 0x02, Query("select 1"), Query(new string('x', 100)), Sync())),
            ("copy-in.bin", Relay(0x66, 0x00, Query("copy t from stdin"), CopyData("1\tone\n"u8), CopyData("2\ttwo\n"u8), CopyDone(), Sync())),
            ("flush-terminate.bin", Relay(0x00, 0x00, Query("select 1"), Flush(), Terminate())),
            ("truncated.bin", Relay(0x12, 0x00, Query("select 1"), Sync(), Query("select 2")[..9])),
            ("scripted-rewrites.bin", Relay(0x33, 0x10, Query("select 1"), ExtendedQuery(), Query("select 22"), Sync())),
            ("scripted-rewrites-hold.bin", Relay(0x45, 0x50, Query("select 1"), ExtendedQuery(), Query("select 22"), Sync(), Terminate())),
        ],
        [PgBackendFramesTarget.Name] =
        [
            ("select-result.bin", Relay(0x00, 0x00, SelectResult())),
            ("select-result-one-byte.bin", Relay(0x01, 0x00, SelectResult())),
            ("select-result-small-blocks.bin", Relay(0x4B, 0x00, SelectResult())),
            ("login-tail.bin", Relay(0x27, 0x00, AuthenticationOk(), ParameterStatus("client_encoding", "UTF8"),
                ParameterStatus("standard_conforming_strings", "on"), ParameterStatus("server_version", "17.0"), BackendKeyData(4242, 77), ReadyForQuery())),
            ("client-encoding-changed.bin", Relay(0x13, 0x00, SelectResult(), ParameterStatus("client_encoding", "LATIN1"), ReadyForQuery())),
            ("standard-strings-off.bin", Relay(0x00, 0x00, ParameterStatus("standard_conforming_strings", "off"), ReadyForQuery())),
            ("error.bin", Relay(0x24, 0x00, ErrorResponse("42601", "syntax error at or near \"selec\""), ReadyForQuery())),
            ("large-row.bin", Relay(0xB9, 0x00, RowDescription(25, "blob"), LargeDataRow(5000), CommandComplete("SELECT 1"), ReadyForQuery())),
            ("inspect-limit.bin", Relay(0x5C, 0x28, RowDescription(25, "a"), DataRow(new string('y', 300)), ReadyForQuery())),
            ("scripted-rewrites-hold.bin", Relay(0x27, 0x50, Typed('N', Encoding.UTF8.GetBytes("SNOTICE\0Mhi\0\0")), SelectResult(), ParameterStatus("TimeZone", "UTC"))),
            ("drop-notices.bin", Relay(0x36, 0x30, Typed('N', Encoding.UTF8.GetBytes("SNOTICE\0Mhello\0\0")), ParseComplete(), BindComplete(), NoData(), ReadyForQuery())),
        ],
        [PgHandshakeTarget.Name] =
        [
            ("startup-password.bin", Relay(0x00, 0x03, StartupPacket(), PasswordMessage("secret-token"))),
            ("startup-password-one-byte.bin", Relay(0x01, 0x03, StartupPacket(), PasswordMessage("secret-token"))),
            ("ssl-then-startup.bin", Relay(0x25, 0x01, SslRequest(), StartupPacket())),
            ("sasl-exchange.bin", Relay(0x36, 0x00, AuthenticationSasl("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256"),
                AuthenticationSaslContinue("r=abc,s=QSXCR+Q6sek8bf92,i=4096"), AuthenticationSaslFinal("v=rmF9pqV8S7suAoZWja4dJRkFsKQ="),
                AuthenticationOk(), ParameterStatus("client_encoding", "UTF8"), BackendKeyData(1, 2), ReadyForQuery())),
            ("tiny-cap.bin", Relay(0x00, 0x04, Sync(), Flush(), Query("select 1"))),
        ],
        [MySqlClientFramesTarget.Name] =
        [
            ("query-ping-quit.bin", Relay(0x00, 0x00, My.Query("select 1"), My.Ping(), My.Quit())),
            ("query-one-byte.bin", Relay(0x01, 0x00, My.Query("select 1"), My.Ping())),
            ("commands-small-blocks.bin", Relay(0x4B, 0x00, My.InitDb("app"), My.StmtPrepare("select ?"), My.StmtClose(1), My.Query("select 2"))),
            ("kill-variants.bin", Relay(0x23, 0x00, My.Query("KILL QUERY 5"), My.Query("/*!KILL 5*/"), My.Query("select 1; kill 5"),
                My.ProcessKill(5), My.StmtPrepare("kill 5"), My.Query("select 'skill'"))),
            ("refused-commands.bin", Relay(0x35, 0x00, My.ChangeUser("bob"), My.Command(0x1D), My.Command(0x12, "binlog"), My.Command(0x20), My.Ping())),
            ("sequence-not-0.bin", Relay(0x00, 0x00, My.Query("select 1"), My.Packet(5, My.CommandPayload(0x03, "select 2")))),
            ("empty-packet.bin", Relay(0x00, 0x00, My.Query("select 1"), My.Header(0, 0))),
            ("full-packet-truncated.bin", Relay(0x00, 0x31, My.Concat(My.Header(My.MaxPayload, 0), My.CommandPayload(0x03, "select 1 /*")))),
            ("over-cap.bin", Relay(0x12, 0x03, My.Ping(), My.Query("select 1"))),
            ("inspect-limit.bin", Relay(0x12, 0x0C, My.Ping(), My.Query(new string('x', 100)))),
            ("drop-queries.bin", Relay(0x45, 0x20, My.Query("select 1"), My.Ping(), My.Query("select 2"))),
        ],
        [MySqlServerFramesTarget.Name] =
        [
            ("result-set.bin", Relay(0x00, 0x40, My.Response(My.ResultSetPayloads(["id", "name"], ["1", "one"], [null, "two"])))),
            ("result-set-one-byte.bin", Relay(0x01, 0x40, My.Response(My.ResultSetPayloads(["id"], ["1"], ["2"])))),
            ("ok-then-err.bin", Relay(0x27, 0x80, My.Response(My.OkPayload()), My.Response(My.ErrPayload(1146, "42S02", "Table 'app.t' doesn't exist")))),
            ("local-infile.bin", Relay(0x00, 0x40, My.Response(My.LocalInfilePayload("/etc/passwd")))),
            ("local-infile-second-response.bin", Relay(0x35, 0x80, My.Response(My.OkPayload()), My.Response(My.LocalInfilePayload("/etc/shadow")))),
            ("null-row-is-not-a-head.bin", Relay(0x00, 0x40, My.Response(My.ResultSetPayloads(["a"], [null], [null, "x"])))),
            ("sequence-wraps.bin", Relay(0x4B, 0x40, My.Response([.. Enumerable.Range(0, 300).Select(i => My.TextRowPayload(i.ToString(System.Globalization.CultureInfo.InvariantCulture)))]))),
            ("sequence-out-of-order.bin", Relay(0x00, 0x00, My.Packet(1, My.OkPayload()), My.Packet(3, My.OkPayload()))),
            ("inspect-everything.bin", Relay(0x13, 0x10, My.Response(My.ResultSetPayloads(["id"], ["1"])))),
            ("over-cap.bin", Relay(0x00, 0x03, My.Response(My.ResultSetPayloads(["id"], ["1"])))),
        ],
        [MySqlHandshakeParsersTarget.Name] =
        [
            ("greeting-native.bin", Parsers(0x00, 0x00, My.GreetingPayload("10.11.6-MariaDB", 42, Scramble20, My.ServerCaps, "mysql_native_password"))),
            ("greeting-caching-sha2.bin", Parsers(0x00, 0x00, My.GreetingPayload("8.0.36", 7, Scramble20, My.ServerCaps, "caching_sha2_password"))),
            ("greeting-4.0.bin", Parsers(0x00, 0x00, [10, .. "4.0.1\0"u8, 1, 0, 0, 0, .. Scramble20.AsSpan(0, 8), 0, 0x2C, 0x82])),
            ("greeting-err.bin", Parsers(0x00, 0x00, My.ErrPayload(1040, "08004", "Too many connections"))),
            ("response-clear-password.bin", Parsers(0x00, 0x01, My.HandshakeResponsePayload(My.ClientCaps, "alice", "eyJ0b2tlbi1oZXJl\0"u8, "app", "mysql_clear_password"))),
            ("response-native-empty.bin", Parsers(0x00, 0x01, My.HandshakeResponsePayload(My.ClientCaps, "alice", [], "app", "mysql_native_password"))),
            ("response-one-byte-length.bin", Parsers(0x00, 0x01, My.HandshakeResponsePayload(My.ClientCaps & ~My.PluginAuthLenenc, "bob", Scramble20, null, "caching_sha2_password"))),
            ("response-4.1-no-secure.bin", Parsers(0x00, 0x01, My.HandshakeResponsePayload(My.Protocol41 | My.ConnectWithDb, "carol", "pw"u8, "app", null))),
            ("login-then-parse.bin", Parsers(0x00, 0x03, My.Packet(0, My.GreetingPayload("8.0.36", 7, Scramble20, My.ServerCaps, "caching_sha2_password")),
                My.Packet(1, My.HandshakeResponsePayload(My.ClientCaps, "alice", "token\0"u8, "app", "mysql_clear_password")))),
            ("ssl-request-then-response-one-byte.bin", Parsers(0x01, 0x07, My.Packet(1, My.ResponseHeader(My.ClientCaps | My.Ssl)),
                My.Packet(2, My.HandshakeResponsePayload(My.ClientCaps | My.Ssl, "alice", "token\0"u8, "app", "mysql_clear_password")))),
            ("auth-switch-small-blocks.bin", Parsers(0x45, 0x0A, My.Packet(2, My.AuthSwitchPayload("mysql_clear_password", [])), My.Packet(3, "token\0"u8))),
            ("sequence-wraps.bin", Parsers(0x00, 0x0E, My.Packet(255, My.OkPayload()), My.Packet(0, My.OkPayload()), My.Packet(2, My.OkPayload()))),
            ("length-cap.bin", Parsers(0x23, 0x22, My.Packet(0, [1, 2, 3]), My.Packet(1, [1, 2, 3, 4, 5]))),
        ],
        [MySqlLexerTarget.Name] =
        [
            ("select.bin", Sql(0x00, "SELECT a, `b``c`, 'it''s', \"q\\\"\", @v, @@global.sql_mode, ? FROM t.x WHERE id = 1.5e-3;")),
            ("executable-comments.bin", Sql(0x00, "/*!50000 DROP TABLE t */ /*M!100000 DROP TABLE u*/ /*! SELECT 1 */")),
            ("comments.bin", Sql(0x00, "SELECT 1 -- x\nDROP/**/TABLE # c\n--x\n/*+ BKA(t) */ /* /*! nested */")),
            ("literals.bin", Sql(0x00, "SELECT x'4142', b'101', N'n', _utf8mb4'u', 0x1F, 0b11, 1e5x, 0x1G, .5, 12., 123abc, \\N")),
            ("no-backslash-escapes.bin", Sql(0x01, "SELECT 'a\\' , 'b''c'")),
            ("ansi-quotes.bin", Sql(0x02, "SELECT \"a\"\"b\" FROM \"t\"")),
            ("unterminated.bin", Sql(0x00, "SELECT 'abc")),
            ("string-hides-comment-end.bin", Sql(0x03, "/*!50000 '*/ DROP TABLE t; -- ' */")),
        ],
        [SqlClassifierTarget.Name] =
        [
            ("pg-mix.bin", Sql(0x00, "SELECT 1; WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x; DROP TABLE IF EXISTS a, s.\"B\"; COPY t TO PROGRAM 'x'")),
            ("pg-quoting.bin", Sql(0x00, "SELECT E'\\'', $q$;$q$, U&\"d\\0061t\", /* /* */ */ 1; PREPARE p AS UPDATE t SET a = 1; EXECUTE p")),
            ("pg-atomic.bin", Sql(0x00, "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END; SELECT set_config('role', 'x', false)")),
            ("mysql-mix.bin", Sql(0x01, "SELECT * FROM t INTO OUTFILE '/x'; /*!50000 DROP TABLE t */; PREPARE s FROM 'DELETE FROM t'; SET GLOBAL x = 1")),
            ("mysql-modes.bin", Sql(0x01, "SELECT 'a\\'; DROP TABLE t; #'; SELECT \"b\"")),
            ("mysql-routine.bin", Sql(0x01, "CREATE PROCEDURE p() BEGIN IF a THEN SELECT 1; END IF; END; LOAD DATA LOCAL INFILE 'x' INTO TABLE t")),
        ],
        [PgRowMaskerTarget.Name] =
        [
            ("one-masked.bin", [3, 0x01, 0x00, 0x00, .. DataRowBody("4111 1111 1111 1111", "Ada", null)]),
            ("strategies.bin", [4, 0x01, 0x05, 0x09, 0x0D, .. DataRowBody("4111 1111 1111 1111", "ada@example.com", "secret", "x")]),
            ("scanned.bin", [2, 0x02, 0x12, .. DataRowBody("paid with 4111111111111111", "DE89 3704 0044 0532 0130 00")]),
            ("non-text.bin", [2, 0x03, 0x13, .. DataRowBody("42", null)]),
            ("shape-mismatch.bin", [1, 0x00, .. DataRowBody("a", "b")]),
            ("nothing-to-mask.bin", [2, 0x00, 0x02, .. DataRowBody("1", "plain")]),
            ("truncated.bin", [1, 0x01, 0, 1, 0, 0, 0, 9, (byte)'a']),
        ],
        [PgCopyMaskerTarget.Name] =
        [
            ("text.bin", [0, 3, 0x01, 0x00, 0x02, 4, .. "4111 1111 1111 1111\tAda\\tLovelace\t\\N\n"u8]),
            ("text-nil.bin", [1, 2, 0x0D, 0x05, 2, .. "a\\|b|nil\n"u8]),
            ("csv.bin", [2, 4, 0x01, 0x09, 0x00, 0x02, 6, .. "\"4111, 1111 1111 1111\",\"say \"\"hi\"\"\",,paid with 4111111111111111\n"u8]),
            ("csv-null.bin", [3, 2, 0x05, 0x01, 3, .. "NULL;\"NULL\"\n"u8]),
            ("csv-escape.bin", [4, 2, 0x01, 0x00, 1, .. "`a\\`b`,`x\ny`\n"u8]),
            ("binary.bin", [5, 2, 0x01, 0x00, 9, .. Gatehouse.Protocols.Postgres.Masking.PgCopyMasker.BinarySignature, 0, 0, 0, 0, 0, 0, 0, 0, .. DataRowBody("4111 1111 1111 1111", "Ada")]),
            ("unclosed-quote.bin", [2, 1, 0x01, 2, .. "\"4111\n"u8]),
            ("no-newline.bin", [0, 2, 0x01, 0x00, 2, .. "4111\tAda"u8]),
            ("binary-no-signature.bin", [5, 1, 0x01, 3, 0, 1, 0, 0, 0, 4, .. "4111"u8]),
        ],
        [MySqlRowMaskerTarget.Name] =
        [
            ("text-one-masked.bin", [3, 0x01, 0x00, 0x00, 0x00, .. TextRow("4111 1111 1111 1111", "Ada", null)]),
            ("text-strategies.bin", [4, 0x01, 0x05, 0x09, 0x0D, 0x00, .. TextRow("4111 1111 1111 1111", "ada@example.com", "secret", "x")]),
            ("text-scanned.bin", [2, 0x02, 0x00, 0x00, .. TextRow("paid with 4111111111111111", "plain")]),
            ("text-non-string.bin", [2, 0x03, 0x00, 0x00, .. TextRow("42.5", null)]),
            ("binary-masked.bin", [3, 0x01, 0x0B, 0x02, 0x01, 0x00, 0x00, .. TextRow("4111 1111 1111 1111", "1.5"), .. TextRow("DE89 3704 0044 0532 0130 00")]),
            ("binary-all-null.bin", [2, 0x05, 0x01, 0x01, 0x00, 0x0C]),
            ("nothing-to-mask.bin", [2, 0x00, 0x02, 0x00, .. TextRow("1", "plain")]),
            ("truncated.bin", [1, 0x01, 0x00, 0x09, (byte)'a']),
        ],
        [ServerMessageMaskingTarget.Name] =
        [
            ("pg-data-error.bin", [0, .. "SERROR\0C22P02\0Minvalid input syntax for type integer: \"4111 1111 1111 1111\"\0Ddetail\0\0"u8]),
            ("pg-integrity-error.bin", [0, .. "C23505\0Mduplicate key value violates unique constraint \"k\"\0DKey (card)=(4111111111111111) already exists.\0tcards\0\0"u8]),
            ("pg-notice.bin", [1, .. "SNOTICE\0C00000\0Mprocessed batch 17\0WPL/pgSQL function load() line 9 at RAISE\0\0"u8]),
            ("pg-notice-email.bin", [1, .. "SNOTICE\0C00000\0Mvalue: ada@example.com\0\0"u8]),
            ("pg-not-utf8.bin", [1, (byte)'M', 0xC3, 0x28, 0, 0]),
            ("pg-notification.bin", [2, 0, 0, 0, 42, .. "orders\0card 4111 1111 1111 1111\0"u8]),
            ("mysql-xpath.bin", [3, 0xFF, 0x51, 0x04, .. "#HY000XPATH syntax error: '~4111 1111 1111 1111'"u8]),
            ("mysql-no-table.bin", [3, 0xFF, 0x7A, 0x04, .. "#42S02Table 'app.nope' doesn't exist"u8]),
            ("mysql-short.bin", [3, 0xFF, 0x7A]),
        ],
        [SegmentReaderTarget.Name] =
        [
            ("sealed.bin", Segment(seal: true, "SELECT 1", "SELECT 2")),
            ("open.bin", Segment(seal: false, "SELECT 1", "SELECT 2", "SELECT 3")),
            ("torn.bin", Segment(seal: false, "SELECT 1", "SELECT 2")[..^5]),
            ("empty-payloads.bin", Segment(seal: true, "", "", "")),
            ("open-zero-filled.bin", [.. Segment(seal: false, "SELECT 1", "SELECT 2"), .. new byte[4096]]), // the gateway lays zeros down ahead
            ("torn-over-zeros.bin", [.. Segment(seal: false, "SELECT 1", "SELECT 2")[..^5], .. new byte[4096]]),
        ],
        [ScramServerMessagesTarget.Name] =
        [
            ("valid-exchange.bin", Scram(0, "r=%3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096", "v=%")),
            ("wrong-signature.bin", Scram(0, "r=%3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096", "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=")),
            ("server-error.bin", Scram(0, "r=%3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096", "e=invalid-proof")),
            ("first-only.bin", Encoding.ASCII.GetBytes("\0r=%srv,s=c2FsdA==,i=4096")),
            ("tls-no-plus.bin", Scram(1, "r=%srv,s=QSXCR+Q6sek8bf92,i=4096", "v=%,x=ext")),
            ("tls-plus.bin", Scram(2, "r=%srv,s=QSXCR+Q6sek8bf92,i=4096", "v=%")),
            ("binding-required.bin", Scram(3, "r=%srv,s=QSXCR+Q6sek8bf92,i=4096", "v=%")),
            ("mandatory-extension.bin", Scram(0, "m=ext,r=%srv,s=QSXCR+Q6sek8bf92,i=4096", "v=%")),
            ("nonce-not-extended.bin", Scram(0, "r=%,s=QSXCR+Q6sek8bf92,i=4096", "v=%")),
        ],
    };

    /// <summary>Writes every seed under <paramref name="root"/>; returns how many files were written.</summary>
    public static int Write(string root)
    {
        var written = 0;
        foreach (var (target, seeds) in Build())
        {
            var dir = Path.Combine(root, target);
            Directory.CreateDirectory(dir);
            foreach (var (file, bytes) in seeds)
            {
                File.WriteAllBytes(Path.Combine(dir, file), bytes);
                written++;
            }
        }

        return written;
    }

    /// <summary>A DataRow's body: the message without its type byte and length.</summary>
    private static byte[] DataRowBody(params string?[] values) => DataRow(values)[5..];

    /// <summary>A segment 1 of Statement records written by the real writer (sealed or left open), with the fuzz target's key.</summary>
    private static byte[] Segment(bool seal, params string[] statements)
    {
        var store = new MemorySegmentStore();
        using (var writer = new Gatehouse.Proxy.Core.Recording.SegmentWriter(store, SegmentReaderTarget.Key, new Gatehouse.Proxy.Core.Recording.SegmentLimits(),
            new FixedTime()))
        {
            writer.Open();
            foreach (var statement in statements)
            {
                writer.Append(Gatehouse.Proxy.Core.Recording.RecordKind.Statement, Gatehouse.Proxy.Core.Recording.RecordDirection.ClientToUpstream,
                    new Guid("00000000-0000-0000-0000-000000000001"), Encoding.UTF8.GetBytes(statement));
            }

            writer.Commit(sync: false);
            if (seal)
            {
                writer.Close();
            }
        }

        return store.ReadAll(1);
    }

    /// <summary>Seeds must be the same bytes on every run: the clock stands still.</summary>
    private sealed class FixedTime : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(2026, 12, 6, 0, 0, 0, TimeSpan.Zero);
    }

    /// <summary>MySQL text row values: each length-encoded (short values: one length byte), NULL as 0xFB.</summary>
    private static byte[] TextRow(params string?[] values)
        => [.. values.SelectMany(v => v is null ? [(byte)0xFB] : (byte[])[(byte)Encoding.UTF8.GetByteCount(v), .. Encoding.UTF8.GetBytes(v)])];

    private static byte[] StartupPacket()
        => Startup(("user", "alice"), ("database", "app"), ("application_name", "psql"), ("client_encoding", "UTF8"));

    private static byte[] ExtendedQuery()
        => Concat(Parse("s1", "select $1::int", 23), Bind("", "s1", "42"), Describe('P', ""), Execute("", 0), Sync());

    private static byte[] SelectResult()
        => Concat(RowDescription(25, "id", "name"), DataRow("1", "one"), DataRow("2", null), DataRow("3", "three"),
            CommandComplete("SELECT 3"), ReadyForQuery());

    private static byte[] Plan(byte plan, byte[] data) => Concat([plan], data);

    private static byte[] Relay(byte plan, byte options, params byte[][] messages) => Concat([plan, options], Concat(messages));

    private static readonly byte[] Scramble20 = [.. "0123456789abcdefghij"u8];

    private static byte[] Parsers(byte plan, byte options, params byte[][] parts) => Concat([plan, options], Concat(parts));

    private static byte[] Sql(byte options, string sql) => Concat([options], Encoding.UTF8.GetBytes(sql));

    private static byte[] Scram(byte variant, string serverFirst, string serverFinal)
        => Concat([variant], Encoding.ASCII.GetBytes(serverFirst), [0], Encoding.ASCII.GetBytes(serverFinal));
}
