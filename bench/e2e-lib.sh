# shellcheck shell=bash
# Helpers shared by bench/e2e-postgres.sh and bench/e2e-mysql.sh; sourced, not run.
#
# The caller sets REPO (the repository root) and STRICT, sources this file, then calls e2e_init, which creates
# WORK (build output and temporary files) and LOGS under it and installs the EXIT/INT/TERM traps; e2e_build_host
# and e2e_start_demo bring up `gatehouse demo` (PostgreSQL and, when installed, MariaDB behind the gateway) and
# parse its banner; the cleanup trap stops the demo and whatever it left behind.
#
# Shared environment knobs:
#   STRICT=1      also exit 1 when a target is missed
#   KEEP_WORK=1   keep the build output too (logs are always kept; their directory is printed at the end)
#   HOST_DIR=DIR  use an existing Release build of src/Host (DIR/gatehouse) instead of building one; it is not
#                 checked against the sources, so a stale DIR measures old code

WORK=""
LOGS=""
DEMO_LOG=""
DEMO_PID=""
CONFIG=""
CONFIG_DIR=""
MARIA_ROOT=""
GW_PID=""
GATEHOUSE=""
FAILURES=0
MISSED=0

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# e2e_init PREFIX: WORK=/tmp/PREFIX.XXXXXX with LOGS=WORK/logs; installs the traps.
e2e_init() {
    WORK=$(mktemp -d "/tmp/$1.XXXXXX")
    LOGS="$WORK/logs"
    mkdir -p "$LOGS"
    DEMO_LOG="$LOGS/demo.log"
    trap e2e_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# e2e_require TOOL...: dies naming the first tool that is not installed.
e2e_require() {
    local tool
    for tool in "$@"; do
        command -v "$tool" >/dev/null || die "$tool is not installed"
    done
}

# shellcheck disable=SC2317 # invoked by the EXIT trap
e2e_cleanup() {
    local status=$?
    set +e
    if [[ -n "$DEMO_PID" ]] && kill -0 "$DEMO_PID" 2>/dev/null; then
        log "stopping gatehouse demo (pid $DEMO_PID)"
        kill -TERM "$DEMO_PID" 2>/dev/null
        for _ in $(seq 1 60); do
            kill -0 "$DEMO_PID" 2>/dev/null || break
            sleep 0.5
        done
        if kill -0 "$DEMO_PID" 2>/dev/null; then
            log "demo did not stop within 30 s; killing it"
            kill -KILL "$DEMO_PID" 2>/dev/null
        fi
        wait "$DEMO_PID" 2>/dev/null
        local demo_status=$?
        if ((demo_status != 0)) || grep -q 'Unhandled exception' "$DEMO_LOG"; then
            log "gatehouse demo exited with status $demo_status while stopping:"
            grep -A 4 'Unhandled exception' "$DEMO_LOG" | cut -c1-200 | sed 's/^/    /' >&2
        fi
    fi
    # The demo deletes its databases on a clean stop. If it was killed or failed while stopping, stop the
    # servers it started (by the pids in their pid files) and delete what it left: the gateway directory
    # holds the upstream passwords and the signing key.
    if [[ "$CONFIG_DIR" == /tmp/gatehouse-pg-*-gateway ]]; then
        local root=${CONFIG_DIR%-gateway}
        if [[ -f "$root/data/postmaster.pid" ]]; then
            local pg_pid
            pg_pid=$(head -n 1 "$root/data/postmaster.pid")
            if [[ "$pg_pid" =~ ^[0-9]+$ ]] && grep -q -- "$root/data" "/proc/$pg_pid/cmdline" 2>/dev/null; then
                log "demo left PostgreSQL (pid $pg_pid) running; stopping it"
                kill -INT "$pg_pid" 2>/dev/null
                for _ in $(seq 1 40); do kill -0 "$pg_pid" 2>/dev/null || break; sleep 0.5; done
            fi
        fi
        if [[ -d "$CONFIG_DIR" || -d "$root" ]]; then
            log "demo left $CONFIG_DIR behind; deleting it"
            rm -rf -- "$CONFIG_DIR" "$root"
        fi
    fi
    if [[ "$MARIA_ROOT" == /tmp/gatehouse-maria-* ]]; then
        if [[ -f "$MARIA_ROOT/mariadbd.pid" ]]; then
            local maria_pid
            maria_pid=$(head -n 1 "$MARIA_ROOT/mariadbd.pid")
            if [[ "$maria_pid" =~ ^[0-9]+$ ]] && grep -q -- "$MARIA_ROOT/data" "/proc/$maria_pid/cmdline" 2>/dev/null; then
                log "demo left MariaDB (pid $maria_pid) running; stopping it"
                kill -TERM "$maria_pid" 2>/dev/null
                for _ in $(seq 1 60); do kill -0 "$maria_pid" 2>/dev/null || break; sleep 0.5; done
            fi
        fi
        if [[ -d "$MARIA_ROOT" ]]; then
            log "demo left $MARIA_ROOT behind; deleting it"
            rm -rf -- "$MARIA_ROOT"
        fi
    fi
    if [[ -n "$WORK" && "${KEEP_WORK:-0}" != 1 ]]; then
        rm -rf -- "$WORK/host" "$WORK/bench"
    fi
    [[ -z "$LOGS" ]] || log "logs: $LOGS"
    exit "$status"
}

# e2e_build_project PROJECT OUT: dotnet build PROJECT (Release) into OUT, log in LOGS; dies on failure.
e2e_build_project() {
    local project=$1 out=$2 name
    name=$(basename "$project")
    if ! dotnet build "$REPO/$project" -c Release -o "$out" >"$LOGS/build-$name.log" 2>&1; then
        tail -n 30 "$LOGS/build-$name.log" >&2
        die "building $project failed"
    fi
}

# e2e_build_host: sets GATEHOUSE, building src/Host into WORK/host unless HOST_DIR names a build to reuse.
e2e_build_host() {
    if [[ -n "${HOST_DIR:-}" ]]; then
        [[ -x "$HOST_DIR/gatehouse" ]] || die "HOST_DIR=$HOST_DIR has no gatehouse executable"
        log "using the existing build in $HOST_DIR (HOST_DIR)"
        GATEHOUSE="$HOST_DIR/gatehouse"
        return
    fi
    log "building src/Host (Release) into $WORK/host"
    e2e_build_project src/Host "$WORK/host"
    GATEHOUSE="$WORK/host/gatehouse"
}

# e2e_start_demo [EXTRA_ARGS...]: starts `gatehouse demo` on free ports in the background and waits for its
# banner; sets DEMO_PID, CONFIG, CONFIG_DIR, GW_PID, and MARIA_ROOT when the demo runs a MariaDB too.
# shellcheck disable=SC2120 # the arguments are optional
# RECORDING=0 runs the demo without session recording (to measure what recording costs); it records by default.
e2e_start_demo() {
    local recording=()
    [[ "${RECORDING:-1}" == 0 ]] && recording=(--no-recording)
    "$GATEHOUSE" demo --port 0 --http-port 0 --mysql-port 0 --exit-after 3h "${recording[@]}" "$@" >"$DEMO_LOG" 2>&1 </dev/null &
    DEMO_PID=$!
    for _ in $(seq 1 360); do
        grep -q 'Press Ctrl-C to stop' "$DEMO_LOG" && break
        kill -0 "$DEMO_PID" 2>/dev/null || { cat "$DEMO_LOG" >&2; die "gatehouse demo exited before printing its banner"; }
        sleep 0.5
    done
    grep -q 'Press Ctrl-C to stop' "$DEMO_LOG" || { cat "$DEMO_LOG" >&2; die "no banner from gatehouse demo after 180 s"; }

    CONFIG=$(sed -n 's/^ *config: *//p' "$DEMO_LOG" | head -n 1)
    CONFIG_DIR=$(dirname "$CONFIG")
    GW_PID=$(sed -n 's/^ *gateway pid: *\([0-9]*\).*/\1/p' "$DEMO_LOG" | head -n 1)
    METRICS_URL=$(sed -n 's/^ *metrics: *\(http[^ ]*\).*/\1/p' "$DEMO_LOG" | head -n 1)
    [[ -f "$CONFIG" ]] || die "could not parse the config path from the banner"
    [[ "$GW_PID" =~ ^[0-9]+$ && -r "/proc/$GW_PID/stat" ]] || die "could not parse the gateway pid from the banner"
    # MariaDB's directory holds its certificate, which the config names as the demo-mariadb upstream's CA.
    local maria_ca
    maria_ca=$(awk '/^ *- name: / { upstream = ($3 == "demo-mariadb") } upstream && /^ *ca_certificate: / { print $2; exit }' "$CONFIG")
    if [[ "$maria_ca" == /tmp/gatehouse-maria-*/server.crt ]]; then
        MARIA_ROOT=$(dirname "$maria_ca")
    fi
}

# e2e_check_demo: dies when the demo (and so the gateway) is gone, rather than failing every run after it.
e2e_check_demo() {
    kill -0 "$DEMO_PID" 2>/dev/null || die "gatehouse demo (pid $DEMO_PID) exited during the benchmark; see $DEMO_LOG"
}

# Gateway process CPU (utime + stime) in clock ticks. Fields after "(comm) ": state is 1, utime 12, stime 13.
# 0 once the process is gone (the run then fails and e2e_check_demo stops the script).
gateway_ticks() {
    local stat
    stat=$(cat "/proc/$GW_PID/stat" 2>/dev/null) || { echo 0; return; }
    stat=${stat##*) }
    awk '{ print $12 + $13 }' <<<"$stat"
}
# The gateway's running total of seconds spent judging statements (classifying, evaluating the rules, the masked
# sessions' store check), from /metrics; "?" when it cannot be read.
policy_seconds() {
    curl -fsS --max-time 5 "$METRICS_URL" 2>/dev/null \
        | awk '$1 == "gatehouse_policy_time_seconds_total" { print $2; found = 1 } END { if (!found) print "?" }' || echo '?'
}
# policy_share SECONDS_BEFORE SECONDS_AFTER CPU_TICKS: the statement policy's share of the gateway's CPU, in percent.
policy_share() {
    if [[ "$1" == '?' || "$2" == '?' || "$3" == 0 ]]; then echo '?'; return; fi
    awk -v a="$1" -v b="$2" -v t="$3" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) * 100 / (t / hz) }'
}
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$GW_PID/status" 2>/dev/null || echo '?'; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$GW_PID/status" 2>/dev/null || echo '?'; }

