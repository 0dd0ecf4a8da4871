using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Proxy.Core.Framing;

namespace Gatehouse.Fuzz.Targets;

/// <summary>
/// The login-phase readers: <see cref="PgHandshakeIO.ReadStartupAsync"/> (optionally) then
/// <see cref="PgHandshakeIO.ReadMessageAsync"/> until they fail, over a pipe fed in input-chosen writes and
/// segments. Input: an <see cref="InputPlan"/> byte, an options byte (bit 0: read a startup packet first;
/// bits 1-2: the message length cap), then the bytes. The pipe always completes, so every run ends in
/// <see cref="PgProtocolException"/>; any other exception is a crash, and so is a message whose bytes are
/// not exactly the next bytes of the input, or a different count than reading the input contiguously gives.
/// </summary>
internal sealed class PgHandshakeTarget : IFuzzTarget
{
    private static readonly int[] MaxLengths = [StartupCodes.MaxSaslMessage, StartupCodes.MaxPasswordMessage, 4, 64];

    public static string Name => "pg-handshake";

    public static void Run(ReadOnlySpan<byte> input)
    {
        var plan = InputPlan.Read(input, out var rest);
        var options = rest.IsEmpty ? (byte)0 : rest[0];
        var data = rest.IsEmpty ? [] : rest[1..].ToArray();
        var startupFirst = (options & 1) != 0;
        var maxLength = MaxLengths[(options >> 1) & 3];
        var chunks = plan.ChunkSizes(data.Length);

        var pool = plan.BlockSize > 0 ? new SmallBlockMemoryPool(plan.BlockSize) : null;
        var pipe = new Pipe(InMemoryRelay.Options(pool, plan.BlockSize, PipeScheduler.Inline));
        var reading = ReadAllAsync(pipe.Reader, startupFirst, maxLength);
        var at = 0;
        foreach (var size in chunks)
        {
            if (reading.IsCompleted)
            {
                break;
            }

            pipe.Writer.WriteAsync(data.AsMemory(at, size)).AsTask().GetAwaiter().GetResult();
            at += size;
        }

        pipe.Writer.Complete();
        if (!reading.IsCompleted && Task.WhenAny(reading, Task.Delay(TimeSpan.FromSeconds(2))).GetAwaiter().GetResult() != reading)
        {
            throw new FuzzInvariantException("the reader did not finish after the pipe completed (hang)");
        }

        // Rethrows anything but PgProtocolException (caught inside) as itself: a crash.
        var (startup, trailing, messages, failure) = reading.GetAwaiter().GetResult();
        pipe.Reader.Complete();
        if (failure is null)
        {
            throw new FuzzInvariantException("the read loop ended without PgProtocolException");
        }

        if (pool is not null && pool.Outstanding != 0)
        {
            throw new FuzzInvariantException($"{pool.Outstanding} pool blocks not returned");
        }

        // Every message must be exactly the next bytes of the input.
        var offset = 0;
        if (startup is not null)
        {
            var direct = PgStartupPacket.TryRead(new ReadOnlySequence<byte>(data, 0, startup.Length), out var again, out _);
            if (direct != FrameStatus.Complete || again!.Length != startup.Length || again.Kind != startup.Kind)
            {
                throw new FuzzInvariantException($"startup packet of {startup.Length} bytes does not re-read from the input");
            }

            // Nothing is consumed before the packet completes, so the reader saw everything written up to then.
            if (trailing < 0 || !IsWriteBoundary(chunks, startup.Length + trailing))
            {
                throw new FuzzInvariantException($"trailing {trailing} after a {startup.Length}-byte packet is not at a write boundary");
            }

            offset = startup.Length;
        }

        foreach (var m in messages)
        {
            if (data.Length - offset < 5 + m.Payload.Length
                || data[offset] != m.Type
                || BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(offset + 1)) != 4 + m.Payload.Length
                || !data.AsSpan(offset + 5, m.Payload.Length).SequenceEqual(m.Payload))
            {
                throw new FuzzInvariantException($"message '{(char)m.Type}' of {m.Payload.Length} bytes does not match the input at {offset}");
            }

            offset += 5 + m.Payload.Length;
        }

        FuzzCounters.Hit(startup is not null ? $"{Name}.startup" : $"{Name}.no-startup");
        FuzzCounters.Hit(messages.Count >= 2 ? $"{Name}.messages>=2" : $"{Name}.messages<2");
        var expected = CountContiguous(data, startupFirst, maxLength);
        if (expected != (startup is not null, messages.Count))
        {
            throw new FuzzInvariantException($"read {(startup is not null, messages.Count)} (startup, messages), contiguous reading gives {expected}");
        }
    }

    private static bool IsWriteBoundary(int[] chunks, long position)
    {
        long end = 0;
        foreach (var size in chunks)
        {
            end += size;
            if (end == position)
            {
                return true;
            }
        }

        return false;
    }

    private static (bool Startup, int Messages) CountContiguous(byte[] data, bool startupFirst, int maxLength)
    {
        var offset = 0;
        var startup = false;
        if (startupFirst)
        {
            if (PgStartupPacket.TryRead(new ReadOnlySequence<byte>(data), out var packet, out _) != FrameStatus.Complete)
            {
                return (false, 0);
            }

            startup = true;
            offset = packet!.Length;
        }

        var count = 0;
        while (data.Length - offset >= 5)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(offset + 1));
            if (length < 4 || length > maxLength || data.Length - offset - 1L < length)
            {
                break;
            }

            offset += 1 + length;
            count++;
        }

        return (startup, count);
    }

    private static async Task<(PgStartupPacket? Startup, long Trailing, List<PgMessage> Messages, PgProtocolException? Failure)> ReadAllAsync(
        PipeReader reader, bool startupFirst, int maxLength)
    {
        PgStartupPacket? startup = null;
        long trailing = 0;
        var messages = new List<PgMessage>();
        try
        {
            if (startupFirst)
            {
                (startup, trailing) = await PgHandshakeIO.ReadStartupAsync(reader, CancellationToken.None);
            }

            while (true)
            {
                messages.Add(await PgHandshakeIO.ReadMessageAsync(reader, maxLength, CancellationToken.None));
            }
        }
        catch (PgProtocolException ex)
        {
            return (startup, trailing, messages, ex);
        }
    }
}
