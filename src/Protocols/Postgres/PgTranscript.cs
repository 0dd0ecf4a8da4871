using System.Buffers.Binary;
using System.Text;

namespace Gatehouse.Protocols.Postgres;

/// <summary>
/// Turns a recorded PostgreSQL session's byte streams back into what a person reads: queries, parses with
/// their SQL, binds with their parameter values, result columns and rows, command tags and errors. Fed the
/// client and server bytes in recorded order; a message split across records is completed by the next.
/// </summary>
public sealed class PgTranscript : ITranscript
{
    private readonly List<byte> _client = [];
    private readonly List<byte> _server = [];
    private readonly List<string> _lines = [];
    private readonly Dictionary<string, string> _statements = new(StringComparer.Ordinal);

    public IReadOnlyList<string> Lines => _lines;

    /// <summary>Every SQL text the client sent (simple queries and parses), in order.</summary>
    public List<string> Statements { get; } = [];

    public int UnfinishedClientBytes => _client.Count;

    public void Client(ReadOnlySpan<byte> bytes) => Drain(_client, bytes, OnClient);

    public void Server(ReadOnlySpan<byte> bytes) => Drain(_server, bytes, OnServer);

    public void Note(string line) => _lines.Add(line);

    private static void Drain(List<byte> stream, ReadOnlySpan<byte> bytes, Action<byte, byte[]> onMessage)
    {
        stream.AddRange(bytes);
        while (stream.Count >= 5)
        {
            var length = BinaryPrimitives.ReadInt32BigEndian([stream[1], stream[2], stream[3], stream[4]]);
            if (length < 4 || stream.Count < 1 + length)
            {
                return;
            }

            var body = stream.GetRange(5, length - 4).ToArray();
            var type = stream[0];
            stream.RemoveRange(0, 1 + length);
            onMessage(type, body);
        }
    }

    private void OnClient(byte type, byte[] body)
    {
        var reader = new Reader(body);
        switch ((char)type)
        {
            case 'Q':
                var sql = reader.CString();
                Statements.Add(sql);
                _lines.Add($"> query: {sql}");
                break;
            case 'P':
                var name = reader.CString();
                var text = reader.CString();
                _statements[name] = text;
                Statements.Add(text);
                _lines.Add($"> parse{(name.Length > 0 ? $" \"{name}\"" : "")}: {text}");
                break;
            case 'B':
                var portal = reader.CString();
                var statement = reader.CString();
                _lines.Add($"> bind{(portal.Length > 0 ? $" \"{portal}\"" : "")}{(statement.Length > 0 ? $" to \"{statement}\"" : "")}: {Parameters(ref reader)}");
                break;
            case 'X':
                _lines.Add("> terminate");
                break;
            case 'F':
                _lines.Add("> function call");
                break;
        }
    }

    private static string Parameters(ref Reader reader)
    {
        var formats = new short[reader.Int16()];
        for (var i = 0; i < formats.Length; i++)
        {
            formats[i] = reader.Int16();
        }

        var count = reader.Int16();
        var values = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var length = reader.Int32();
            var binary = formats.Length == 1 ? formats[0] == 1 : i < formats.Length && formats[i] == 1;
            var value = length < 0 ? null : reader.Bytes(length);
            values.Add($"${i + 1} = {(value is null ? "NULL" : binary ? $"<{value.Length} bytes binary>" : $"'{Encoding.UTF8.GetString(value)}'")}");
        }

        return values.Count == 0 ? "no parameters" : string.Join(", ", values);
    }

    private void OnServer(byte type, byte[] body)
    {
        var reader = new Reader(body);
        switch ((char)type)
        {
            case 'T':
                var columns = new List<string>();
                for (int i = 0, n = reader.Int16(); i < n; i++)
                {
                    columns.Add(reader.CString());
                    reader.Skip(18);
                }

                _lines.Add($"< columns: {string.Join(" | ", columns)}");
                break;
            case 'D':
                var values = new List<string>();
                for (int i = 0, n = reader.Int16(); i < n; i++)
                {
                    var length = reader.Int32();
                    values.Add(length < 0 ? "NULL" : Printable(reader.Bytes(length)));
                }

                _lines.Add($"< row: {string.Join(" | ", values)}");
                break;
            case 'C':
                _lines.Add($"< {reader.CString()}");
                break;
            case 'E':
                _lines.Add($"< error: {PgErrorFields.Describe(body)}");
                break;
            case 'd':
                _lines.Add($"< copy data: {Printable(body)}");
                break;
        }
    }

    private static string Printable(byte[] value)
    {
        var text = Encoding.UTF8.GetString(value);
        return text.Any(c => char.IsControl(c) && c is not ('\t' or '\n' or '\r')) ? $"<{value.Length} bytes>" : text;
    }

    private ref struct Reader(ReadOnlySpan<byte> body)
    {
        private readonly ReadOnlySpan<byte> _body = body;
        private int _at;

        public string CString()
        {
            var end = _body[_at..].IndexOf((byte)0);
            var text = Encoding.UTF8.GetString(end < 0 ? _body[_at..] : _body.Slice(_at, end));
            _at = end < 0 ? _body.Length : _at + end + 1;
            return text;
        }

        public short Int16()
        {
            if (_body.Length - _at < 2)
            {
                return 0;
            }

            _at += 2;
            return BinaryPrimitives.ReadInt16BigEndian(_body[(_at - 2)..]);
        }

        public int Int32()
        {
            if (_body.Length - _at < 4)
            {
                return -1;
            }

            _at += 4;
            return BinaryPrimitives.ReadInt32BigEndian(_body[(_at - 4)..]);
        }

        public byte[] Bytes(int count)
        {
            count = Math.Min(count, _body.Length - _at);
            var bytes = _body.Slice(_at, count).ToArray();
            _at += count;
            return bytes;
        }

        public void Skip(int count) => _at = Math.Min(_body.Length, _at + count);
    }
}
