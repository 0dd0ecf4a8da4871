using System.Buffers;
using System.Buffers.Binary;
using Gatehouse.Protocols.Masking;
using Gatehouse.Proxy.Core.Relay;
using static Gatehouse.Protocols.Masking.ServerMessageMasking;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// An ErrorResponse or NoticeResponse in a masked session (see <see cref="ServerMessageMasking"/>). A data
/// exception (SQLSTATE class 22) quotes the value it could not take: that value is masked in the message,
/// and its detail and context (a JSON error's "line 1: …") are withheld. An integrity violation (class 23)
/// shows the row or key in its detail, which is withheld. Any other message the server composed while running
/// a statement that strict mode says may compute a sensitive value has its texts withheld: such a message has
/// no position in the statement's text (parse analysis, which reads no rows, gives one), and it can quote a
/// value the statement turned into a name (<c>type "x4111…" does not exist</c>, <c>improper relation name (too
/// many dotted names): x.y.z.4111…</c>, a syntax error in SQL text built at run time). Any text field in which
/// a detector finds a value (a RAISE that prints one) is withheld whole. Code, position and the names of
/// schema, table, column, type and constraint pass unchanged. The fields are judged where they lie in the
/// message; only a message that changes is written anew.
/// </summary>
internal static class PgServerMessageMasker
{
    private const byte Quote = (byte)'"';

    /// <param name="masker">Which statement the message answers (<see cref="PgResultMasker.MessageStatementMayShowValues"/>); null: none.</param>
    public static RewriteDecision Mask(byte type, ReadOnlySpan<byte> body, IBufferWriter<byte> output, PgResultMasker? masker = null)
    {
        // First the SQLSTATE and whether there is a position, wherever their fields stand: they decide how the texts are judged.
        scoped var sqlState = ReadOnlySpan<byte>.Empty;
        var positioned = false;
        var reader = new PgSpanReader(body);
        Field read;
        while ((read = NextField(ref reader, out var code, out var value)) == Field.Read)
        {
            sqlState = code == (byte)'C' ? value : sqlState;
            positioned |= code == (byte)'P';
        }

        if (read == Field.Malformed)
        {
            return Malformed("error or notice");
        }

        var dataError = sqlState.StartsWith("22"u8);
        var integrityError = sqlState.StartsWith("23"u8);
        var composedFromValues = !positioned && !dataError && !integrityError && !WordedWithoutValues(sqlState)
            && masker?.MessageStatementMayShowValues() == true;
        var length = 4 + 1;
        var changed = false;
        for (reader = new PgSpanReader(body); NextField(ref reader, out var code, out var value) == Field.Read;)
        {
            var verdict = Judge(code, value, dataError, integrityError, composedFromValues);
            changed |= verdict != Verdict.Keep;
            length += 1 + ServerMessageMasking.Length(value, verdict, Quote) + 1;
        }

        if (!changed)
        {
            return RewriteDecision.Pass;
        }

        // Rare (a data error, or a text that shows a value): judged again rather than remembered.
        var span = output.GetSpan(1 + length);
        span[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], length);
        var at = 5;
        for (reader = new PgSpanReader(body); NextField(ref reader, out var code, out var value) == Field.Read;)
        {
            span[at++] = code;
            at += Write(value, Judge(code, value, dataError, integrityError, composedFromValues), Quote, span[at..]);
            span[at++] = 0;
        }

        span[at++] = 0;
        output.Advance(at);
        return RewriteDecision.Replace;
    }

    /// <summary>
    /// A NotificationResponse: its payload is whatever another session passed to NOTIFY (an application's, an
    /// exempt one's), so a payload in which a detector finds a value is withheld; process id and channel stay.
    /// </summary>
    public static RewriteDecision MaskNotification(ReadOnlySpan<byte> body, IBufferWriter<byte> output)
    {
        var reader = new PgSpanReader(body);
        if (!reader.TryReadInt32(out _) || !reader.TryReadCStringUtf8(out var channel) || !reader.TryReadCStringUtf8(out var payload))
        {
            return Malformed("NotificationResponse");
        }

        if (!ShowsValue(payload))
        {
            return RewriteDecision.Pass;
        }

        var length = 4 + 4 + channel.Length + 1 + WithheldUtf8.Length + 1;
        var span = output.GetSpan(1 + length);
        span[0] = (byte)BackendCode.NotificationResponse;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], length);
        body[..4].CopyTo(span[5..]); // the process id
        channel.CopyTo(span[9..]);
        span[9 + channel.Length] = 0;
        WithheldUtf8.CopyTo(span[(10 + channel.Length)..]);
        span[length] = 0;
        output.Advance(1 + length);
        return RewriteDecision.Replace;
    }

    /// <summary>
    /// Classes whose messages the server words without a value (a statement timeout or cancel, shutdown, out of
    /// memory, a lost connection, a serialization failure or deadlock, a failed transaction): kept, so a masked
    /// session still learns why its statement stopped.
    /// </summary>
    private static bool WordedWithoutValues(ReadOnlySpan<byte> sqlState)
        => sqlState.Length >= 2 && (sqlState[..2].SequenceEqual("57"u8) || sqlState[..2].SequenceEqual("53"u8) || sqlState[..2].SequenceEqual("08"u8)
            || sqlState[..2].SequenceEqual("40"u8) || sqlState[..2].SequenceEqual("25"u8));

    private static RewriteDecision Malformed(string what) => RewriteDecision.End(SessionEndReason.ProtocolViolation, $"malformed {what} from the upstream");

    /// <summary>What the client may see of one field.</summary>
    private static Verdict Judge(byte code, ReadOnlySpan<byte> value, bool dataError, bool integrityError, bool composedFromValues) => code switch
    {
        (byte)'M' when dataError => JudgeQuoting(value, Quote),
        (byte)'D' or (byte)'W' or (byte)'q' when dataError || integrityError => Verdict.Withhold,
        (byte)'M' or (byte)'D' or (byte)'H' or (byte)'W' or (byte)'q' when composedFromValues => Verdict.Withhold,
        (byte)'M' or (byte)'D' or (byte)'H' or (byte)'W' or (byte)'q' => JudgeText(value),
        _ => Verdict.Keep, // severity, code, position, file, line, routine, and names of objects
    };

    private enum Field : byte
    {
        Read,
        End,
        Malformed,
    }

    /// <summary>The next field of an ErrorResponse or NoticeResponse body (a code byte and a NUL-terminated UTF-8 text), or its final zero.</summary>
    private static Field NextField(ref PgSpanReader reader, out byte code, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (!reader.TryReadByte(out code))
        {
            return Field.Malformed;
        }

        return code == 0 ? Field.End : reader.TryReadCStringUtf8(out value) ? Field.Read : Field.Malformed;
    }
}
