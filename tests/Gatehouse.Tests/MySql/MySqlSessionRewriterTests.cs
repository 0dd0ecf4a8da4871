using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.MySql;
using Gatehouse.Proxy.Core.Framing;
using Gatehouse.Proxy.Core.Relay;
using static Gatehouse.Fuzz.Support.MySqlMessages;

namespace Gatehouse.Tests.MySql;

/// <summary>
/// <see cref="MySqlSessionRewriter"/> on in-memory relays (STYLE 22): the exact bytes it forwards and answers,
/// which the end-to-end tests can only observe through a server.
/// </summary>
public sealed class MySqlSessionRewriterTests
{
    private const uint Thread = 31337;

    private static RelayRun Relay(Direction direction, MySqlSessionRewriter rewriter, params byte[][] packets)
    {
        var input = Concat(packets);
        var decoder = direction == Direction.ClientToUpstream ? MySqlFrameDecoder.ForClient() : MySqlFrameDecoder.ForServer();
        return InMemoryRelay.RunAsync(direction, decoder, rewriter, new RelayLimits { MaxInspectedFrame = MySqlFrameDecoder.MaxPayload + 4L },
            input, input.Length == 0 ? [] : [input.Length], 0).GetAwaiter().GetResult();
    }

    private static (MySqlConnectionRegistry Registry, uint Id) Registered(string subject = "alice", string upstream = "db")
    {
        var registry = new MySqlConnectionRegistry();
        var id = registry.Mint(upstream);
        registry.Bind(id, subject, Thread);
        return (registry, id);
    }

    [Fact]
    public void KILL_of_an_own_session_is_rewritten_to_the_upstream_thread_in_every_spelling()
    {
        var (registry, id) = Registered();
        var run = Relay(Direction.ClientToUpstream, new MySqlSessionRewriter(registry, "alice", "db"),
            Query($"KILL QUERY {id}"), Query($"  kill {id} ; "), Query($"KILL CONNECTION {id}"), ProcessKill(id), Ping());

        Assert.Equal(Concat(Query($"KILL QUERY {Thread}"), Query($"KILL CONNECTION {Thread}"), Query($"KILL CONNECTION {Thread}"),
            Query($"KILL CONNECTION {Thread}"), Ping()), run.Output);
        Assert.Empty(run.Reply);
        Assert.Equal(SessionEndReason.ClientClosed, run.Outcome.Reason);
    }

    [Theory]
    [InlineData("bob", "db")] // another identity
    [InlineData("alice", "other-db")] // the same identity through another upstream
    public void KILL_of_someone_elses_session_is_answered_1094_and_forwards_nothing(string subject, string upstream)
    {
        var (registry, id) = Registered();
        var run = Relay(Direction.ClientToUpstream, new MySqlSessionRewriter(registry, subject, upstream), Query($"KILL QUERY {id}"), ProcessKill(id));
        Assert.Empty(run.Output);
        var error = Packet(1, ErrPayload(1094, "HY000", $"Unknown thread id: {id}"));
        Assert.Equal(Concat(error, error), run.Reply);
    }

    [Fact]
    public void A_session_that_has_not_logged_in_or_has_ended_cannot_be_killed()
    {
        var registry = new MySqlConnectionRegistry();
        var pending = registry.Mint("db"); // greeted, never bound to an identity
        Assert.False(registry.TryResolve(pending, "", "db", out _));
        var run = Relay(Direction.ClientToUpstream, new MySqlSessionRewriter(registry, "", "db"), Query($"KILL {pending}"));
        Assert.Empty(run.Output);

        var (bound, id) = Registered();
        bound.Release(id);
        Assert.Empty(Relay(Direction.ClientToUpstream, new MySqlSessionRewriter(bound, "alice", "db"), Query($"KILL {id}")).Output);
    }

