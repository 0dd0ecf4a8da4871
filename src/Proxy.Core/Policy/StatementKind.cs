namespace Gatehouse.Proxy.Core.Policy;

/// <summary>What a statement does, as far as the gateway could read it (DESIGN §4).</summary>
public enum StatementKind : byte
{
    /// <summary>The classifier could not read the statement fully; never allowed by default.</summary>
    Unknown = 0,
    /// <summary>SELECT, VALUES, TABLE, SHOW, EXPLAIN without ANALYZE of DML, COPY ... TO STDOUT.</summary>
    Read,
    /// <summary>INSERT, UPDATE, DELETE, MERGE, COPY ... FROM STDIN, REPLACE, LOAD DATA.</summary>
    Write,
    /// <summary>CREATE, ALTER, DROP, TRUNCATE, COMMENT, RENAME.</summary>
    Ddl,
    /// <summary>GRANT, REVOKE, CREATE/ALTER/DROP ROLE or USER.</summary>
    Dcl,
    /// <summary>VACUUM, ANALYZE, CHECKPOINT, REINDEX, CLUSTER, ALTER SYSTEM, KILL, FLUSH, OPTIMIZE, LOCK.</summary>
    Admin,
    /// <summary>BEGIN, START TRANSACTION, COMMIT, ROLLBACK, SAVEPOINT, RELEASE, PREPARE TRANSACTION.</summary>
    Transaction,
    /// <summary>SET, RESET, SHOW of a setting, USE, DISCARD, LISTEN, NOTIFY, DEALLOCATE, CLOSE, FETCH, DECLARE.</summary>
    Session,
}
