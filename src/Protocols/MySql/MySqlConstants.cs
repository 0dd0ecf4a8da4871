namespace Gatehouse.Protocols.MySql;

/// <summary>Capability flags (MySQL internals, "Capabilities Flags"; MariaDB's are the same in the low 32 bits).</summary>
[Flags]
internal enum Capabilities : uint
{
    LongPassword = 1,
    FoundRows = 1 << 1,
    LongFlag = 1 << 2,
    ConnectWithDb = 1 << 3,
    NoSchema = 1 << 4,
    Compress = 1 << 5,
    Odbc = 1 << 6,
    LocalFiles = 1 << 7,
    IgnoreSpace = 1 << 8,
    Protocol41 = 1 << 9,
    Interactive = 1 << 10,
    Ssl = 1 << 11,
    IgnoreSigpipe = 1 << 12,
    Transactions = 1 << 13,
    Reserved = 1 << 14,
    SecureConnection = 1 << 15,
    MultiStatements = 1 << 16,
    MultiResults = 1 << 17,
    PsMultiResults = 1 << 18,
    PluginAuth = 1 << 19,
    ConnectAttrs = 1 << 20,
    PluginAuthLenencClientData = 1 << 21,
    CanHandleExpiredPasswords = 1 << 22,
    SessionTrack = 1 << 23,
    DeprecateEof = 1 << 24,
}

/// <summary>Command bytes (MySQL internals, "Text Protocol" and "Prepared Statements").</summary>
internal enum Command : byte
{
    Sleep = 0x00,
    Quit = 0x01,
    InitDb = 0x02,
    Query = 0x03,
    FieldList = 0x04,
    CreateDb = 0x05,
    DropDb = 0x06,
    Refresh = 0x07,
    Shutdown = 0x08,
    Statistics = 0x09,
    ProcessInfo = 0x0A,
    Connect = 0x0B,
    ProcessKill = 0x0C,
    Debug = 0x0D,
    Ping = 0x0E,
    Time = 0x0F,
    DelayedInsert = 0x10,
    ChangeUser = 0x11,
    BinlogDump = 0x12,
    TableDump = 0x13,
    ConnectOut = 0x14,
    RegisterSlave = 0x15,
    StmtPrepare = 0x16,
    StmtExecute = 0x17,
    StmtSendLongData = 0x18,
    StmtClose = 0x19,
    StmtReset = 0x1A,
    SetOption = 0x1B,
    StmtFetch = 0x1C,
    Daemon = 0x1D,
    BinlogDumpGtid = 0x1E,
    ResetConnection = 0x1F,
}

/// <summary>Error numbers and SQLSTATEs the gateway reports (MySQL server error reference).</summary>
internal static class MySqlError
{
    public const ushort AccessDenied = 1045;
    public const ushort TooManyConnections = 1040;
    public const ushort HandshakeError = 1043;
    public const ushort UnknownThread = 1094;
    /// <summary>ER_TABLEACCESS_DENIED_ERROR: what a server says for a statement the account may not run.</summary>
    public const ushort TableAccessDenied = 1142;
    public const ushort SpecificAccessDenied = 1227;
    public const ushort NotSupportedYet = 1235;
    public const ushort UnknownCommand = 1047;
    public const ushort NetPacketsOutOfOrder = 1156;
    public const ushort ServerShutdown = 1053;
    public const ushort ConnectionKilled = 1927;
    public const ushort NewAbortingConnection = 1184;
    /// <summary>ER_ERROR_ON_WRITE: the session's recording could not be written.</summary>
    public const ushort ErrorOnWrite = 1026;
}

internal static class MySqlCharset
{
    /// <summary>utf8mb4_general_ci: every session through the gateway speaks utf8mb4 (issue 3).</summary>
    public const byte Utf8Mb4GeneralCi = 45;
}

internal static class AuthPlugins
{
    public const string NativePassword = "mysql_native_password";
    public const string CachingSha2 = "caching_sha2_password";
    public const string ClearPassword = "mysql_clear_password";
}
