using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace Gatehouse.Tests.Policy;

/// <summary>A statement's place in a SQL text, in UTF-8 bytes (libpg_query reports byte offsets).</summary>
internal readonly record struct PgStatementLocation(int Start, int Length);

/// <summary>The outcome of <see cref="PgParser.Parse"/>: the parse tree as JSON, or the parser's error.</summary>
internal sealed class PgParseResult : IDisposable
{
    public PgParseResult(JsonDocument? tree, string? error, int errorPosition)
    {
        Tree = tree;
        Error = error;
        ErrorPosition = errorPosition;
    }

    /// <summary><c>{"version":..,"stmts":[{"stmt":{"SelectStmt":{..}},"stmt_location":..,"stmt_len":..}]}</c>.</summary>
    public JsonDocument? Tree { get; }

    public string? Error { get; }

    /// <summary>1-based character position of the error (0 when unknown), as libpg_query reports it.</summary>
    public int ErrorPosition { get; }

    public bool Ok => Tree is not null;

    /// <summary>The statement nodes (RawStmt.stmt), each an object with a single property named after the node type.</summary>
    public IEnumerable<JsonElement> Statements =>
        Tree is null || !Tree.RootElement.TryGetProperty("stmts", out var stmts)
            ? []
            : stmts.EnumerateArray().Select(s => s.GetProperty("stmt"));

    public void Dispose() => Tree?.Dispose();
}

/// <summary>The outcome of a split: statement locations, or the error that stopped it.</summary>
internal sealed record PgSplitResult(IReadOnlyList<PgStatementLocation> Statements, string? Error)
{
    public bool Ok => Error is null;
}

/// <summary>
/// P/Invoke over libpg_query (PostgreSQL 15's own raw parser, packaged as libpg-query-dev), the oracle the
/// classifier is held to. libpg_query keeps its memory contexts per thread, so calls are safe from test threads.
/// </summary>
internal static partial class PgParser
{
    private const string Library = "pg_query";
    private const string DebianPath = "/usr/lib/x86_64-linux-gnu/libpg_query.so";

    private static readonly Lazy<bool> Available = new(Probe);

    static PgParser()
    {
        // The package installs only an unversioned .so in a multiarch directory; resolve it explicitly so the
        // test does not depend on LD_LIBRARY_PATH. SetDllImportResolver may be called once per assembly.
        NativeLibrary.SetDllImportResolver(typeof(PgParser).Assembly, Resolve);
    }

    public static bool IsAvailable => Available.Value;

    public static PgParseResult Parse(string sql)
    {
        var result = pg_query_parse(Terminated(sql));
        try
        {
            if (result.Error != IntPtr.Zero)
            {
                var error = Marshal.PtrToStructure<PgQueryError>(result.Error);
                return new PgParseResult(null, Marshal.PtrToStringUTF8(error.Message) ?? "error", error.CursorPos);
            }
            var json = Marshal.PtrToStringUTF8(result.ParseTree) ?? "{}";
            return new PgParseResult(JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 4096 }), null, 0);
        }
        finally
        {
            pg_query_free_parse_result(result);
        }
    }

    /// <summary>Splits with the parser (exact, but fails on any syntax error in the text).</summary>
    public static PgSplitResult Split(string sql) => ReadSplit(pg_query_split_with_parser(Terminated(sql)));

    /// <summary>Splits with the scanner only; works on texts with syntax errors.</summary>
    public static PgSplitResult SplitWithScanner(string sql) => ReadSplit(pg_query_split_with_scanner(Terminated(sql)));

    private static PgSplitResult ReadSplit(PgQuerySplitResult result)
    {
        try
        {
            if (result.Error != IntPtr.Zero)
            {
                var error = Marshal.PtrToStructure<PgQueryError>(result.Error);
                return new PgSplitResult([], Marshal.PtrToStringUTF8(error.Message) ?? "error");
            }
            var list = new List<PgStatementLocation>(result.NStmts);
            for (var i = 0; i < result.NStmts; i++)
            {
                var stmt = Marshal.PtrToStructure<PgQuerySplitStmt>(Marshal.ReadIntPtr(result.Stmts, i * IntPtr.Size));
                list.Add(new PgStatementLocation(stmt.Location, stmt.Length));
            }
            return new PgSplitResult(list, null);
        }
        finally
        {
            pg_query_free_split_result(result);
        }
    }

    private static byte[] Terminated(string sql)
    {
        var bytes = new byte[Encoding.UTF8.GetByteCount(sql) + 1];
        Encoding.UTF8.GetBytes(sql, bytes);
        return bytes;
    }

    private static bool Probe()
    {
        try
        {
            using var result = Parse("SELECT 1");
            return result.Ok;
        }
        catch (DllNotFoundException)
        {
            return false;
        }
        catch (EntryPointNotFoundException)
        {
            return false;
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != Library)
            return IntPtr.Zero;
        if (NativeLibrary.TryLoad("libpg_query.so", assembly, searchPath, out var handle)
            || NativeLibrary.TryLoad(DebianPath, out handle))
            return handle;
        return IntPtr.Zero;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PgQueryError
    {
        public IntPtr Message;
        public IntPtr FuncName;
        public IntPtr FileName;
        public int LineNo;
        public int CursorPos;
        public IntPtr Context;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PgQueryParseResult
    {
        public IntPtr ParseTree;
        public IntPtr StderrBuffer;
        public IntPtr Error;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PgQuerySplitStmt
    {
        public int Location;
        public int Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PgQuerySplitResult
    {
        public IntPtr Stmts;
        public int NStmts;
        public IntPtr StderrBuffer;
        public IntPtr Error;
    }

    [LibraryImport(Library)]
    private static partial PgQueryParseResult pg_query_parse(byte[] input);

    [LibraryImport(Library)]
    private static partial void pg_query_free_parse_result(PgQueryParseResult result);

    [LibraryImport(Library)]
    private static partial PgQuerySplitResult pg_query_split_with_parser(byte[] input);

    [LibraryImport(Library)]
    private static partial PgQuerySplitResult pg_query_split_with_scanner(byte[] input);

    [LibraryImport(Library)]
    private static partial void pg_query_free_split_result(PgQuerySplitResult result);
}
