using System.Buffers.Binary;
using System.Text;

namespace Gatehouse.Protocols.MySql;

/// <summary>
/// Turns a recorded MySQL session's byte streams back into what a person reads: COM_QUERY and
/// COM_STMT_PREPARE texts, executions, result columns, text rows, OK and ERR packets. Answers are matched to
/// commands in order, as the server sends them; binary rows (COM_STMT_EXECUTE) are shown by size.
/// </summary>
public sealed class MySqlTranscript(bool deprecateEof) : ITranscript
{
    private readonly List<byte> _client = [];
    private readonly List<byte> _server = [];
    private readonly List<byte> _command = []; // a client command of 16 MiB or more, until its last packet
    private int _commandPackets; // how many packets _command holds, for UnfinishedClientBytes
    private readonly List<string> _lines = [];
    private readonly Queue<byte> _pending = new();
    private readonly List<string> _columns = [];
    private State _state;
    private long _remaining;
    private bool _binary;

    private enum State
    {
        Head,
        Columns,
        ColumnsEof,
        Rows,
        Definitions,
    }

    public IReadOnlyList<string> Lines => _lines;

    public List<string> Statements { get; } = [];

    public int UnfinishedClientBytes => _client.Count + _command.Count + (4 * _commandPackets);

    public void Client(ReadOnlySpan<byte> bytes) => Drain(_client, bytes, OnClientPacket);

    public void Server(ReadOnlySpan<byte> bytes) => Drain(_server, bytes, OnServer);

    public void Note(string line) => _lines.Add(line);

    private static void Drain(List<byte> stream, ReadOnlySpan<byte> bytes, Action<byte[], bool> onPacket)
    {
        stream.AddRange(bytes);
        while (stream.Count >= 4)
        {
            var length = stream[0] | (stream[1] << 8) | (stream[2] << 16);
            if (stream.Count < 4 + length)
            {
                return;
            }

            var payload = stream.GetRange(4, length).ToArray();
            stream.RemoveRange(0, 4 + length);
            onPacket(payload, length == 0xFFFFFF);
        }
    }

    private void OnClientPacket(byte[] payload, bool continues)
    {
        _command.AddRange(payload);
        if (continues)
        {
            _commandPackets++;
            return;
        }

        var command = _command.ToArray();
        _command.Clear();
        _commandPackets = 0;
        if (command.Length == 0)
        {
            return;
        }

        var text = Encoding.UTF8.GetString(command, 1, command.Length - 1);
        switch (command[0])
        {
            case 0x03:
                Statements.Add(text);
                _lines.Add($"> query: {text}");
                break;
            case 0x16:
                Statements.Add(text);
                _lines.Add($"> prepare: {text}");
                break;
            case 0x17 when command.Length >= 5:
                _lines.Add($"> execute statement {BinaryPrimitives.ReadUInt32LittleEndian(command.AsSpan(1))} ({command.Length - 10} bytes of parameters)");
                break;
            case 0x01:
                _lines.Add("> quit");
                return; // no answer
            case 0x19 or 0x18:
                return; // COM_STMT_CLOSE, COM_STMT_SEND_LONG_DATA: no answer
            case 0x02:
                _lines.Add($"> use {text}");
                break;
            default:
                _lines.Add($"> command 0x{command[0]:X2}");
                break;
        }

        _pending.Enqueue(command[0]);
    }

    private void OnServer(byte[] p, bool continues)
    {
        var first = p.Length > 0 ? p[0] : (byte)0;
        if (first == 0xFF)
        {
            _lines.Add($"< error {MySqlErrorPacket.Describe(p)}");
            Done();
            return;
        }

        switch (_state)
        {
            case State.Definitions when p.Length >= 4 && p[0] == 3 && p[1] == (byte)'d' || first == 0xFE && p.Length < 9:
                return;
            case State.Columns:
                var reader = new MySqlPayloadReader(p);
                _columns.Add(reader.TryLengthEncodedBytes(out _) && reader.TryLengthEncodedBytes(out _) && reader.TryLengthEncodedBytes(out _)
                    && reader.TryLengthEncodedBytes(out _) && reader.TryLengthEncodedBytes(out var name) ? Encoding.UTF8.GetString(name) : "?");
                if (--_remaining == 0)
                {
                    _lines.Add($"< columns: {string.Join(" | ", _columns)}");
                    _state = deprecateEof ? State.Rows : State.ColumnsEof;
                }

                return;
            case State.ColumnsEof:
                _state = State.Rows; // the EOF between definitions and rows (a cursor's rows come with COM_STMT_FETCH)
                return;
            case State.Rows when first == 0xFE && p.Length < 0xFFFFFF:
                var status = !deprecateEof ? (p.Length >= 5 ? BinaryPrimitives.ReadUInt16LittleEndian(p.AsSpan(3)) : (ushort)0) : OkStatus(p);
                _lines.Add($"< end of rows ({_rowCount} rows)");
                if ((status & 0x0008) == 0)
                {
                    Done();
                }
                else
                {
                    StartResult();
                }

                return;
            case State.Rows:
                _rowCount++;
                _lines.Add(_binary ? $"< row: <{p.Length} bytes binary>" : $"< row: {TextRow(p)}");
                return;
        }

        // A head: OK, a prepare-OK, or a column count.
        var command = _pending.Count > 0 ? _pending.Peek() : (byte)0;
        if (command == 0x16 && first == 0x00 && p.Length >= 9)
        {
            _lines.Add($"< prepared statement {BinaryPrimitives.ReadUInt32LittleEndian(p.AsSpan(1))}");
            _pending.Dequeue();
            _state = State.Definitions;
            return;
        }

        if (first == 0x00)
        {
            var ok = new MySqlPayloadReader(p);
            _lines.Add(ok.TrySkip(1) && ok.TryLengthEncoded(out var affected) ? $"< OK, {affected} rows affected" : "< OK");
            if ((OkStatus(p) & 0x0008) == 0)
            {
                Done();
            }

            return;
        }

        var count = new MySqlPayloadReader(p);
        if (count.TryLengthEncoded(out var columns) && columns > 0)
        {
            StartResult();
            _binary = command == 0x17;
            _remaining = (long)columns;
            _state = State.Columns;
        }
    }

    private int _rowCount;

    private void StartResult()
    {
        _columns.Clear();
        _rowCount = 0;
        _state = State.Head;
    }

    private void Done()
    {
        if (_pending.Count > 0)
        {
            _pending.Dequeue();
        }

        _state = State.Head;
    }

    private static ushort OkStatus(byte[] p)
    {
        var reader = new MySqlPayloadReader(p);
        return reader.TrySkip(1) && reader.TryLengthEncoded(out _) && reader.TryLengthEncoded(out _) && reader.TryUInt16(out var status) ? status : (ushort)0;
    }

    private static string TextRow(byte[] p)
    {
        var values = new List<string>();
        var reader = new MySqlPayloadReader(p);
        while (reader.Remaining > 0)
        {
            if (reader.Rest[0] == 0xFB)
            {
                reader.TrySkip(1);
                values.Add("NULL");
            }
            else if (reader.TryLengthEncodedBytes(out var value))
            {
                values.Add(Encoding.UTF8.GetString(value));
            }
            else
            {
                values.Add("<malformed>");
                break;
            }
        }

        return string.Join(" | ", values);
    }
}
