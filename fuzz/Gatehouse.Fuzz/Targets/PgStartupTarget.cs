using System.Buffers;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.Postgres;
using Gatehouse.Proxy.Core.Framing;

namespace Gatehouse.Fuzz.Targets;

/// <summary>
/// <see cref="PgStartupPacket.TryRead"/> over the input (after an <see cref="InputPlan"/> byte) as one
/// segment, as segments cut where the plan says, and on every prefix that ends at a cut (as a reader
/// receiving the bytes in those writes sees them). TryRead reports malformed input by status, so
/// any exception is a crash; so is a segmented answer that differs from the contiguous one, or a prefix
/// answer that contradicts the whole (a prefix shorter than a complete packet must be Incomplete).
/// </summary>
internal sealed class PgStartupTarget : IFuzzTarget
{
    public static string Name => "pg-startup";

    public static void Run(ReadOnlySpan<byte> input)
    {
        var plan = InputPlan.Read(input, out var rest);
        var data = rest.ToArray();
        var whole = Decode(new ReadOnlySequence<byte>(data));
        FuzzCounters.Hit(whole.Status == FrameStatus.Complete ? $"{Name}.{whole.Kind}" : $"{Name}.{whole.Status}");
        var segmented = Decode(Segments.Split(data, plan.ChunkSizes(data.Length)));
        if (segmented != whole)
        {
            throw new FuzzInvariantException($"segmented read gave {segmented}, contiguous gave {whole}");
        }

        // A reader receiving the bytes in the plan's writes sees each cumulative prefix in turn; it stops
        // at the first answer that is not Incomplete, so later prefixes need no checking.
        var end = 0;
        foreach (var size in plan.ChunkSizes(data.Length))
        {
            end += size;
            var prefix = Decode(new ReadOnlySequence<byte>(data, 0, end));
            CheckPrefix(end, prefix, whole);
            if (prefix.Status != FrameStatus.Incomplete)
            {
                break;
            }
        }
    }

    private static void CheckPrefix(int length, Result prefix, Result whole)
    {
        switch (whole.Status)
        {
            case FrameStatus.Complete when length >= whole.Length:
                if (prefix != whole)
                {
                    throw new FuzzInvariantException($"prefix of {length} bytes gave {prefix}, the whole input {whole}");
                }

                break;
            case FrameStatus.Complete or FrameStatus.Incomplete:
                if (prefix.Status != FrameStatus.Incomplete)
                {
                    throw new FuzzInvariantException($"prefix of {length} bytes gave {prefix}, but the whole input gave {whole}");
                }

                break;
            case FrameStatus.Invalid:
                if (prefix.Status == FrameStatus.Complete)
                {
                    throw new FuzzInvariantException($"prefix of {length} bytes gave {prefix}, but the whole input is invalid: {whole}");
                }

                break;
        }
    }

    private static Result Decode(ReadOnlySequence<byte> buffer)
    {
        var status = PgStartupPacket.TryRead(buffer, out var packet, out var error);
        if (status == FrameStatus.Complete)
        {
            if (packet is null || error is not null || packet.Length < 8 || packet.Length > buffer.Length)
            {
                throw new FuzzInvariantException($"Complete with packet {packet?.Length} of a {buffer.Length}-byte buffer, error '{error}'");
            }

            var parameters = string.Join("|", packet.Parameters.Select(p => p.Key + "=" + p.Value));
            return new Result(status, packet.Kind, packet.Length, packet.MajorVersion, packet.MinorVersion,
                packet.CancelProcessId, packet.CancelSecret, parameters, null);
        }

        if (packet is not null || (status == FrameStatus.Invalid) != (error is not null))
        {
            throw new FuzzInvariantException($"{status} with packet {packet is not null} and error '{error}'");
        }

        return new Result(status, default, 0, 0, 0, 0, 0, null, error);
    }

    private readonly record struct Result(FrameStatus Status, StartupKind Kind, int Length, int Major, int Minor,
        int CancelProcessId, int CancelSecret, string? Parameters, string? Error);
}
