#!/usr/bin/env bash
# Installs what Gatehouse's demo and tests need on a fresh Debian machine: PostgreSQL 15 server binaries
# (initdb, postgres, pgbench) and psql; MariaDB 10.11 server and client (mariadbd, mariadb-install-db, mariadb,
# mariadb-admin), sysbench, curl, and libpg_query (PostgreSQL's parser as a library, for the SQL classifier's differential
# test). Idempotent; does nothing when they are present.
set -euo pipefail

need=()
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
command -v psql >/dev/null 2>&1 || need+=(postgresql-client-15)
command -v pgbench >/dev/null 2>&1 || need+=(postgresql-15)
[ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
command -v mariadb >/dev/null 2>&1 || need+=(mariadb-client)
command -v sysbench >/dev/null 2>&1 || need+=(sysbench)
command -v curl >/dev/null 2>&1 || need+=(curl) # the end-to-end benchmarks read the gateway's /metrics
# PostgreSQL's parser as a library: the oracle the SQL classifier's differential test is held to.
[ -f /usr/lib/x86_64-linux-gnu/libpg_query.so ] || need+=(libpg-query-dev)

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "Installing ${need[*]} ..."
  $sudo apt-get update -qq
  # The packages' own servers (the postgresql cluster, the mariadb service) are not used: tests and the demo start
  # throwaway servers in temp dirs.
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

command -v dotnet >/dev/null 2>&1 || { echo "The .NET 10 SDK (dotnet) is required." >&2; exit 1; }
