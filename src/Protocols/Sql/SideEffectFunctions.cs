using System.Collections.Frozen;

namespace Gatehouse.Protocols.Sql;

/// <summary>
/// Functions whose call reaches outside the statement's own result: other sessions, the server's files and
/// configuration, other servers, or SQL text run at call time. Matched on the last part of the name, so a
/// schema prefix (pg_catalog.pg_terminate_backend) does not hide one.
/// </summary>
internal static class SideEffectFunctions
{
    public static readonly FrozenSet<string> Postgres = FrozenSet.Create(StringComparer.Ordinal,
        // other sessions and the server process
        "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf", "pg_rotate_logfile", "pg_promote",
        "pg_switch_wal", "pg_create_restore_point", "pg_backup_start", "pg_backup_stop", "pg_start_backup", "pg_stop_backup",
        "pg_log_backend_memory_contexts", "pg_wal_replay_pause", "pg_wal_replay_resume",
        "pg_create_physical_replication_slot", "pg_create_logical_replication_slot", "pg_drop_replication_slot",
        "pg_copy_physical_replication_slot", "pg_copy_logical_replication_slot", "pg_replication_slot_advance",
        "pg_logical_emit_message", "pg_replication_origin_create", "pg_replication_origin_drop",
        // the server's files
        "pg_read_file", "pg_read_binary_file", "pg_ls_dir", "pg_stat_file", "pg_ls_logdir", "pg_ls_waldir",
        "pg_ls_tmpdir", "pg_ls_archive_statusdir", "pg_file_write", "pg_file_rename", "pg_file_unlink", "pg_file_sync",
        "pg_logdir_ls", "lo_import", "lo_export",
        // other servers
        "dblink", "dblink_exec", "dblink_connect", "dblink_connect_u", "dblink_send_query", "dblink_open",
        "dblink_fetch", "dblink_get_result",
        // SQL text run at call time (set_config is judged by its first argument: see the scanner)
        "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "cursor_to_xml", "table_to_xml",
        "database_to_xml", "schema_to_xml");

    public static readonly FrozenSet<string> MySql = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        // the server's files, and the well-known UDFs that run shell commands
        "load_file", "sys_exec", "sys_eval", "sys_set", "sys_get", "lib_mysqludf_sys_info");
}
