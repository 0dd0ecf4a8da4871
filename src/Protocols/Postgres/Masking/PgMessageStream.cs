using System.Buffers;
using System.Buffers.Binary;
using Gatehouse.Proxy.Core.Relay;

namespace Gatehouse.Protocols.Postgres.Masking;

/// <summary>
/// Masks one backend message too large to inspect whole as its parts arrive (<see cref="PgRowStream"/>: a
/// DataRow or binary COPY tuple; <see cref="PgCopyLineStream"/>: a text or CSV COPY row). The message's
/// length leads it, so what goes out is held until every column masking can change is read and the new
/// length is known; from there on each part goes out as it comes. Held bytes and a value that must be read
/// whole share one bound, which is what the session may hold for the message.
/// </summary>
internal abstract class PgMessageStream(long holdLimit)
{
    private ArrayBufferWriter<byte> _held = new();
    private ArrayBufferWriter<byte> _buffered = new();

    protected long HoldLimit => holdLimit;

    /// <summary>Output held until the message's length is known.</summary>
    protected ArrayBufferWriter<byte> Held => _held;

    /// <summary>A value being read whole (partial masking, the detectors).</summary>
    protected ArrayBufferWriter<byte> Buffered => _buffered;

    /// <summary>The message's type and new length went out: output is no longer held.</summary>
    protected bool HeaderSent { get; private set; }

    /// <summary>The message's length word as received.</summary>
    protected long Declared { get; set; }

    /// <summary>Whether the message was read to its end.</summary>
    protected abstract bool Done { get; }

    /// <summary>What kind of row this is, for the message that ends a session ("result", "COPY").</summary>
    protected abstract string RowKind { get; }

    protected abstract RewriteDecision Malformed();

    /// <summary>Reads from <paramref name="span"/> (at least one byte); an error ends the session.</summary>
    protected abstract RewriteDecision? Step(ref ReadOnlySpan<byte> span, IBufferWriter<byte> output);

    /// <summary>Reads the next part of the message (its type and length included) and writes what can go out.</summary>
    public RewriteDecision Write(in ReadOnlySequence<byte> part, bool final, IBufferWriter<byte> output)
    {
        foreach (var segment in part)
        {
            var span = segment.Span;
            while (!span.IsEmpty)
            {
                if (Step(ref span, output) is { } error)
                {
                    return error;
                }
            }
        }

        if (final)
        {
            if (!Done)
            {
                return Malformed();
            }

            Release();
        }

        return RewriteDecision.Replace;
    }

    /// <summary>Starts the next message.</summary>
    protected void Restart()
    {
        HeaderSent = false;
        _held.ResetWrittenCount();
        _buffered.ResetWrittenCount();
    }

    /// <summary>Writes bytes of the message as it goes out: held while its length is not known, within the bound.</summary>
    protected RewriteDecision? Emit(ReadOnlySpan<byte> bytes, IBufferWriter<byte> output)
    {
        if (HeaderSent)
        {
            output.Write(bytes);
            return null;
        }

        if (_held.WrittenCount + _buffered.WrittenCount + bytes.Length > holdLimit)
        {
            return HeldTooMuch();
        }

        _held.Write(bytes);
        return null;
    }

    /// <summary>The new length is known: the message's type and length go out, then what was held.</summary>
    protected RewriteDecision? SendHeader(byte type, long length, IBufferWriter<byte> output)
    {
        if (length > int.MaxValue)
        {
            return RewriteDecision.End(SessionEndReason.Enforced, $"a masked {RowKind} row would exceed PostgreSQL's message size, so the gateway does not pass it");
        }

        var header = output.GetSpan(5);
        header[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(header[1..], (int)length);
        output.Advance(5);
        output.Write(_held.WrittenSpan);
        HeaderSent = true;
        Release();
        return null;
    }

    protected RewriteDecision HeldTooMuch() => RewriteDecision.End(SessionEndReason.Enforced,
        $"a {RowKind} row of {Declared + 1} bytes has a masked column after more than {holdLimit} bytes of other columns; the gateway cannot mask it without holding them, so it does not pass it");

    /// <summary>The last column whose output may differ from its input: output is held until it is read.</summary>
    protected static int LastChanging(PgResultShape shape)
    {
        for (var i = shape.Columns.Length - 1; i >= 0; i--)
        {
            if (shape.Columns[i].HasWork)
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Gives back what a large held part took, so an idle session keeps no big buffer.</summary>
    private void Release()
    {
        const int keep = 64 * 1024;
        _held = _held.Capacity > keep ? new ArrayBufferWriter<byte>() : _held;
        _buffered = _buffered.Capacity > keep ? new ArrayBufferWriter<byte>() : _buffered;
        _held.ResetWrittenCount();
        _buffered.ResetWrittenCount();
    }
}
