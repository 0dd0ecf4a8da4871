using System.Text.Json;
using Gatehouse.Fuzz.Support;
using Gatehouse.Proxy.Core.Recording;
using Gatehouse.Tests.Identity;

namespace Gatehouse.Tests.Recording;

/// <summary>
/// Four sessions with real protocol bytes, interleaved, written through a <see cref="SegmentWriter"/> with
/// small segments so that each spans several and client messages straddle rolls (each statement is recorded as
/// two reads): alice (PostgreSQL, ends), bob (MySQL, never ends), carol (PostgreSQL, many long statements, the
/// last with <see cref="Needle"/>), dave (PostgreSQL, starts an hour later, ends).
/// </summary>
internal sealed class RecordedTraffic
{
    public const string Needle = "needle-7f3a";
    public const int Rounds = 40;

    public static readonly DateTimeOffset Begin = new(2026, 3, 1, 9, 0, 0, TimeSpan.Zero);

    public Guid Alice { get; } = Guid.NewGuid();

    public Guid Bob { get; } = Guid.NewGuid();

    public Guid Carol { get; } = Guid.NewGuid();

    public Guid Dave { get; } = Guid.NewGuid();

    /// <summary>Every statement text each session sent, in order.</summary>
    public Dictionary<Guid, List<string>> Sent { get; } = [];

    public static string AliceSql(int i) => $"SELECT balance FROM accounts_{i} WHERE owner = 'alice'";

    public static string CarolSql(int i) => $"UPDATE ledger SET note = '{new string((char)('a' + (i % 26)), 60)}' WHERE id = {i}";

    /// <summary>Writes the traffic; <paramref name="onWriter"/> sees the writer before it opens (to hook <see cref="SegmentWriter.SegmentSealed"/>).</summary>
    public RecordedTraffic Write(ISegmentStore store, SegmentLimits? limits = null, Action<SegmentWriter>? onWriter = null)
    {
        var time = new ManualTimeProvider(Begin);
        using var writer = new SegmentWriter(store, RecordingTestKit.Key, limits ?? RecordingTestKit.Small, time);
        onWriter?.Invoke(writer);
        writer.Open();
        Start(writer, Alice, "postgres", "alice", "demo-db");
        Start(writer, Bob, "mysql", "bob", "demo-mariadb");
        Start(writer, Carol, "postgres", "carol", "demo-db");
        for (var i = 0; i < Rounds; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            Send(writer, Alice, i % 5 == 0 ? PgMessages.Parse("", AliceSql(i)) : PgMessages.Query(AliceSql(i)), AliceSql(i), split: 3 + (i % 4));
            writer.Append(RecordKind.Result, RecordDirection.UpstreamToClient, Alice, PgMessages.Typed('C', "SELECT 1\0"u8));
            Send(writer, Bob, MySqlMessages.Query($"SELECT {i} /* bob */"), $"SELECT {i} /* bob */", split: 2 + (i % 3));
            writer.Append(RecordKind.Result, RecordDirection.UpstreamToClient, Bob, MySqlMessages.Packet(1, MySqlMessages.OkPayload()));
            Send(writer, Carol, PgMessages.Query(CarolSql(i)), CarolSql(i), split: 40);
            writer.Commit(sync: false);
        }

        // Two statements in one read, so the needle is never first in its segment (the cap tests need one before it).
        var needle = $"SELECT '{Needle}'";
        writer.Append(RecordKind.Statement, RecordDirection.ClientToUpstream, Carol, PgMessages.Concat(PgMessages.Query(CarolSql(Rounds)), PgMessages.Query(needle)));
        Sent[Carol].AddRange([CarolSql(Rounds), needle]);
        End(writer, Alice);
        time.Advance(TimeSpan.FromHours(1));
        Start(writer, Dave, "postgres", "dave", "demo-db");
        Send(writer, Dave, PgMessages.Query("SELECT now()"), "SELECT now()", split: 1);
        End(writer, Dave);
        End(writer, Carol);
        writer.Close();
        return this;
    }

    private void Start(SegmentWriter writer, Guid session, string protocol, string user, string upstream)
    {
        Sent[session] = [];
        var info = new SessionStartInfo(protocol, "demo", user, ["staff"], ["reader"], "127.0.0.1:5000", upstream, "app", null, null, session.ToString("N"));
        writer.Append(RecordKind.SessionStart, RecordDirection.None, session, JsonSerializer.SerializeToUtf8Bytes(info, RecordingJson.Default.SessionStartInfo));
    }

    /// <summary>One client message, recorded as the two reads the relay might have seen it in.</summary>
    private void Send(SegmentWriter writer, Guid session, byte[] message, string text, int split)
    {
        writer.Append(RecordKind.Statement, RecordDirection.ClientToUpstream, session, message.AsSpan(0, split));
        writer.Append(RecordKind.Statement, RecordDirection.ClientToUpstream, session, message.AsSpan(split));
        Sent[session].Add(text);
    }

    private static void End(SegmentWriter writer, Guid session) =>
        writer.Append(RecordKind.SessionEnd, RecordDirection.None, session,
            JsonSerializer.SerializeToUtf8Bytes(new SessionEndInfo("client_closed", null), RecordingJson.Default.SessionEndInfo));

    /// <summary>The key file the commands take.</summary>
    public static FileInfo KeyFile(RecordingTestKit kit)
    {
        var keyFile = new FileInfo(Path.Combine(kit.Directory, "key"));
        File.WriteAllBytes(keyFile.FullName, [.. RecordingTestKit.Key, (byte)'\n']);
        return keyFile;
    }
}
