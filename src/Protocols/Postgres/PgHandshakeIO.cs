using System.Buffers;
using System.IO.Pipelines;
using Gatehouse.Proxy.Core.Framing;

namespace Gatehouse.Protocols.Postgres;

/// <summary>A whole message read during a handshake, where messages are few and small.</summary>
internal readonly record struct PgMessage(byte Type, byte[] Payload);

/// <summary>Reads whole typed messages during the login phases, before the relay takes over.</summary>
internal static class PgHandshakeIO
{
    /// <summary>Reads one typed message whose length may not exceed <paramref name="maxLength"/>.</summary>
    public static async ValueTask<PgMessage> ReadMessageAsync(PipeReader reader, int maxLength, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var status = TryTake(ref buffer, maxLength, out var message, out var error);
            if (status == FrameStatus.Complete)
            {
                reader.AdvanceTo(buffer.Start);
                return message;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (status == FrameStatus.Invalid)
            {
                throw new PgProtocolException(error!);
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                throw new PgProtocolException("the connection closed during login");
            }
        }
    }

    private static FrameStatus TryTake(ref ReadOnlySequence<byte> buffer, int maxLength, out PgMessage message, out string? error)
    {
        message = default;
        error = null;
        if (buffer.Length < 5)
        {
            return FrameStatus.Incomplete;
        }

        Span<byte> head = stackalloc byte[5];
        buffer.Slice(0, 5).CopyTo(head);
        var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(head[1..]);
        if (length < 4 || length > maxLength)
        {
            error = $"invalid length {length} for message type '{(char)head[0]}' during login";
            return FrameStatus.Invalid;
        }

        if (buffer.Length < 1L + length)
        {
            return FrameStatus.Incomplete;
        }

        message = new PgMessage(head[0], buffer.Slice(5, length - 4).ToArray());
        buffer = buffer.Slice(1L + length);
        return FrameStatus.Complete;
    }

    /// <summary>Reads one untyped startup-phase packet.</summary>
    public static async ValueTask<(PgStartupPacket Packet, long Trailing)> ReadStartupAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var status = PgStartupPacket.TryRead(buffer, out var packet, out var error);
            if (status == FrameStatus.Complete)
            {
                var trailing = buffer.Length - packet!.Length;
                reader.AdvanceTo(buffer.GetPosition(packet.Length));
                return (packet, trailing);
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (status == FrameStatus.Invalid)
            {
                throw new PgProtocolException(error!);
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                throw new PgProtocolException("the connection closed before the startup packet was complete");
            }
        }
    }
}

/// <summary>A peer broke the protocol during login; the message is safe to show and log.</summary>
internal sealed class PgProtocolException(string message) : Exception(message);
