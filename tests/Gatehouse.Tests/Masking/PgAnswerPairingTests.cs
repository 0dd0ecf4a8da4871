using Gatehouse.Fuzz.Support;
using static Gatehouse.Fuzz.Support.PgMessages;

namespace Gatehouse.Tests.Masking;

/// <summary>
/// A masked session plans each result by the request it answers, so an answer that no queued request asks for
/// means the gateway's model of the conversation is broken (a server or a path it does not know): the session
/// ends rather than plan later results by the wrong statements. Both directions of a real masked session, in memory.
/// </summary>
public sealed class PgAnswerPairingTests
{
    [Theory]
    [InlineData('1')] // ParseComplete
    [InlineData('2')] // BindComplete
    [InlineData('3')] // CloseComplete
    [InlineData('Z')] // ReadyForQuery
    [InlineData('C')] // CommandComplete
    public void An_answer_no_request_asked_for_ends_the_session(char type)
    {
        var (client, upstream) = MaskedStream.CreateSession(metrics: null);
        using (client)
        using (upstream)
        {
            client.Pump(Concat(Parse("s", "SELECT 1"), Sync())); // a Parse (and the gateway's Describe), then a Sync
            upstream.Pump(Concat(ParseComplete(), Typed('t', [0, 0]), NoData(), ReadyForQuery()));

            var stray = type switch
            {
                'Z' => ReadyForQuery(),
                'C' => CommandComplete("SELECT 1"),
                _ => Typed(type, []),
            };
            var ended = Assert.Throws<InvalidOperationException>(() => upstream.Pump(stray));
            Assert.Contains("ProtocolViolation", ended.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Answers_in_the_order_requested_pass()
    {
        var (client, upstream) = MaskedStream.CreateSession(metrics: null);
        using (client)
        using (upstream)
        {
            client.Pump(Concat(Parse("s", "SELECT 1"), Bind("p", "s"), Execute("p", 0), Close('P', "p"), Sync(), Query("SELECT 2")));
            var answers = Concat(ParseComplete(), Typed('t', [0, 0]), RowDescription(23, "x"), BindComplete(), DataRow("1"), CommandComplete("SELECT 1"),
                Typed('3', []), ReadyForQuery(), RowDescription(23, "y"), DataRow("2"), CommandComplete("SELECT 1"), ReadyForQuery());
            Assert.Equal(answers.Length - Typed('t', [0, 0]).Length - RowDescription(23, "x").Length, upstream.Pump(answers)); // the gateway's own Describe is answered to it alone
        }
    }
}
