using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Gatehouse.Protocols.Postgres;

/// <summary>
/// Writes the messages the gateway itself originates. Each message's length is computed first and the
/// bytes are written into one span from <see cref="IBufferWriter{T}.GetSpan"/>, advanced once (Npgsql
/// <c>NpgsqlConnector.FrontendMessages</c>).
/// </summary>
internal static class PgWriter
{
    private static readonly UTF8Encoding Utf8 = new(false, true);

    public static void ReadyForQuery(IBufferWriter<byte> w, byte status)
    {
        var s = w.GetSpan(6);
        s[0] = (byte)BackendCode.ReadyForQuery;
        BinaryPrimitives.WriteInt32BigEndian(s[1..], 5);
        s[5] = status;
        w.Advance(6);
    }

    public static void AuthenticationRequest(IBufferWriter<byte> w, AuthRequest request)
    {
        var s = w.GetSpan(9);
        s[0] = (byte)BackendCode.Authentication;
        BinaryPrimitives.WriteInt32BigEndian(s[1..], 8);
        BinaryPrimitives.WriteInt32BigEndian(s[5..], (int)request);
        w.Advance(9);
    }

    public static void BackendKeyData(IBufferWriter<byte> w, int processId, int secret)
    {
        var s = w.GetSpan(13);
        s[0] = (byte)BackendCode.BackendKeyData;
        BinaryPrimitives.WriteInt32BigEndian(s[1..], 12);
        BinaryPrimitives.WriteInt32BigEndian(s[5..], processId);
        BinaryPrimitives.WriteInt32BigEndian(s[9..], secret);
        w.Advance(13);
    }

    public static void ParameterStatus(IBufferWriter<byte> w, string name, string value)
    {
        var length = 4 + CStringLength(name) + CStringLength(value);
        var s = w.GetSpan(1 + length);
        s[0] = (byte)BackendCode.ParameterStatus;
        BinaryPrimitives.WriteInt32BigEndian(s[1..], length);
        var at = 5;
        at += WriteCString(s[at..], name);
        at += WriteCString(s[at..], value);
        w.Advance(at);
    }

    /// <summary>NegotiateProtocolVersion: the newest minor version we speak and the options we did not recognise.</summary>
    public static void NegotiateProtocolVersion(IBufferWriter<byte> w, int newestMinor, IReadOnlyList<string> unrecognised)
    {
        var length = 4 + 4 + 4;
        foreach (var o in unrecognised)
        {
            length += CStringLength(o);
        }

        var s = w.GetSpan(1 + length);
        s[0] = (byte)BackendCode.NegotiateProtocolVersion;
        BinaryPrimitives.WriteInt32BigEndian(s[1..], length);
        BinaryPrimitives.WriteInt32BigEndian(s[5..], newestMinor);
        BinaryPrimitives.WriteInt32BigEndian(s[9..], unrecognised.Count);
        var at = 13;
        foreach (var o in unrecognised)
        {
            at += WriteCString(s[at..], o);
        }

        w.Advance(at);
    }

    /// <summary>ErrorResponse with severity, SQLSTATE and message fields (55.8).</summary>
    public static void ErrorResponse(IBufferWriter<byte> w, string severity, string sqlState, string message, string? detail = null, string? hint = null)
        => Fields(w, BackendCode.ErrorResponse, severity, sqlState, message, detail, hint);

    /// <summary>NoticeResponse: the same fields as an ErrorResponse, for a warning the client reads and goes on.</summary>
    public static void NoticeResponse(IBufferWriter<byte> w, string severity, string sqlState, string message, string? detail = null, string? hint = null)
        => Fields(w, BackendCode.NoticeResponse, severity, sqlState, message, detail, hint);

