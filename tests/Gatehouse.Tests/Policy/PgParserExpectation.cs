using System.Collections.Frozen;
using System.Text.Json;
using Gatehouse.Proxy.Core.Policy;

namespace Gatehouse.Tests.Policy;

/// <summary>
/// What PostgreSQL's parse tree proves about one statement: the kinds a correct classifier may answer (besides
/// <see cref="StatementKind.Unknown"/>, which is always allowed) and the risk flags it must report. An empty
/// <see cref="Kinds"/> means only Unknown is acceptable (EXECUTE: the guard substitutes what was prepared);
/// <see cref="Mapped"/> false means the node type is not in the table, so any kind passes and only risks are held.
/// </summary>
internal sealed record PgExpectation(string Node, IReadOnlySet<StatementKind> Kinds, StatementRisk Risks, bool Mapped = true)
{
    public bool Accepts(StatementKind kind) => kind == StatementKind.Unknown || !Mapped || Kinds.Contains(kind);

    public override string ToString() =>
        $"{Node} -> {(Mapped ? "{" + string.Join(",", Kinds) + "}" : "any")} risks={Risks}";
}

/// <summary>Maps a libpg_query parse tree (JSON) to a <see cref="PgExpectation"/>.</summary>
internal static class PgParserExpectation
{
    private static readonly FrozenSet<StatementKind> None = FrozenSet<StatementKind>.Empty;
    private static readonly FrozenSet<StatementKind> Read = Set(StatementKind.Read);
    private static readonly FrozenSet<StatementKind> Write = Set(StatementKind.Write);
    private static readonly FrozenSet<StatementKind> Ddl = Set(StatementKind.Ddl);
    private static readonly FrozenSet<StatementKind> Dcl = Set(StatementKind.Dcl);
    private static readonly FrozenSet<StatementKind> Admin = Set(StatementKind.Admin);
    private static readonly FrozenSet<StatementKind> Transaction = Set(StatementKind.Transaction);
    private static readonly FrozenSet<StatementKind> Session = Set(StatementKind.Session);

