namespace Gatehouse.Protocols.Postgres;

/// <summary>Type bytes of messages the database sends (PostgreSQL docs, 55.7 "Message Formats").</summary>
internal enum BackendCode : byte
{
    Authentication = (byte)'R',
    BackendKeyData = (byte)'K',
    BindComplete = (byte)'2',
    CloseComplete = (byte)'3',
    CommandComplete = (byte)'C',
    CopyData = (byte)'d',
    CopyDone = (byte)'c',
    CopyInResponse = (byte)'G',
    CopyOutResponse = (byte)'H',
    CopyBothResponse = (byte)'W',
    DataRow = (byte)'D',
    EmptyQueryResponse = (byte)'I',
    ErrorResponse = (byte)'E',
    FunctionCallResponse = (byte)'V',
    NegotiateProtocolVersion = (byte)'v',
    NoData = (byte)'n',
    NoticeResponse = (byte)'N',
    NotificationResponse = (byte)'A',
    ParameterDescription = (byte)'t',
    ParameterStatus = (byte)'S',
    ParseComplete = (byte)'1',
    PortalSuspended = (byte)'s',
    ReadyForQuery = (byte)'Z',
    RowDescription = (byte)'T',
}

/// <summary>Type bytes of messages the client sends after the startup packet (55.7).</summary>
internal enum FrontendCode : byte
{
    Bind = (byte)'B',
    Close = (byte)'C',
    CopyData = (byte)'d',
    CopyDone = (byte)'c',
    CopyFail = (byte)'f',
    Describe = (byte)'D',
    Execute = (byte)'E',
    Flush = (byte)'H',
    FunctionCall = (byte)'F',
    Parse = (byte)'P',
    Password = (byte)'p', // also SASLInitialResponse, SASLResponse, GSSResponse
    Query = (byte)'Q',
    Sync = (byte)'S',
    Terminate = (byte)'X',
}

/// <summary>Authentication request codes inside an 'R' message (55.7, AuthenticationXXX).</summary>
internal enum AuthRequest
{
    Ok = 0,
    KerberosV5 = 2,
    CleartextPassword = 3,
    Md5Password = 5,
    Gss = 7,
    GssContinue = 8,
    Sspi = 9,
    Sasl = 10,
    SaslContinue = 11,
    SaslFinal = 12,
}

/// <summary>Codes that take the place of a protocol version in an untyped startup packet (55.2.1, 55.7).</summary>
internal static class StartupCodes
{
    public const int Protocol30 = 3 << 16;
    public const int CancelRequest = 80877102;
    public const int SslRequest = 80877103;
    public const int GssEncRequest = 80877104;

    /// <summary>55.2.1: the startup packet, including its length, is capped by the server at 10000 bytes.</summary>
    public const int MaxStartupPacket = 10000;

    /// <summary>Password messages, the carrier of the client's token, are capped at 65535 bytes (DESIGN §3).</summary>
    public const int MaxPasswordMessage = 65535;

    /// <summary>SASL exchanges with the database are small; anything larger is hostile (DESIGN §3).</summary>
    public const int MaxSaslMessage = 1024;
}

/// <summary>SQLSTATE codes the gateway itself reports (Appendix A).</summary>
internal static class SqlState
{
    public const string ProtocolViolation = "08P01";
    public const string ConnectionFailure = "08006";
    public const string InvalidAuthorization = "28000";
    public const string InvalidPassword = "28P01";
    public const string InvalidCatalogName = "3D000";
    public const string FeatureNotSupported = "0A000";
    public const string InsufficientPrivilege = "42501";
    public const string AdminShutdown = "57P01";
    public const string TooManyConnections = "53300";
    public const string InvalidParameterValue = "22023";
    public const string IdleSessionTimeout = "57P05";
    /// <summary>io_error: the session's recording could not be written.</summary>
    public const string IoError = "58030";
}
