using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Gatehouse.Fuzz.Support;

/// <summary>
/// Builds PostgreSQL wire messages byte by byte from the protocol's message formats (55.7), independently of
/// the gateway's own writer, for seed corpora, tests and benchmarks.
/// </summary>
internal static class PgMessages
{
    public const int SslRequestCode = 80877103;
    public const int GssEncRequestCode = 80877104;
    public const int CancelRequestCode = 80877102;
    public const int Protocol30 = 3 << 16;

    /// <summary>A typed message: type byte, int32 length (counting itself), body.</summary>
    public static byte[] Typed(char type, ReadOnlySpan<byte> body)
    {
        var message = new byte[5 + body.Length];
        message[0] = (byte)type;
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), 4 + body.Length);
        body.CopyTo(message.AsSpan(5));
        return message;
    }

    /// <summary>A typed message with a length field that lies, for invalid-input tests.</summary>
    public static byte[] WithLength(char type, int length, ReadOnlySpan<byte> body = default)
    {
        var message = new byte[5 + body.Length];
        message[0] = (byte)type;
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), length);
        body.CopyTo(message.AsSpan(5));
        return message;
    }

    public static byte[] Concat(params byte[][] parts)
    {
        var all = new byte[parts.Sum(p => p.Length)];
        var at = 0;
        foreach (var p in parts)
        {
            p.CopyTo(all, at);
            at += p.Length;
        }

        return all;
    }

    // ---- startup phase (untyped) ----

    public static byte[] Startup(params (string Name, string Value)[] parameters) => Startup(Protocol30, parameters);

    public static byte[] Startup(int protocol, params (string Name, string Value)[] parameters)
    {
        var body = new Body().Int32(protocol);
        foreach (var (name, value) in parameters)
        {
            body.CString(name).CString(value);
        }

        body.Byte(0);
        return Untyped(body);
    }

    public static byte[] SslRequest() => Untyped(new Body().Int32(SslRequestCode));

    public static byte[] GssEncRequest() => Untyped(new Body().Int32(GssEncRequestCode));

    public static byte[] CancelRequest(int processId, int secret) => Untyped(new Body().Int32(CancelRequestCode).Int32(processId).Int32(secret));

    /// <summary>An untyped packet: int32 length (counting itself), body.</summary>
    public static byte[] Untyped(Body body)
    {
        var bytes = body.Bytes;
        var packet = new byte[4 + bytes.Length];
        BinaryPrimitives.WriteInt32BigEndian(packet, packet.Length);
        bytes.CopyTo(packet.AsSpan(4));
        return packet;
    }

    // ---- frontend ----

    public static byte[] Query(string sql) => Typed('Q', new Body().CString(sql).Bytes);

    public static byte[] Parse(string statement, string sql, params int[] parameterTypes)
    {
        var body = new Body().CString(statement).CString(sql).Int16(parameterTypes.Length);
        foreach (var oid in parameterTypes)
        {
            body.Int32(oid);
        }

        return Typed('P', body.Bytes);
    }

    /// <summary>Bind with text parameters (null for SQL NULL) and text results.</summary>
    public static byte[] Bind(string portal, string statement, params string?[] parameters)
    {
        var body = new Body().CString(portal).CString(statement).Int16(0).Int16(parameters.Length);
        foreach (var p in parameters)
        {
            if (p is null)
            {
                body.Int32(-1);
            }
            else
            {
                var bytes = Encoding.UTF8.GetBytes(p);
                body.Int32(bytes.Length).Raw(bytes);
            }
        }

        body.Int16(0);
        return Typed('B', body.Bytes);
    }

    public static byte[] Describe(char kind, string name) => Typed('D', new Body().Byte((byte)kind).CString(name).Bytes);

    public static byte[] Execute(string portal, int maxRows) => Typed('E', new Body().CString(portal).Int32(maxRows).Bytes);

    public static byte[] Close(char kind, string name) => Typed('C', new Body().Byte((byte)kind).CString(name).Bytes);

    public static byte[] Sync() => Typed('S', []);

    public static byte[] Flush() => Typed('H', []);

    public static byte[] Terminate() => Typed('X', []);

    public static byte[] CopyData(ReadOnlySpan<byte> data) => Typed('d', data);

    public static byte[] CopyDone() => Typed('c', []);

    public static byte[] PasswordMessage(string password) => Typed('p', new Body().CString(password).Bytes);

    // ---- backend ----

    public static byte[] AuthenticationOk() => Typed('R', new Body().Int32(0).Bytes);

    public static byte[] AuthenticationSasl(params string[] mechanisms)
    {
        var body = new Body().Int32(10);
        foreach (var m in mechanisms)
        {
            body.CString(m);
        }

        return Typed('R', body.Byte(0).Bytes);
    }

    public static byte[] AuthenticationSaslContinue(string data) => Typed('R', new Body().Int32(11).Raw(Encoding.UTF8.GetBytes(data)).Bytes);

    public static byte[] AuthenticationSaslFinal(string data) => Typed('R', new Body().Int32(12).Raw(Encoding.UTF8.GetBytes(data)).Bytes);

    public static byte[] ParameterStatus(string name, string value) => Typed('S', new Body().CString(name).CString(value).Bytes);

    public static byte[] BackendKeyData(int processId, int secret) => Typed('K', new Body().Int32(processId).Int32(secret).Bytes);

    public static byte[] ReadyForQuery(char status = 'I') => Typed('Z', [(byte)status]);

    /// <summary>RowDescription with text columns of type <paramref name="typeOid"/>.</summary>
    public static byte[] RowDescription(int typeOid, params string[] columns)
    {
        var body = new Body().Int16(columns.Length);
        foreach (var c in columns)
        {
            body.CString(c).Int32(0).Int16(0).Int32(typeOid).Int16(-1).Int32(-1).Int16(0);
        }

        return Typed('T', body.Bytes);
    }

    /// <summary>RowDescription of the columns of table <paramref name="table"/>, attribute numbers 1 to n, as text of type <paramref name="typeOid"/>.</summary>
    public static byte[] RowDescriptionOfTable(int table, int typeOid, params string[] columns)
    {
        var body = new Body().Int16(columns.Length);
        for (var i = 0; i < columns.Length; i++)
        {
            body.CString(columns[i]).Int32(table).Int16(i + 1).Int32(typeOid).Int16(-1).Int32(-1).Int16(0);
        }

        return Typed('T', body.Bytes);
    }

    /// <summary>DataRow of text values (null for SQL NULL).</summary>
    public static byte[] DataRow(params string?[] values)
    {
        var body = new Body().Int16(values.Length);
        foreach (var v in values)
        {
            if (v is null)
            {
                body.Int32(-1);
            }
            else
            {
                var bytes = Encoding.UTF8.GetBytes(v);
                body.Int32(bytes.Length).Raw(bytes);
            }
        }

        return Typed('D', body.Bytes);
    }

    /// <summary>A DataRow with one column of <paramref name="size"/> bytes of 'x', built without an intermediate string.</summary>
    public static byte[] LargeDataRow(int size)
    {
        var message = new byte[5 + 2 + 4 + size];
        message[0] = (byte)'D';
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), message.Length - 1);
        BinaryPrimitives.WriteInt16BigEndian(message.AsSpan(5), 1);
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(7), size);
        message.AsSpan(11).Fill((byte)'x');
        return message;
    }

    public static byte[] CommandComplete(string tag) => Typed('C', new Body().CString(tag).Bytes);

    public static byte[] ErrorResponse(string sqlState, string message)
        => Typed('E', new Body().Byte((byte)'S').CString("ERROR").Byte((byte)'C').CString(sqlState).Byte((byte)'M').CString(message).Byte(0).Bytes);

    public static byte[] ParseComplete() => Typed('1', []);

    public static byte[] BindComplete() => Typed('2', []);

    public static byte[] NoData() => Typed('n', []);

    /// <summary>A message body under construction (big-endian integers, NUL-terminated UTF-8 strings).</summary>
    public sealed class Body
    {
        private readonly ArrayBufferWriter<byte> _buffer = new();

        public byte[] Bytes => _buffer.WrittenSpan.ToArray();

        public Body Byte(byte value)
        {
            _buffer.Write([value]);
            return this;
        }

        public Body Int16(int value)
        {
            BinaryPrimitives.WriteInt16BigEndian(_buffer.GetSpan(2), (short)value);
            _buffer.Advance(2);
            return this;
        }

        public Body Int32(int value)
        {
            BinaryPrimitives.WriteInt32BigEndian(_buffer.GetSpan(4), value);
            _buffer.Advance(4);
            return this;
        }

        public Body CString(string value)
        {
            _buffer.Write(Encoding.UTF8.GetBytes(value));
            return Byte(0);
        }

        public Body Raw(ReadOnlySpan<byte> bytes)
        {
            _buffer.Write(bytes);
            return this;
        }
    }
}
