using System.Buffers;
using Gatehouse.Fuzz.Support;
using Gatehouse.Protocols.MySql;
using Gatehouse.Protocols.MySql.Masking;
using Gatehouse.Proxy.Core.Masking;

namespace Gatehouse.Fuzz.Targets;

/// <summary>
/// <see cref="MySqlRowMasker"/> over a result row from the upstream, text or binary. Input: a plan count N
/// (first byte, mod 9), N plan bytes (bits 0-1: 0 nothing, 1 masked by rule, 2 scanned by the detectors,
/// 3 masked by rule with a non-string type (DECIMAL); bits 2-3: the strategy), a flags byte (bit 0: binary
/// row), then the row payload. A row the masker refuses must have nothing written; a rewritten row must be
/// one packet with the right length and sequence id, the same column count, every column without a rule
/// byte-identical unless a detector matched it, rule columns of non-string types or the null strategy NULL,
/// and NULLs still NULL; a row left alone must have had nothing to mask. The streaming masker (rows of 16 MiB
/// and more), fed the same row in pieces whose sizes the input's first bytes give, must refuse the same rows
/// and write the same bytes.
/// </summary>
internal sealed class MySqlRowMaskerTarget : IFuzzTarget
{
    public static string Name => "mysql-row-masker";

    public static void Run(ReadOnlySpan<byte> input)
    {
        if (input.Length < 2)
        {
            return;
        }

        var planned = Math.Min(input[0] % 9, input.Length - 2);
        var plans = new MySqlColumnPlan[planned];
        for (var i = 0; i < planned; i++)
        {
            var b = input[1 + i];
            var action = (b & 3) is 1 or 3 ? MaskedRowInvariants.Actions[(b >> 2) & 3] : null;
            var column = new MySqlColumn("app", "t", "c", "c", 45, (b & 3) == 3 ? MySqlType.NewDecimal : MySqlType.VarString);
            plans[i] = new MySqlColumnPlan(action, (b & 3) == 2, column);
        }

        var binary = (input[1 + planned] & 1) != 0;
        var row = input[(2 + planned)..];
        var output = new ArrayBufferWriter<byte>();
        var masker = new MySqlRowMasker(MaskedRowInvariants.Session, new MaskingCounter(null));
        var error = masker.TryMask(row, 5, new MySqlResultShape(plans), binary, output, out var rewritten);
        var original = Columns(row, planned, binary);
        CheckStream(input, row, new MySqlResultShape(plans), binary, error is null ? rewritten ? output.WrittenSpan : null : default, error is not null);
        if (error is not null)
        {
            FuzzCounters.Hit($"{Name}.refused");
            if (rewritten || output.WrittenCount != 0)
            {
                throw new FuzzInvariantException("a refused row was rewritten");
            }

            if (original is not null)
            {
                throw new FuzzInvariantException($"a well-formed row was refused: {error}");
            }

            return;
        }

        if (original is null)
        {
            throw new FuzzInvariantException("a row the masker accepted does not parse");
        }

        if (!rewritten)
        {
            FuzzCounters.Hit($"{Name}.pass");
            for (var i = 0; i < planned; i++)
            {
                if (original[i] is not null && plans[i].Action is not null)
                {
                    throw new FuzzInvariantException($"column {i} needed masking but the row was passed");
                }
            }

            return;
        }

        FuzzCounters.Hit(binary ? $"{Name}.rewritten-binary" : $"{Name}.rewritten-text");
        var packet = output.WrittenSpan;
        if (packet.Length < 4 || (packet[0] | (packet[1] << 8) | (packet[2] << 16)) != packet.Length - 4 || packet[3] != 5)
        {
            throw new FuzzInvariantException("the rewritten row is not one packet with the row's sequence id");
        }

        var masked = Columns(packet[4..], planned, binary) ?? throw new FuzzInvariantException("the rewritten row does not parse");
        for (var i = 0; i < planned; i++)
        {
            MaskedRowInvariants.CheckColumn(Name, i, original[i], masked[i], plans[i].Action, plans[i].Scan, plans[i].Column.IsString);
        }
    }

    /// <summary><see cref="MySqlRowStream"/> over the row, cut into pieces: refused exactly when the whole-row masker refused, else the same bytes.</summary>
    private static void CheckStream(ReadOnlySpan<byte> input, ReadOnlySpan<byte> row, MySqlResultShape shape, bool binary, ReadOnlySpan<byte> rewritten, bool refused)
    {
        if (shape.Columns.Length == 0)
        {
            return; // no result has no columns; the stream refuses such a shape outright
        }

        var stream = new MySqlRowStream(new MySqlRowMasker(MaskedRowInvariants.Session, new MaskingCounter(null)), valueLimit: 1 << 20);
        stream.Begin(shape, binary, 5);
        var output = new ArrayBufferWriter<byte>();
        Proxy.Core.Relay.RewriteDecision? end = null;
        for (int at = 0, k = 0; at < row.Length && end is null; k++)
        {
            var n = Math.Min(1 + (input[k % input.Length] & 15), row.Length - at);
            end = stream.Write(row.Slice(at, n), output);
            at += n;
        }

        end ??= stream.Finish(output);
        if (refused != end is not null)
        {
            throw new FuzzInvariantException(refused ? "the streaming masker passed a row the whole-row masker refused" : $"the streaming masker refused a row: {end!.Value.Message}");
        }

        if (refused)
        {
            FuzzCounters.Hit($"{Name}.stream-refused");
            return;
        }

        var expected = rewritten.IsEmpty ? [(byte)row.Length, (byte)(row.Length >> 8), (byte)(row.Length >> 16), 5, .. row] : rewritten.ToArray();
        if (!output.WrittenSpan.SequenceEqual(expected))
        {
            throw new FuzzInvariantException("the streaming masker wrote other bytes than the whole-row masker");
        }

        FuzzCounters.Hit($"{Name}.stream-same");
    }

    /// <summary>The values of a row whose columns are all length-encoded (null = SQL NULL), or null when it does not parse exactly.</summary>
    private static List<byte[]?>? Columns(ReadOnlySpan<byte> row, int count, bool binary)
    {
        var at = binary ? 1 + ((count + 9) / 8) : 0;
        if (binary && (row.Length < at || row[0] != 0))
        {
            return null;
        }

        var values = new List<byte[]?>();
        for (var i = 0; i < count; i++)
        {
            if (binary ? (row[1 + ((i + 2) >> 3)] & (1 << ((i + 2) & 7))) != 0 : at < row.Length && row[at] == 0xFB)
            {
                at += binary ? 0 : 1;
                values.Add(null);
                continue;
            }

            var reader = new MySqlPayloadReader(row[at..]);
            if (!reader.TryLengthEncodedBytes(out var value))
            {
                return null;
            }

            values.Add(value.ToArray());
            at = row.Length - reader.Remaining;
        }

        return at == row.Length ? values : null;
    }
}