    // Node types whose kind the tree proves without looking inside. Where StatementKind's docs leave room (SHOW is
    // listed under both Read and Session; owner changes are DDL or DCL), the set holds every reading.
    private static readonly FrozenDictionary<string, FrozenSet<StatementKind>> Simple = new Dictionary<string, FrozenSet<StatementKind>>
    {
        ["InsertStmt"] = Write,
        ["UpdateStmt"] = Write,
        ["DeleteStmt"] = Write,
        ["MergeStmt"] = Write,
        ["TruncateStmt"] = Ddl,
        ["CommentStmt"] = Ddl,
        ["SecLabelStmt"] = Ddl,
        ["DropStmt"] = Ddl,
        ["DropdbStmt"] = Ddl,
        ["CreatedbStmt"] = Ddl,
        ["CreateStmt"] = Ddl,
        ["CreateTableAsStmt"] = Ddl,
        ["ViewStmt"] = Ddl,
        ["IndexStmt"] = Ddl,
        ["CreateFunctionStmt"] = Ddl,
        ["AlterFunctionStmt"] = Ddl,
        ["AlterTableStmt"] = Ddl,
        ["CreateTrigStmt"] = Ddl,
        ["CreateEventTrigStmt"] = Ddl,
        ["AlterEventTrigStmt"] = Ddl,
        ["RuleStmt"] = Ddl,
        ["CreateExtensionStmt"] = Ddl,
        ["AlterExtensionStmt"] = Ddl,
        ["AlterExtensionContentsStmt"] = Ddl,
        ["DefineStmt"] = Ddl,
        ["AlterOperatorStmt"] = Ddl,
        ["CreateOpClassStmt"] = Ddl,
        ["CreateOpFamilyStmt"] = Ddl,
        ["AlterOpFamilyStmt"] = Ddl,
        ["AlterTSConfigurationStmt"] = Ddl,
        ["AlterTSDictionaryStmt"] = Ddl,
        ["CreateCastStmt"] = Ddl,
        ["CreateDomainStmt"] = Ddl,
        ["AlterDomainStmt"] = Ddl,
        ["AlterTypeStmt"] = Ddl,
        ["AlterEnumStmt"] = Ddl,
        ["CreateEnumStmt"] = Ddl,
        ["CreateRangeStmt"] = Ddl,
        ["CompositeTypeStmt"] = Ddl,
        ["CreateFdwStmt"] = Ddl,
        ["AlterFdwStmt"] = Ddl,
        ["CreateForeignServerStmt"] = Ddl,
        ["AlterForeignServerStmt"] = Ddl,
        ["CreateForeignTableStmt"] = Ddl,
        ["ImportForeignSchemaStmt"] = Ddl,
        ["CreateUserMappingStmt"] = Set(StatementKind.Ddl, StatementKind.Dcl),
        ["AlterUserMappingStmt"] = Set(StatementKind.Ddl, StatementKind.Dcl),
        ["DropUserMappingStmt"] = Set(StatementKind.Ddl, StatementKind.Dcl),
        ["CreateSchemaStmt"] = Ddl,
        ["CreateSeqStmt"] = Ddl,
        ["AlterSeqStmt"] = Ddl,
        ["CreatePolicyStmt"] = Ddl,
        ["AlterPolicyStmt"] = Ddl,
        ["CreateAmStmt"] = Ddl,
        ["CreatePLangStmt"] = Ddl,
        ["CreateConversionStmt"] = Ddl,
        ["CreateTransformStmt"] = Ddl,
        ["CreateStatsStmt"] = Ddl,
        ["AlterStatsStmt"] = Ddl,
        ["CreatePublicationStmt"] = Ddl,
        ["AlterPublicationStmt"] = Ddl,
        ["CreateSubscriptionStmt"] = Ddl,
        ["AlterSubscriptionStmt"] = Ddl,
        ["DropSubscriptionStmt"] = Ddl,
        ["AlterObjectSchemaStmt"] = Ddl,
        ["AlterObjectDependsStmt"] = Ddl,
        ["AlterOwnerStmt"] = Set(StatementKind.Ddl, StatementKind.Dcl),
        ["AlterCollationStmt"] = Ddl,
        ["CreateTableSpaceStmt"] = Ddl,
        ["DropTableSpaceStmt"] = Ddl,
        ["AlterTableSpaceOptionsStmt"] = Ddl,
        ["AlterTableMoveAllStmt"] = Ddl,
        ["AlterDatabaseStmt"] = Ddl,
        ["AlterDatabaseSetStmt"] = Ddl,
        ["AlterDatabaseRefreshCollStmt"] = Ddl,
        ["GrantStmt"] = Dcl,
        ["GrantRoleStmt"] = Dcl,
        ["AlterDefaultPrivilegesStmt"] = Dcl,
        ["CreateRoleStmt"] = Dcl,
        ["AlterRoleStmt"] = Dcl,
        ["AlterRoleSetStmt"] = Dcl,
        ["DropRoleStmt"] = Dcl,
        ["DropOwnedStmt"] = Set(StatementKind.Ddl, StatementKind.Dcl),
        ["ReassignOwnedStmt"] = Set(StatementKind.Ddl, StatementKind.Dcl),
        ["VacuumStmt"] = Admin,
        ["CheckPointStmt"] = Admin,
        ["ReindexStmt"] = Admin,
        ["ClusterStmt"] = Admin,
        ["AlterSystemStmt"] = Admin,
        ["LockStmt"] = Admin,
        // LOAD 'library' is not in StatementKind's lists; it acts on the session but loads server code.
        ["LoadStmt"] = Set(StatementKind.Admin, StatementKind.Session),
        // REFRESH MATERIALIZED VIEW rewrites data; the docs do not place it.
        ["RefreshMatViewStmt"] = Set(StatementKind.Admin, StatementKind.Ddl, StatementKind.Write),
        ["TransactionStmt"] = Transaction,
        ["VariableSetStmt"] = Session,
        ["VariableShowStmt"] = Set(StatementKind.Read, StatementKind.Session),
        ["DiscardStmt"] = Session,
        ["ListenStmt"] = Session,
        ["UnlistenStmt"] = Session,
        ["NotifyStmt"] = Session,
        ["DeallocateStmt"] = Session,
        ["ClosePortalStmt"] = Session,
        ["FetchStmt"] = Session,
        ["DeclareCursorStmt"] = Set(StatementKind.Session, StatementKind.Read),
        ["ConstraintsSetStmt"] = Set(StatementKind.Session, StatementKind.Transaction),
        ["ExecuteStmt"] = None,
        // DO and CALL run code whose effect the text does not show; any answer but a harmless-looking one.
        ["DoStmt"] = Set(StatementKind.Write, StatementKind.Ddl, StatementKind.Dcl, StatementKind.Admin),
        ["CallStmt"] = Set(StatementKind.Write, StatementKind.Ddl, StatementKind.Dcl, StatementKind.Admin),
    }.ToFrozenDictionary();

