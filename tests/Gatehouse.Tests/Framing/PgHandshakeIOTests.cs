using System.IO.Pipelines;
using Gatehouse.Protocols.Postgres;
using static Gatehouse.Fuzz.Support.PgMessages;

namespace Gatehouse.Tests.Framing;

/// <summary>
/// The login-phase readers fed one byte per write through an inline pipe: they must wait (not spin) while a
/// message is incomplete, which is what examined = end buys, and leave exactly the following bytes unconsumed.
/// </summary>
public sealed class PgHandshakeIOTests
{
    private static readonly byte[] StartupPacket = Startup(("user", "alice"), ("database", "app"));

    private static Pipe InlinePipe() => new(new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));

    [Fact]
    public async Task ReadStartupAsync_waits_on_every_prefix_then_consumes_exactly_the_packet()
    {
        var pipe = InlinePipe();
        var password = PasswordMessage("token");
        var reading = PgHandshakeIO.ReadStartupAsync(pipe.Reader, CancellationToken.None).AsTask();
        foreach (var b in StartupPacket[..^1])
        {
            await pipe.Writer.WriteAsync(new[] { b });
            Assert.False(reading.IsCompleted); // waiting for bytes, not spinning or failing
        }

        await pipe.Writer.WriteAsync(Concat(StartupPacket[^1..], password[..3]));
        var (packet, trailing) = await reading.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal((StartupKind.Startup, StartupPacket.Length, 3L), (packet.Kind, packet.Length, trailing));
        Assert.Equal("alice", packet.Get("user"));

        // Consumed: exactly the packet. The next message reads from the very next byte.
        var next = PgHandshakeIO.ReadMessageAsync(pipe.Reader, StartupCodes.MaxPasswordMessage, CancellationToken.None).AsTask();
        Assert.False(next.IsCompleted);
        await pipe.Writer.WriteAsync(password[3..]);
        var message = await next.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal((byte)'p', message.Type);
        Assert.Equal("token\0"u8.ToArray(), message.Payload);
    }

    [Fact]
    public async Task ReadMessageAsync_returns_each_message_of_a_byte_by_byte_stream_in_order()
    {
        var pipe = InlinePipe();
        byte[][] messages = [AuthenticationSasl("SCRAM-SHA-256"), AuthenticationSaslContinue("r=abc,s=c2FsdA==,i=4096"), AuthenticationOk(), ReadyForQuery()];
        var stream = Concat(messages);
        var writing = Task.Run(async () =>
        {
            foreach (var b in stream)
            {
                await pipe.Writer.WriteAsync(new[] { b });
            }

            await pipe.Writer.CompleteAsync();
        });

        foreach (var expected in messages)
        {
            var m = await PgHandshakeIO.ReadMessageAsync(pipe.Reader, StartupCodes.MaxSaslMessage, CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromSeconds(5));
            Assert.Equal(expected[0], m.Type);
            Assert.Equal(expected[5..], m.Payload);
        }

        var end = await Assert.ThrowsAsync<PgProtocolException>(() => PgHandshakeIO.ReadMessageAsync(pipe.Reader, 1024, CancellationToken.None).AsTask());
        Assert.Equal("the connection closed during login", end.Message);
        await writing;
    }

    [Theory]
    [InlineData(3)]
    [InlineData(-1)]
    [InlineData(1025)]
    [InlineData(int.MaxValue)]
    public async Task ReadMessageAsync_refuses_a_length_outside_4_to_the_cap_from_the_header(int length)
    {
        var pipe = InlinePipe();
        await pipe.Writer.WriteAsync(WithLength('R', length));
        var ex = await Assert.ThrowsAsync<PgProtocolException>(() => PgHandshakeIO.ReadMessageAsync(pipe.Reader, 1024, CancellationToken.None).AsTask());
        Assert.Equal($"invalid length {length} for message type 'R' during login", ex.Message);
    }

    [Fact]
    public async Task ReadStartupAsync_reports_a_stream_that_ends_mid_packet()
    {
        var pipe = InlinePipe();
        await pipe.Writer.WriteAsync(StartupPacket[..10]);
        await pipe.Writer.CompleteAsync();
        var ex = await Assert.ThrowsAsync<PgProtocolException>(() => PgHandshakeIO.ReadStartupAsync(pipe.Reader, CancellationToken.None).AsTask());
        Assert.Equal("the connection closed before the startup packet was complete", ex.Message);
    }
}