    [Fact]
    public void Refused_commands_are_answered_at_sequence_1_and_what_follows_is_forwarded()
    {
        var run = Relay(Direction.ClientToUpstream, new MySqlSessionRewriter(new MySqlConnectionRegistry(), "alice", "db"),
            ChangeUser("root"), Query("select 1"), Command(0x1D), Query("/*!KILL 1*/"), StmtPrepare("KILL 1"), Ping());

        Assert.Equal(Concat(Query("select 1"), Ping()), run.Output);
        Assert.Equal(Concat(
            Packet(1, ErrPayload(1235, "42000", "COM_CHANGE_USER is not allowed through the gateway: reconnect with the identity you need")),
            Packet(1, ErrPayload(1047, "08S01", "command 0x1D is not allowed through the gateway")),
            Packet(1, ErrPayload(1227, "42000", "only KILL [QUERY|CONNECTION] <id> of your own sessions is allowed through the gateway")),
            Packet(1, ErrPayload(1227, "42000", "KILL cannot be prepared through the gateway"))), run.Reply);
    }

    [Fact]
    public void A_LOCAL_INFILE_request_opening_a_response_ends_the_session_but_a_NULL_row_does_not()
    {
        var rewriter = new MySqlSessionRewriter(new MySqlConnectionRegistry(), "alice", "db");
        Relay(Direction.ClientToUpstream, rewriter, Query("select null"), Query("load data local infile 'x' into table t"));
        Assert.False(rewriter.IsIdle);

        var result = Response(ResultSetPayloads(["a"], new string?[] { null }));
        var run = Relay(Direction.UpstreamToClient, rewriter, result, Response(LocalInfilePayload("/etc/passwd")));

        Assert.Equal(result, run.Output); // the result with its NULL row went through; the request did not
        Assert.Equal(SessionEndReason.Enforced, run.Outcome.Reason);
        Assert.StartsWith("the upstream asked to read a file from the client", run.Outcome.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void A_NULL_row_at_a_wrapped_sequence_1_is_not_a_LOCAL_INFILE_request()
    {
        var rewriter = new MySqlSessionRewriter(new MySqlConnectionRegistry(), "alice", "db");
        Relay(Direction.ClientToUpstream, rewriter, Query("select a from big"), Query("select 2")); // pipelined

        // Column count (1), definition (2), rows from 3: row 253 has sequence 0 and row 254 sequence 1, starting NULL.
        string?[][] rows = [.. Enumerable.Range(0, 300).Select(i => i == 254 ? new string?[] { null } : [i.ToString(System.Globalization.CultureInfo.InvariantCulture)])];
        var first = Response(ResultSetPayloads(["a"], rows));
        var run = Relay(Direction.UpstreamToClient, rewriter, first, Response(ResultSetPayloads(["2"], ["2"])));
        Assert.Equal(SessionEndReason.UpstreamClosed, run.Outcome.Reason);
    }

    [Fact]
    public void Commands_that_get_no_answer_leave_the_session_idle()
    {
        var rewriter = new MySqlSessionRewriter(new MySqlConnectionRegistry(), "alice", "db");
        Relay(Direction.ClientToUpstream, rewriter, StmtClose(1));
        Assert.True(rewriter.IsIdle);
        Relay(Direction.ClientToUpstream, rewriter, Ping());
        Assert.False(rewriter.IsIdle);
        Relay(Direction.UpstreamToClient, rewriter, Packet(1, OkPayload()));
        Assert.True(rewriter.IsIdle);
    }

    [Fact]
    public void Only_the_whole_word_KILL_counts()
    {
        Assert.True(MySqlSessionRewriter.ContainsKillWord("kill 5"u8));
        Assert.True(MySqlSessionRewriter.ContainsKillWord("select 1;KiLl 5"u8));
        Assert.True(MySqlSessionRewriter.ContainsKillWord("/*!KILL*/"u8));
        Assert.True(MySqlSessionRewriter.ContainsKillWord("x KILL"u8));
        Assert.False(MySqlSessionRewriter.ContainsKillWord("select skill, killed, kill_me, $kill, kill$ from t"u8));
        Assert.False(MySqlSessionRewriter.ContainsKillWord("kil"u8));
        Assert.False(MySqlSessionRewriter.ContainsKillWord(""u8));
        Assert.False(MySqlSessionRewriter.ContainsKillWord("éKILL"u8)); // a letter beyond ASCII is part of the identifier
    }
}