    private static readonly FrozenSet<string> DmlNodes = new[] { "InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt" }.ToFrozenSet();

    private static readonly FrozenSet<string> SideEffectFunctions = new[]
    {
        "pg_terminate_backend", "pg_cancel_backend", "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "lo_import",
        "lo_export", "dblink", "dblink_exec", "pg_reload_conf", "query_to_xml",
    }.ToFrozenSet();

    /// <summary>The expectation for one RawStmt.stmt node (<c>{"SelectStmt": {...}}</c>).</summary>
    public static PgExpectation For(JsonElement stmt)
    {
        var (node, body) = Unwrap(stmt);
        var (kinds, risks, mapped) = Classify(node, body);
        // Function calls anywhere in the text are proven by the tree whether or not they run now.
        risks |= ScanTree(body);
        return new PgExpectation(node, kinds, risks, mapped);
    }

    /// <summary>Parses <paramref name="sql"/> (one statement) and maps it; throws when the parser rejects it.</summary>
    public static PgExpectation ForSql(string sql)
    {
        using var parsed = PgParser.Parse(sql);
        if (!parsed.Ok)
            throw new ArgumentException($"parser rejected: {parsed.Error}", nameof(sql));
        return For(parsed.Statements.Single());
    }

    private static (FrozenSet<StatementKind> Kinds, StatementRisk Risks, bool Mapped) Classify(string node, JsonElement body)
    {
        switch (node)
        {
            case "SelectStmt":
                // SELECT ... INTO creates a table; a data-modifying CTE makes the statement a write.
                if (body.TryGetProperty("intoClause", out _))
                    return (Set(StatementKind.Ddl, StatementKind.Write), StatementRisk.None, true);
                return (HasDataModifyingCte(body) ? Write : Read, StatementRisk.None, true);
            case "DeleteStmt":
                return (Write, Unbounded(body, StatementRisk.UnboundedDelete), true);
            case "UpdateStmt":
                return (Write, Unbounded(body, StatementRisk.UnboundedUpdate), true);
            case "DropStmt":
                var removeType = Str(body, "removeType");
                return (Ddl, removeType is "OBJECT_SCHEMA" or "OBJECT_DATABASE" ? StatementRisk.DropDatabase : StatementRisk.Drop, true);
            case "DropdbStmt":
                return (Ddl, StatementRisk.DropDatabase, true);
            case "TruncateStmt":
                return (Ddl, StatementRisk.Truncate, true);
            case "GrantStmt" or "GrantRoleStmt" or "AlterDefaultPrivilegesStmt":
                return (Dcl, StatementRisk.GrantRevoke, true);
            case "AlterSystemStmt":
                return (Admin, StatementRisk.AlterSystem, true);
            case "CreateFunctionStmt":
                return (Ddl, StatementRisk.RoutineBody, true);
            case "DoStmt" or "CallStmt":
                return (Simple[node], StatementRisk.DynamicSql, true);
            case "ExecuteStmt":
                return (None, StatementRisk.DynamicSql, true);
            case "AlterTableStmt":
                return (Ddl, AlterDrops(body), true);
            case "VariableSetStmt":
                // RESET ROLE returns to the gateway's own login role: no one else's identity.
                return (Session, Str(body, "name") is "role" or "session_authorization" && Str(body, "kind") != "VAR_RESET"
                    ? StatementRisk.RoleChange : StatementRisk.None, true);
            case "RenameStmt":
                // ALTER ROLE ... RENAME is DCL, every other rename DDL.
                return (Str(body, "renameType") == "OBJECT_ROLE" ? Dcl : Ddl, StatementRisk.None, true);
            case "CopyStmt":
                return Copy(body);
            case "ExplainStmt":
                return Explain(body);
            case "PrepareStmt":
                // Kind and risks are the inner statement's, plus DynamicSql (ClassifiedStatement's contract).
                var (innerNode, innerBody) = Unwrap(body.GetProperty("query"));
                var inner = Classify(innerNode, innerBody);
                return (inner.Kinds, inner.Risks | StatementRisk.DynamicSql, inner.Mapped);
            case "CreateTableAsStmt":
                // CREATE TABLE ... AS EXECUTE runs a prepared statement.
                return (Ddl, Unwrap(body.GetProperty("query")).Node == "ExecuteStmt" ? StatementRisk.DynamicSql : StatementRisk.None, true);
        }
        if (Simple.TryGetValue(node, out var kinds))
            return (kinds, StatementRisk.None, true);
        // Fallback for node types not listed: the parser's naming is regular for DDL.
        if (node.StartsWith("Create", StringComparison.Ordinal) || node.StartsWith("Alter", StringComparison.Ordinal)
            || node.StartsWith("Drop", StringComparison.Ordinal) || node.StartsWith("Define", StringComparison.Ordinal))
            return (Ddl, StatementRisk.None, true);
        return (None, StatementRisk.None, false);
    }

