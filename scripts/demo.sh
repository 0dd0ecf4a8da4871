#!/usr/bin/env bash
# Command 1: a throwaway PostgreSQL behind the gateway, and a psql command to connect through it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prerequisites.sh
dotnet build src/Host -c Release -o .gatehouse/bin --nologo -v quiet
exec .gatehouse/bin/gatehouse demo "$@"
