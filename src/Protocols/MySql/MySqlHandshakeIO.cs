using System.Buffers;
using System.IO.Pipelines;

namespace Gatehouse.Protocols.MySql;

/// <summary>A whole packet read during a handshake.</summary>
internal readonly record struct MySqlPacket(byte Sequence, byte[] Payload);

/// <summary>Reads whole packets during the login phases, where packets are few and small.</summary>
internal static class MySqlHandshakeIO
{
    /// <summary>Reads one packet no larger than <paramref name="maxLength"/>, whose sequence id must be <paramref name="expectedSequence"/>.</summary>
    public static async ValueTask<MySqlPacket> ReadAsync(PipeReader reader, byte expectedSequence, int maxLength, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            string? error;
            if (TryTake(buffer, expectedSequence, maxLength, out var packet, out var consumed, out error))
            {
                reader.AdvanceTo(consumed);
                return packet;
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
            if (error is not null)
            {
                throw new MySqlProtocolException(error);
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                throw new MySqlProtocolException("the connection closed during login");
            }
        }
    }

    private static bool TryTake(ReadOnlySequence<byte> buffer, byte expectedSequence, int maxLength, out MySqlPacket packet, out SequencePosition consumed, out string? error)
    {
        packet = default;
        consumed = buffer.Start;
        error = null;
        if (buffer.Length < 4)
        {
            return false;
        }

        Span<byte> head = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(head);
        var length = head[0] | (head[1] << 8) | (head[2] << 16);
        if (length > maxLength)
        {
            error = $"packet of {length} bytes during login exceeds {maxLength}";
            return false;
        }

        if (head[3] != expectedSequence)
        {
            error = $"packets out of order during login: sequence {head[3]}, expected {expectedSequence}";
            return false;
        }

        if (buffer.Length < 4 + length)
        {
            return false;
        }

        packet = new MySqlPacket(head[3], buffer.Slice(4, length).ToArray());
        consumed = buffer.GetPosition(4 + length);
        return true;
    }
}

/// <summary>A peer broke the protocol during login; the message is safe to show and log.</summary>
internal sealed class MySqlProtocolException(string message) : Exception(message);

/// <summary>The gateway could not open a session on the database; the message names why.</summary>
internal sealed class MySqlUpstreamException(string message, Exception? inner = null) : Exception(message, inner);