    /// <summary>Any message: its type, its length and <paramref name="body"/>.</summary>
    public static void Message(IBufferWriter<byte> w, byte type, ReadOnlySpan<byte> body)
    {
        var s = w.GetSpan(5 + body.Length);
        s[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(s[1..], 4 + body.Length);
        body.CopyTo(s[5..]);
        w.Advance(5 + body.Length);
    }

    private static void Fields(IBufferWriter<byte> w, BackendCode type, string severity, string sqlState, string message, string? detail, string? hint)
    {
        var length = 4 + 1 + 2 * (1 + CStringLength(severity)) + 1 + CStringLength(sqlState) + 1 + CStringLength(message);
        if (detail is not null)
        {
            length += 1 + CStringLength(detail);
        }

        if (hint is not null)
        {
            length += 1 + CStringLength(hint);
        }

        var s = w.GetSpan(1 + length);
        s[0] = (byte)type;
        BinaryPrimitives.WriteInt32BigEndian(s[1..], length);
        var at = 5;
        at += Field(s[at..], (byte)'S', severity);
        at += Field(s[at..], (byte)'V', severity);
        at += Field(s[at..], (byte)'C', sqlState);
        at += Field(s[at..], (byte)'M', message);
        if (detail is not null)
        {
            at += Field(s[at..], (byte)'D', detail);
        }

        if (hint is not null)
        {
            at += Field(s[at..], (byte)'H', hint);
        }

        s[at++] = 0;
        w.Advance(at);
    }

    public static void StartupMessage(IBufferWriter<byte> w, IReadOnlyList<KeyValuePair<string, string>> parameters)
    {
        var length = 4 + 4 + 1;
        foreach (var (k, v) in parameters)
        {
            length += CStringLength(k) + CStringLength(v);
        }

        var s = w.GetSpan(length);
        BinaryPrimitives.WriteInt32BigEndian(s, length);
        BinaryPrimitives.WriteInt32BigEndian(s[4..], StartupCodes.Protocol30);
        var at = 8;
        foreach (var (k, v) in parameters)
        {
            at += WriteCString(s[at..], k);
            at += WriteCString(s[at..], v);
        }

        s[at++] = 0;
        w.Advance(at);
    }

    /// <summary>An 8-byte request packet (SSLRequest, GSSENCRequest).</summary>
    public static void RequestCode(IBufferWriter<byte> w, int code)
    {
        var s = w.GetSpan(8);
        BinaryPrimitives.WriteInt32BigEndian(s, 8);
        BinaryPrimitives.WriteInt32BigEndian(s[4..], code);
        w.Advance(8);
    }

    public static void CancelRequest(IBufferWriter<byte> w, int processId, int secret)
    {
        var s = w.GetSpan(16);
        BinaryPrimitives.WriteInt32BigEndian(s, 16);
        BinaryPrimitives.WriteInt32BigEndian(s[4..], StartupCodes.CancelRequest);
        BinaryPrimitives.WriteInt32BigEndian(s[8..], processId);
        BinaryPrimitives.WriteInt32BigEndian(s[12..], secret);
        w.Advance(16);
    }

    /// <summary>PasswordMessage with a null-terminated string (cleartext or md5).</summary>
    public static void PasswordMessage(IBufferWriter<byte> w, string password)
    {
        var length = 4 + CStringLength(password);
        var s = w.GetSpan(1 + length);
        s[0] = (byte)FrontendCode.Password;
        BinaryPrimitives.WriteInt32BigEndian(s[1..], length);
        var at = 5 + WriteCString(s[5..], password);
        w.Advance(at);
    }

    public static void SaslInitialResponse(IBufferWriter<byte> w, string mechanism, ReadOnlySpan<byte> data)
    {
        var length = 4 + CStringLength(mechanism) + 4 + data.Length;
        var s = w.GetSpan(1 + length);
        s[0] = (byte)FrontendCode.Password;
        BinaryPrimitives.WriteInt32BigEndian(s[1..], length);
        var at = 5 + WriteCString(s[5..], mechanism);
        BinaryPrimitives.WriteInt32BigEndian(s[at..], data.Length);
        at += 4;
        data.CopyTo(s[at..]);
        w.Advance(at + data.Length);
    }

    public static void SaslResponse(IBufferWriter<byte> w, ReadOnlySpan<byte> data) => Message(w, (byte)FrontendCode.Password, data);

    /// <summary>Query (55.7): a simple-protocol statement.</summary>
    public static void Query(IBufferWriter<byte> w, string sql)
    {
        var length = 4 + CStringLength(sql);
        var s = w.GetSpan(1 + length);
        s[0] = (byte)FrontendCode.Query;
        BinaryPrimitives.WriteInt32BigEndian(s[1..], length);
        w.Advance(5 + WriteCString(s[5..], sql));
    }

    /// <summary>Parse (55.7) of <paramref name="sql"/> into the statement <paramref name="name"/> (raw bytes, no NUL), with no parameter types.</summary>
    public static void Parse(IBufferWriter<byte> w, ReadOnlySpan<byte> name, string sql)
    {
        var length = 4 + name.Length + 1 + CStringLength(sql) + 2;
        var s = w.GetSpan(1 + length);
        s[0] = (byte)FrontendCode.Parse;
        BinaryPrimitives.WriteInt32BigEndian(s[1..], length);
        name.CopyTo(s[5..]);
        var at = 5 + name.Length;
        s[at++] = 0;
        at += WriteCString(s[at..], sql);
        s[at++] = 0;
        s[at++] = 0;
        w.Advance(at);
    }

    /// <summary>Describe (55.7) of a statement ('S') or portal ('P').</summary>
    public static void Describe(IBufferWriter<byte> w, byte target, string name)
    {
        var length = 4 + 1 + CStringLength(name);
        var s = w.GetSpan(1 + length);
        s[0] = (byte)FrontendCode.Describe;
        BinaryPrimitives.WriteInt32BigEndian(s[1..], length);
        s[5] = target;
        w.Advance(6 + WriteCString(s[6..], name));
    }

    public static void Sync(IBufferWriter<byte> w)
    {
        var s = w.GetSpan(5);
        s[0] = (byte)FrontendCode.Sync;
        BinaryPrimitives.WriteInt32BigEndian(s[1..], 4);
        w.Advance(5);
    }

    public static void Terminate(IBufferWriter<byte> w)
    {
        var s = w.GetSpan(5);
        s[0] = (byte)FrontendCode.Terminate;
        BinaryPrimitives.WriteInt32BigEndian(s[1..], 4);
        w.Advance(5);
    }

    private static int Field(Span<byte> s, byte code, string value)
    {
        s[0] = code;
        return 1 + WriteCString(s[1..], value);
    }

    private static int CStringLength(string value) => Utf8.GetByteCount(value) + 1;

    private static int WriteCString(Span<byte> s, string value)
    {
        var n = Utf8.GetBytes(value, s);
        s[n] = 0;
        return n + 1;
    }
}
