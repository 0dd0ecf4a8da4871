using System.Buffers;

namespace Gatehouse.Protocols.MySql;

/// <summary>
/// A COM_QUERY or COM_STMT_PREPARE of 16 MiB or more arrives as a full packet plus continuations. Policy must
/// judge a statement whole before any of it reaches the server, so its packets are held here (up to
/// <see cref="MaxBytes"/>) and forwarded together, with their own sequence ids, once the last one is in.
/// Past the cap the rest is only counted, and the statement is refused when it ends.
/// </summary>
internal sealed class MySqlLongStatement
{
    /// <summary>Larger statements are refused: a session never holds more than this for judging.</summary>
    public const int MaxBytes = 64 * 1024 * 1024;

    private readonly ArrayBufferWriter<byte> _frames = new();
    private readonly ArrayBufferWriter<byte> _text = new();

    public MySqlLongStatement(byte command) => Command = command;

    public byte Command { get; }

    /// <summary>Past the cap: nothing more is kept.</summary>
    public bool TooLarge { get; private set; }

    public ReadOnlySpan<byte> Text => _text.WrittenSpan;

    public ReadOnlySpan<byte> Frames => _frames.WrittenSpan;

    /// <summary>Adds one whole packet (header included); <paramref name="textOffset"/> skips the command byte of the first.</summary>
    public void Add(in ReadOnlySequence<byte> frame, int textOffset)
    {
        if (TooLarge || _frames.WrittenCount + frame.Length > MaxBytes)
        {
            TooLarge = true;
            _frames.Clear();
            _text.Clear();
            return;
        }

        frame.CopyTo(_frames.GetSpan((int)frame.Length));
        _frames.Advance((int)frame.Length);
        var text = frame.Slice(4 + textOffset);
        text.CopyTo(_text.GetSpan((int)text.Length));
        _text.Advance((int)text.Length);
    }
}