    private static (FrozenSet<StatementKind>, StatementRisk, bool) Copy(JsonElement body)
    {
        var risks = StatementRisk.None;
        if (Bool(body, "is_program"))
            risks |= StatementRisk.Program;
        else if (body.TryGetProperty("filename", out _))
            risks |= StatementRisk.FileAccess;
        if (body.TryGetProperty("query", out var query))
        {
            // COPY (query) TO: the query runs; COPY (DELETE ... RETURNING) TO STDOUT is a write.
            var (innerNode, innerBody) = Unwrap(query);
            var inner = Classify(innerNode, innerBody);
            return (inner.Kinds, inner.Risks | risks, inner.Mapped);
        }
        return (Bool(body, "is_from") ? Write : Read, risks, true);
    }

    private static (FrozenSet<StatementKind>, StatementRisk, bool) Explain(JsonElement body)
    {
        var (innerNode, innerBody) = Unwrap(body.GetProperty("query"));
        if (!ExplainAnalyzes(body))
            return (Read, StatementRisk.None, true);
        // EXPLAIN ANALYZE executes the statement: its kind and risks are proven too.
        var inner = Classify(innerNode, innerBody);
        var kinds = inner.Mapped ? inner.Kinds.Append(StatementKind.Read).ToFrozenSet() : Read;
        var risks = inner.Risks | (DmlNodes.Contains(innerNode) ? StatementRisk.ExplainAnalyzeDml : StatementRisk.None);
        return (kinds, risks, inner.Mapped);
    }

    private static bool ExplainAnalyzes(JsonElement body)
    {
        if (!body.TryGetProperty("options", out var options))
            return false;
        // ExplainQuery lets the last ANALYZE option win.
        var analyze = false;
        foreach (var option in options.EnumerateArray())
        {
            if (option.TryGetProperty("DefElem", out var def) && Str(def, "defname") == "analyze")
                analyze = BooleanOption(def);
        }
        return analyze;
    }

