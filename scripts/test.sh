#!/usr/bin/env bash
# Command 2: the whole test suite (unit, property, fuzz smoke, end-to-end against a real PostgreSQL),
# then the benchmarks' smoke runs. Closes with one line "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/prerequisites.sh || exit 1

passed=0
failed=0
results=$(mktemp -d)

if ! dotnet build Gatehouse.slnx -c Release --nologo -v quiet; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

dotnet test tests/Gatehouse.Tests -c Release --no-build --nologo \
  --logger "trx;LogFileName=tests.trx" --results-directory "$results" --logger "console;verbosity=minimal"
trx="$results/tests.trx"
if [ -f "$trx" ]; then
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  passed=$((passed + $(sed -E 's/.* passed="([0-9]+)".*/\1/' <<<"$counters")))
  failed=$((failed + $(sed -E 's/.* failed="([0-9]+)".*/\1/' <<<"$counters")))
else
  echo "the test run produced no results"
  failed=$((failed + 1))
fi

# Benchmarks must keep running: a dry BenchmarkDotNet job and a short end-to-end run, each counted as one check.
if dotnet run -c Release --no-build --project bench/Gatehouse.Bench -- --filter '*' --job dry >"$results/bench.log" 2>&1; then
  passed=$((passed + 1))
else
  tail -n 40 "$results/bench.log"
  failed=$((failed + 1))
fi

for e2e in bench/e2e-postgres.sh bench/e2e-mysql.sh; do
  log="$results/$(basename "$e2e" .sh).log"
  if QUICK=1 "$e2e" >"$log" 2>&1; then
    tail -n 25 "$log"
    passed=$((passed + 1))
  else
    tail -n 40 "$log"
    failed=$((failed + 1))
  fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
