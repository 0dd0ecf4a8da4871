using System.Buffers;
using System.Buffers.Binary;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.Postgres.Masking;
using Gatehouse.Proxy.Core.Masking;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Fuzz.Targets;

/// <summary>
/// <see cref="PgCopyMasker"/> over the first CopyData of a <c>COPY ... TO STDOUT</c>. Input: the statement
/// (first byte, mod <see cref="Statements"/>: text, CSV with other quotes, escapes and NULL strings, binary),
/// a plan count N (mod 7), N plan bytes (as in <c>pg-row-masker</c>: bits 0-1 nothing, masked by rule,
/// scanned, masked with a non-text type; bits 2-3 the strategy), a part size, then the row. The row masked
/// as it streams (<see cref="PgCopyMasker.BeginStream"/>, cut into parts of that size) must give exactly the
/// whole-row masker's bytes and refuse exactly what it refuses; a rewritten row must be one CopyData that
/// the same COPY could have sent, with as many fields.
/// </summary>
internal sealed class PgCopyMaskerTarget : IFuzzTarget
{
    public static string Name => "pg-copy-masker";

    internal static readonly string[] Statements =
    [
        "COPY t TO STDOUT",
        "COPY t TO STDOUT (DELIMITER '|', NULL 'nil')",
        "COPY t TO STDOUT (FORMAT csv)",
        "COPY t TO STDOUT (FORMAT csv, NULL 'NULL', DELIMITER ';')",
        "COPY t TO STDOUT (FORMAT csv, QUOTE '`', ESCAPE '\\')",
        "COPY t TO STDOUT (FORMAT binary)",
    ];

    private static readonly PgCopyStatement[] Copies = [.. Statements.Select(s => PgCopyStatement.TryRead(System.Text.Encoding.UTF8.GetBytes(s))!)];

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 3)
        {
            return;
        }

        var copy = Copies[input[0] % Copies.Length];
        var binary = copy.Format == PgCopyFormat.Binary;
        var planned = Math.Min(input[1] % 7, input.Length - 3);
        var plans = new PgColumnPlan[planned];
        for (var i = 0; i < planned; i++)
        {
            var b = input[2 + i];
            var action = (b & 3) is 1 or 3 ? MaskedRowInvariants.Actions[(b >> 2) & 3] : null;
            plans[i] = new PgColumnPlan(action, (b & 3) == 2, (b & 3) == 3 ? 23u : 25u, (short)(binary ? 1 : 0));
        }

        var partSize = 1 + input[2 + planned];
        var data = input[(3 + planned)..];
        var shape = new PgResultShape(plans);
        var whole = new ArrayBufferWriter<byte>();
        var accepted = Masker(copy, shape).TryMask(data, whole);

        var frame = new byte[5 + data.Length];
        frame[0] = (byte)'d';
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), frame.Length - 1);
        data.CopyTo(frame.AsSpan(5));
        var stream = Masker(copy, shape).BeginStream(holdLimit: 1 << 20);
        var streamed = new ArrayBufferWriter<byte>();
        var decision = RewriteDecision.Replace;
        for (var at = 0; at < frame.Length && decision.Action == RewriteAction.Replace; at += partSize)
        {
            decision = stream.Write(new ReadOnlySequence<byte>(frame, at, Math.Min(partSize, frame.Length - at)), final: at + partSize >= frame.Length, streamed);
        }

        var format = copy.Format.ToString().ToLowerInvariant();
        if (!accepted)
        {
            FuzzCounters.Hit($"{Name}.{format}.refused");
            if (decision.Action != RewriteAction.End || decision.EndReason != SessionEndReason.ProtocolViolation)
            {
                throw new FuzzInvariantException($"the whole-row masker refused the row, streaming said {decision.Action}");
            }

            return;
        }

        FuzzCounters.Hit($"{Name}.{format}.masked");
        if (decision.Action != RewriteAction.Replace || !streamed.WrittenSpan.SequenceEqual(whole.WrittenSpan))
        {
            throw new FuzzInvariantException($"streaming gave {decision.Action} ({decision.Message}) and other bytes than the whole-row masker");
        }

        var output = whole.WrittenSpan;
        if (output.Length < 5 || output[0] != (byte)'d' || BinaryPrimitives.ReadInt32BigEndian(output[1..]) != output.Length - 1)
        {
            throw new FuzzInvariantException("the rewritten row is not one CopyData frame");
        }

        // The same COPY must read the masked row with as many fields (a plan of no work still parses it).
        var plain = new PgResultShape([.. plans.Select(p => p with { Action = null, Scan = false })]);
        if (!Masker(copy, plain).TryMask(output[5..], new ArrayBufferWriter<byte>()))
        {
            throw new FuzzInvariantException("the rewritten row does not parse as its COPY's row");
        }
    }

    private static PgCopyMasker Masker(PgCopyStatement copy, PgResultShape shape)
    {
        var counter = new MaskingCounter(null);
        return new PgCopyMasker(copy, shape, MaskedRowInvariants.Session, new PgRowMasker(MaskedRowInvariants.Session, counter), counter);
    }
}