    private static bool BooleanOption(JsonElement def)
    {
        if (!def.TryGetProperty("arg", out var arg))
            return true;
        // defGetBoolean: a number is true unless 0 (the JSON omits a zero ival); words follow parse_bool. A word it
        // does not know is an error at execution, so counting it as true only makes the expectation stricter.
        if (arg.TryGetProperty("Integer", out var integer))
            return integer.TryGetProperty("ival", out var ival) && ival.GetInt32() != 0;
        var word = arg.TryGetProperty("String", out var s) ? Str(s, "sval")?.ToLowerInvariant() : null;
        return word is not ("f" or "fa" or "fal" or "fals" or "false" or "n" or "no" or "off" or "of" or "0");
    }

    private static StatementRisk Unbounded(JsonElement body, StatementRisk flag) =>
        // WHERE CURRENT OF touches the cursor's one row: bounded.
        !body.TryGetProperty("whereClause", out _) ? flag : StatementRisk.None;

    private static StatementRisk AlterDrops(JsonElement body)
    {
        if (!body.TryGetProperty("cmds", out var cmds))
            return StatementRisk.None;
        foreach (var cmd in cmds.EnumerateArray())
        {
            if (cmd.TryGetProperty("AlterTableCmd", out var c) && Str(c, "subtype") is "AT_DropColumn" or "AT_DropConstraint")
                return StatementRisk.AlterDrop;
        }
        return StatementRisk.None;
    }

    private static bool HasDataModifyingCte(JsonElement body) => (ScanTree(body) & StatementRisk.DataModifyingCte) != 0;

    /// <summary>Risks provable anywhere in the tree: side-effect function calls and data-modifying CTEs.</summary>
    private static StatementRisk ScanTree(JsonElement element)
    {
        var risks = StatementRisk.None;
        var stack = new Stack<JsonElement>();
        stack.Push(element);
        while (stack.Count > 0)
        {
            var e = stack.Pop();
            if (e.ValueKind == JsonValueKind.Array)
            {
                foreach (var item in e.EnumerateArray())
                    stack.Push(item);
                continue;
            }
            if (e.ValueKind != JsonValueKind.Object)
                continue;
            foreach (var property in e.EnumerateObject())
            {
                if (property.Name == "FuncCall")
                    risks |= FunctionRisk(property.Value);
                else if (property.Name == "CommonTableExpr" && property.Value.TryGetProperty("ctequery", out var query))
                {
                    var (node, body) = Unwrap(query);
                    if (DmlNodes.Contains(node))
                    {
                        // The CTE's statement runs: its own unbounded DELETE/UPDATE is as real as a top-level one.
                        risks |= StatementRisk.DataModifyingCte | Classify(node, body).Risks;
                    }
                }
                stack.Push(property.Value);
            }
        }
        return risks;
    }

    private static StatementRisk FunctionRisk(JsonElement call)
    {
        if (!call.TryGetProperty("funcname", out var names) || names.GetArrayLength() == 0)
            return StatementRisk.None;
        var last = Str(names[names.GetArrayLength() - 1].GetProperty("String"), "sval");
        // set_config('role', ...) is SET ROLE by another name (GUC names are case-insensitive); any other
        // literal setting (pg_dump's search_path) is harmless, and a computed one could be role.
        if (last == "set_config")
        {
            var literal = call.TryGetProperty("args", out var args) && args.GetArrayLength() > 0
                && args[0].TryGetProperty("A_Const", out var constant) && constant.TryGetProperty("sval", out var sval)
                ? Str(sval, "sval")?.ToLowerInvariant() : null;
            return literal is null or "role" or "session_authorization" ? StatementRisk.RoleChange : StatementRisk.None;
        }

        return last is not null && SideEffectFunctions.Contains(last) ? StatementRisk.SideEffectFunction : StatementRisk.None;
    }

    private static (string Node, JsonElement Body) Unwrap(JsonElement node)
    {
        foreach (var property in node.EnumerateObject())
            return (property.Name, property.Value);
        throw new InvalidOperationException("empty node");
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool Bool(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;

    private static FrozenSet<StatementKind> Set(params StatementKind[] kinds) => kinds.ToFrozenSet();
}
