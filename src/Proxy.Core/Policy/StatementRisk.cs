namespace Gatehouse.Proxy.Core.Policy;

/// <summary>Risk flags a statement carries; rules match on them (config names in <see cref="StatementRiskNames"/>).</summary>
[Flags]
public enum StatementRisk : uint
{
    None = 0,
    /// <summary>DROP DATABASE / DROP SCHEMA (MySQL: a schema is a database).</summary>
    DropDatabase = 1 << 0,
    /// <summary>DROP of any other object (table, view, index, function, ...).</summary>
    Drop = 1 << 1,
    /// <summary>TRUNCATE.</summary>
    Truncate = 1 << 2,
    /// <summary>DELETE without WHERE (WHERE CURRENT OF, one cursor row, is bounded).</summary>
    UnboundedDelete = 1 << 3,
    /// <summary>UPDATE without WHERE.</summary>
    UnboundedUpdate = 1 << 4,
    /// <summary>ALTER ... DROP (column, constraint, partition, ...).</summary>
    AlterDrop = 1 << 5,
    /// <summary>GRANT or REVOKE.</summary>
    GrantRevoke = 1 << 6,
    /// <summary>Server-side file access: COPY ... TO/FROM a file, SELECT ... INTO OUTFILE/DUMPFILE, LOAD DATA (not LOCAL).</summary>
    FileAccess = 1 << 7,
    /// <summary>COPY ... PROGRAM: runs a shell command on the database host.</summary>
    Program = 1 << 8,
    /// <summary>LOAD DATA LOCAL INFILE.</summary>
    LoadData = 1 << 9,
    /// <summary>A WITH clause containing INSERT/UPDATE/DELETE/MERGE.</summary>
    DataModifyingCte = 1 << 10,
    /// <summary>EXPLAIN ANALYZE of DML (it executes the statement).</summary>
    ExplainAnalyzeDml = 1 << 11,
    /// <summary>DO, CALL, EXECUTE, PREPARE ... AS / FROM: code whose effect is decided elsewhere.</summary>
    DynamicSql = 1 << 12,
    /// <summary>CREATE FUNCTION / PROCEDURE / TRIGGER / EVENT with a body.</summary>
    RoutineBody = 1 << 13,
    /// <summary>A call of a function with side effects outside the query (pg_terminate_backend, pg_read_file, lo_export, dblink, sys_exec, ...).</summary>
    SideEffectFunction = 1 << 14,
    /// <summary>SET ROLE, SET SESSION AUTHORIZATION (MySQL: SET ROLE, SET DEFAULT ROLE).</summary>
    RoleChange = 1 << 15,
    /// <summary>ALTER SYSTEM (MySQL: SET GLOBAL / PERSIST).</summary>
    AlterSystem = 1 << 16,
}
