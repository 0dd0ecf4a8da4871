namespace Gatehouse.Proxy.Core.Policy;

/// <summary>The names kinds, risks and decisions have in the config file, in logs and in metric labels.</summary>
public static class PolicyNames
{
    public static readonly IReadOnlyDictionary<string, StatementKind> Kinds = new Dictionary<string, StatementKind>(StringComparer.OrdinalIgnoreCase)
    {
        ["unknown"] = StatementKind.Unknown, ["read"] = StatementKind.Read, ["write"] = StatementKind.Write,
        ["ddl"] = StatementKind.Ddl, ["dcl"] = StatementKind.Dcl, ["admin"] = StatementKind.Admin,
        ["transaction"] = StatementKind.Transaction, ["session"] = StatementKind.Session,
    };

    public static readonly IReadOnlyDictionary<string, StatementRisk> Risks = new Dictionary<string, StatementRisk>(StringComparer.OrdinalIgnoreCase)
    {
        ["drop_database"] = StatementRisk.DropDatabase, ["drop"] = StatementRisk.Drop, ["truncate"] = StatementRisk.Truncate,
        ["unbounded_delete"] = StatementRisk.UnboundedDelete, ["unbounded_update"] = StatementRisk.UnboundedUpdate,
        ["alter_drop"] = StatementRisk.AlterDrop, ["grant_revoke"] = StatementRisk.GrantRevoke,
        ["file_access"] = StatementRisk.FileAccess, ["program"] = StatementRisk.Program, ["load_data"] = StatementRisk.LoadData,
        ["data_modifying_cte"] = StatementRisk.DataModifyingCte, ["explain_analyze_dml"] = StatementRisk.ExplainAnalyzeDml,
        ["dynamic_sql"] = StatementRisk.DynamicSql, ["routine_body"] = StatementRisk.RoutineBody,
        ["side_effect_function"] = StatementRisk.SideEffectFunction, ["role_change"] = StatementRisk.RoleChange,
        ["alter_system"] = StatementRisk.AlterSystem,
    };

    public static readonly IReadOnlyDictionary<string, PolicyDecision> Decisions = new Dictionary<string, PolicyDecision>(StringComparer.OrdinalIgnoreCase)
    {
        ["allow"] = PolicyDecision.Allow, ["deny"] = PolicyDecision.Deny, ["hold"] = PolicyDecision.Hold,
    };

    private static readonly string[] KindLabels = ["unknown", "read", "write", "ddl", "dcl", "admin", "transaction", "session"];

    public static string Label(StatementKind kind) => KindLabels[(int)kind];

    public static string Label(PolicyDecision decision) => decision switch
    {
        PolicyDecision.Allow => "allow",
        PolicyDecision.Deny => "deny",
        _ => "hold",
    };

    /// <summary>"drop, truncate" — for messages and logs.</summary>
    public static string Describe(StatementRisk risks)
    {
        if (risks == StatementRisk.None)
        {
            return "none";
        }

        var names = new List<string>();
        foreach (var (name, flag) in Risks)
        {
            if ((risks & flag) != 0)
            {
                names.Add(name);
            }
        }

        return string.Join(", ", names);
    }
}