num() { if [[ "$1" == ERR ]]; then echo ERR; else printf '%.0f' "$1"; fi; }
median() {
    (($# > 0)) || { echo ERR; return; }
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "ERR"; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
ratio() { if [[ "$1" == ERR || "$2" == ERR ]]; then echo "ERR"; else awk -v d="$1" -v g="$2" 'BEGIN { printf "%.2f", g / d }'; fi; }

# check VALUE OP TARGET: sets VERDICT to PASS or FAIL and counts misses (not in a subshell, so the count sticks).
# shellcheck disable=SC2034 # VERDICT is read by the callers
check() {
    if [[ "$1" != ERR ]] && awk -v v="$1" -v t="$3" -v op="$2" 'BEGIN { exit !((op == ">=") ? (v >= t) : (v <= t)) }'; then
        VERDICT=PASS
    else
        VERDICT=FAIL
        MISSED=$((MISSED + 1))
    fi
}

# Alternate which side goes first per round so warm-up and drift hit both equally.
round_order() { if (($1 % 2 == 1)); then echo "direct gateway"; else echo "gateway direct"; fi; }

# The first line of a summary: commit (marked when the tree has changes) and core count.
e2e_commit_line() {
    local dirty=""
    git -C "$REPO" diff --quiet HEAD 2>/dev/null || dirty=" (uncommitted changes)"
    printf 'commit %s%s, %s cores, recording %s' "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo '?')" "$dirty" "$(nproc)" \
        "$([[ "${RECORDING:-1}" == 0 ]] && echo off || echo on)"
}

# e2e_gateway_log_report: the warn/fail/crit lines and the session end reasons in the demo log, for the summary.
e2e_gateway_log_report() {
    local problems
    problems=$(grep -cE ' (warn|fail|crit|error):|Unhandled exception' "$DEMO_LOG" || true)
    echo "gateway log: $problems warn/fail/crit lines; sessions ended by reason:"
    sed -n 's/.* ended: \([a-z_]*\).*/\1/p' "$DEMO_LOG" | sort | uniq -c | sed 's/^/  /'
    if ((problems > 0)); then
        grep -E ' (warn|fail|crit|error):|Unhandled exception' "$DEMO_LOG" | cut -c1-300 | sed 's/^[0-9TZ:.-]* //' | sort | uniq -c | sort -rn | head -n 10 | sed 's/^/  /'
    fi
}

# e2e_exit: a run that errored or hung is a broken gateway, not a slow one, so it fails even without STRICT.
e2e_exit() {
    if ((FAILURES > 0)); then
        log "$FAILURES runs failed"
        exit 1
    fi
    if [[ "${STRICT:-0}" == 1 ]] && ((MISSED > 0)); then
        exit 1
    fi
    exit 0
}
