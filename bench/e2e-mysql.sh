#!/usr/bin/env bash
# End-to-end benchmark of the MySQL listener: sysbench and streaming, each DIRECT to MariaDB and THROUGH Gatehouse.
#
# Builds the Host (Release), starts `gatehouse demo` (throwaway PostgreSQL and MariaDB 10.11 with the gateway in
# front: TLS on the client side, the token sent with mysql_clear_password; verify-full TLS and mysql_native_password
# upstream), loads sysbench tables directly, then measures:
#   - sysbench oltp_point_select and oltp_read_only (server-side prepared statements, binary rows; PS_MODE=disable
#     sends them as text) with 1 and 8 threads, direct (as gatehouse_native) and through the gateway (as alice,
#     with a token) back to back (order alternates per round), ROUNDS times, median tps; gateway CPU (utime+stime
#     of the gateway process) per 10k transactions, and the statement policy's share of it;
#   - streaming STREAM_ROWS rows of `SELECT seq, md5(seq), now() FROM seq_1_to_N` (MariaDB's SEQUENCE engine)
#     through the mariadb CLI (--batch, text protocol), MB/s of its output;
#   - a masked workload: a STREAM_ROWS-row table with one of three columns masked for the gateway's reader (the
#     demo's contractor role: card_number partial, last 4 kept), read directly and through the gateway.
# Every connection uses TLS, direct ones included (see "TLS for sysbench" below for how, and the summary's caveat
# if that failed and direct sysbench ran in plaintext).
# Prints a summary with targets (oltp_point_select 8 threads >= 0.75x direct, streaming >= 0.95x, masked
# streaming >= 0.85x, the statement policy <= 5% of the gateway's CPU in every sysbench workload).
# Exit status: 1 when setup fails or any run errors or hangs; a missed target alone exits 0 unless STRICT=1.
#
# Environment knobs:
#   DURATION=15       seconds per sysbench run         ROUNDS=2        direct/gateway pairs per case (median)
#   TABLES=4          sysbench --tables                TABLE_SIZE=10000 sysbench --table-size
#   THREADS="1 8"     sysbench --threads values        WORKLOADS="oltp_point_select oltp_read_only"
#   STREAM_ROWS=2000000
#   PS_MODE=auto      sysbench --db-ps-mode: auto prepares each statement once; disable sends every one as text
#   QUICK=1           CI smoke run (about a minute after the build): DURATION=3 ROUNDS=1, 1 table of 1000 rows,
#                     both workloads at 8 threads, 200k streamed rows
#   STRICT=1          also exit 1 when a target is missed
#   KEEP_WORK=1       keep the build output too (logs are always kept; their directory is printed at the end)
#   HOST_DIR=DIR      reuse an existing Release build of src/Host instead of building it (see bench/e2e-lib.sh)
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/e2e-lib.sh
source "$REPO/bench/e2e-lib.sh"

if [[ "${QUICK:-0}" == 1 ]]; then
    DURATION=${DURATION:-3}
    ROUNDS=${ROUNDS:-1}
    TABLES=${TABLES:-1}
    TABLE_SIZE=${TABLE_SIZE:-1000}
    THREADS=${THREADS:-8}
    STREAM_ROWS=${STREAM_ROWS:-200000}
fi
DURATION=${DURATION:-15}
ROUNDS=${ROUNDS:-2}
TABLES=${TABLES:-4}
TABLE_SIZE=${TABLE_SIZE:-10000}
THREADS=${THREADS:-1 8}
WORKLOADS=${WORKLOADS:-oltp_point_select oltp_read_only}
STREAM_ROWS=${STREAM_ROWS:-2000000}
PS_MODE=${PS_MODE:-auto}
STRICT=${STRICT:-0}

# Targets.
TARGET_POINT_SELECT_RATIO=0.75
TARGET_STREAM_RATIO=0.95
TARGET_MASKED_RATIO=0.85
# The statement policy may cost at most 5% (issue 4): its share of the gateway's CPU, measured in the same run.
TARGET_POLICY_PCT=5

e2e_init gatehouse-e2e-mysql

e2e_require dotnet sysbench mariadb openssl getconf awk timeout
CLK_TCK=$(getconf CLK_TCK)
for workload in $WORKLOADS; do
    case "$workload" in oltp_point_select | oltp_read_only) ;; *) die "unknown workload $workload" ;; esac
done
for threads in $THREADS; do
    [[ "$threads" =~ ^[1-9][0-9]*$ ]] || die "bad thread count $threads"
done
[[ "$STREAM_ROWS" =~ ^[1-9][0-9]*$ ]] || die "bad STREAM_ROWS $STREAM_ROWS"

# ---------------------------------------------------------------------------------------------- build
e2e_build_host

# ---------------------------------------------------------------------------------------------- demo
log "starting gatehouse demo"
e2e_start_demo
grep -q 'MariaDB is not installed' "$DEMO_LOG" && die "the demo runs without MariaDB (install mariadb-server: scripts/prerequisites.sh)"

MYSQL_PORT=$(sed -n 's#^ *(mysql upstream: mysql://[^@]*@[^:/]*:\([0-9]*\)/.*#\1#p' "$DEMO_LOG" | head -n 1)
PASSWORD_FILE=$(sed -n 's/^ *(mysql upstream: .*, password in \(.*\)):$/\1/p' "$DEMO_LOG" | head -n 1)
GW_PORT=$(sed -n "s/.*MYSQL_PWD='[^']*' mariadb -h [^ ]* -P \([0-9]*\) .*/\1/p" "$DEMO_LOG" | head -n 1)
[[ "$MYSQL_PORT" =~ ^[0-9]+$ ]] || die "could not parse the MariaDB port from the banner"
[[ -f "$PASSWORD_FILE" ]] || die "could not parse the MariaDB password file from the banner"
[[ "$GW_PORT" =~ ^[0-9]+$ ]] || die "could not parse the gateway's MySQL port from the banner"
[[ -f "$CONFIG_DIR/gateway.crt" && -f "$CONFIG_DIR/gateway.key" ]] || die "no gateway.crt/gateway.key next to $CONFIG"
[[ -f "$MARIA_ROOT/server.crt" ]] || die "could not find MariaDB's certificate (the demo-mariadb upstream's ca_certificate in $CONFIG)"
DIRECT_PASSWORD=$(cat "$PASSWORD_FILE")
GW_TOKEN=$("$GATEHOUSE" token --config "$CONFIG" --sub alice --groups analysts --ttl 2h)
[[ -n "$GW_TOKEN" ]] || die "gatehouse token printed nothing"
# The demo masks card_number and email for contractors (analysts are exempt): the masked streaming workload.
MASKED_TOKEN=$("$GATEHOUSE" token --config "$CONFIG" --sub carol --groups contractors --ttl 2h)
[[ -n "$MASKED_TOKEN" ]] || die "gatehouse token printed nothing"
log "mariadb port $MYSQL_PORT, gateway mysql port $GW_PORT, gateway pid $GW_PID, config $CONFIG"

# ---------------------------------------------------------------------------------------------- TLS for sysbench
# sysbench 1.0's --mysql-ssl=on loads cacert.pem, client-cert.pem and client-key.pem from its working directory
# (there are no options to name them), so it runs in SB_DIR. cacert.pem trusts both servers (the gateway's
# certificate and MariaDB's), though libmariadb 3.3 does not verify the server unless asked to.
# Any certificate a client sends MariaDB fails: the server asks every TLS client for one and, started without
# --ssl-ca (as LocalMariaDb does), checks it against the system CAs only ("tlsv1 alert unknown ca"). So the client
# "certificate" is DSA: TLS 1.3 has no DSA signature scheme, so OpenSSL answers the server's request with an empty
# Certificate message, which MariaDB accepts (it does not require one). The gateway asks for no client certificate.
SB_DIR="$WORK/sysbench"
mkdir -p "$SB_DIR"
cat "$CONFIG_DIR/gateway.crt" "$MARIA_ROOT/server.crt" >"$SB_DIR/cacert.pem"
if ! { openssl dsaparam -out "$SB_DIR/dsaparam.pem" 2048 &&
    openssl req -x509 -newkey "dsa:$SB_DIR/dsaparam.pem" -nodes -keyout "$SB_DIR/client-key.pem" -out "$SB_DIR/client-cert.pem" \
        -days 2 -subj "/CN=gatehouse-e2e sysbench (never sent)"; } >"$LOGS/openssl.log" 2>&1; then
    cat "$LOGS/openssl.log" >&2
    die "could not create the DSA client certificate for sysbench"
fi

# Prints the session's TLS version as "tls=VERSION" (empty without TLS) and the server's version. Through the
# gateway the statement reaches MariaDB, so it shows the gateway's upstream connection.
cat >"$SB_DIR/tls-probe.lua" <<'EOF'
function event()
  local con = sysbench.sql.driver():connect()
  local rs = con:query("SHOW SESSION STATUS LIKE 'Ssl_version'")
  local row = rs:fetch_row()
  print("tls=" .. ((row and row[2]) or ""))
  rs = con:query("SELECT VERSION()")
  row = rs:fetch_row()
  print("version=" .. ((row and row[1]) or "?"))
  con:disconnect()
end
EOF

# as_target TARGET SECONDS COMMAND...: runs a client against "direct", "gateway" or "masked" (the gateway as a
# contractor) with the right password (in
# MYSQL_PWD, which libmariadb reads when no password is given, so it never shows in a process listing), killed
# after SECONDS so a hung session fails the run instead of hanging the script. libmariadb loads the
# mysql_clear_password plugin lazily and sysbench's threads race on that load, so it is preloaded.
as_target() {
    local target=$1 limit=$2
    shift 2
    local password=$GW_TOKEN
    [[ "$target" == direct ]] && password=$DIRECT_PASSWORD
    [[ "$target" == masked ]] && password=$MASKED_TOKEN
    MYSQL_PWD="$password" LIBMYSQL_PLUGINS=mysql_clear_password timeout --foreground -k 5 "$limit" "$@"
}

DIRECT_SSL=on
# sysbench_args TARGET: connection options for sysbench.
sysbench_args() {
    local port=$GW_PORT user=alice ssl=on
    if [[ "$1" == direct ]]; then port=$MYSQL_PORT user=gatehouse_native ssl=$DIRECT_SSL; fi
    printf '%s\n' --db-driver=mysql --mysql-host=127.0.0.1 "--mysql-port=$port" "--mysql-user=$user" --mysql-db=app \
        "--mysql-ssl=$ssl" "--tables=$TABLES" "--table-size=$TABLE_SIZE"
}
# sysbench_in TARGET SECONDS ARGS...: sysbench in SB_DIR against TARGET.
sysbench_in() {
    local target=$1 limit=$2
    shift 2
    local -a conn
    mapfile -t conn < <(sysbench_args "$target")
    (cd "$SB_DIR" && as_target "$target" "$limit" sysbench "$@" "${conn[@]}")
}
tls_probe() { sysbench_in "$1" 60 "$SB_DIR/tls-probe.lua" --threads=1 --events=1 --time=0 run 2>&1; }

# Both endpoints must answer, over TLS, before anything is measured.
if ! probe=$(tls_probe direct) || ! grep -q '^tls=TLS' <<<"$probe"; then
    echo "$probe" >"$LOGS/tls-probe-direct.log"
    log "direct sysbench over TLS failed; running direct sysbench WITHOUT TLS (see the summary):"
    grep -E 'FATAL|tls=' <<<"$probe" | head -n 5 | sed 's/^/    /' >&2
    DIRECT_SSL=off
    probe=$(tls_probe direct) || { echo "$probe" >&2; die "sysbench cannot connect directly"; }
fi
DIRECT_TLS=$(sed -n 's/^tls=//p' <<<"$probe")
SERVER_VERSION=$(sed -n 's/^version=//p' <<<"$probe")
probe=$(tls_probe gateway) || { echo "$probe" >&2; die "sysbench cannot connect through the gateway"; }
UPSTREAM_TLS=$(sed -n 's/^tls=//p' <<<"$probe")
log "sysbench TLS: direct ${DIRECT_TLS:-none}, gateway upstream ${UPSTREAM_TLS:-none}"

# ---------------------------------------------------------------------------------------------- sysbench
log "sysbench prepare: $TABLES tables of $TABLE_SIZE rows (direct)"
if ! sysbench_in direct 900 oltp_read_only prepare >"$LOGS/sysbench-prepare.log" 2>&1; then
    tail -n 20 "$LOGS/sysbench-prepare.log" >&2
    die "sysbench prepare failed"
fi

declare -a SUMMARY_SYSBENCH=()

# sysbench_run TARGET WORKLOAD THREADS LOGFILE -> prints "tps qps transactions cpu_ticks policy_%_of_cpu" or "ERR"
sysbench_run() {
    local target=$1 workload=$2 threads=$3 out=$4
    local before=0 after=0 rc=0 judged_before='?' judged_after='?'
    [[ "$target" == gateway ]] && { judged_before=$(policy_seconds); before=$(gateway_ticks); }
    sysbench_in "$target" "$((DURATION + 120))" "$workload" "--threads=$threads" "--time=$DURATION" "--db-ps-mode=$PS_MODE" run >"$out" 2>&1 || rc=$?
    [[ "$target" == gateway ]] && { after=$(gateway_ticks); judged_after=$(policy_seconds); }
    local tx tps qps ignored
    read -r tx tps < <(sed -n 's/^ *transactions: *\([0-9]*\) *(\([0-9.]*\) per sec\.).*/\1 \2/p' "$out") || true
    qps=$(sed -n 's/^ *queries: *[0-9]* *(\([0-9.]*\) per sec\.).*/\1/p' "$out")
    ignored=$(sed -n 's/^ *ignored errors: *\([0-9]*\).*/\1/p' "$out")
    ((rc != 124 && rc != 137)) || echo "sysbench killed after $((DURATION + 120)) s (hung?)" >>"$out"
    if ((rc != 0)) || [[ -z "$tps" || -z "$tx" || -z "$qps" ]] || ((tx == 0)) || [[ "$ignored" != 0 ]]; then
        echo "ERR"
        return
    fi
    echo "$tps $qps $tx $((after - before)) $(policy_share "$judged_before" "$judged_after" "$((after - before))")"
}

for workload in $WORKLOADS; do
    for threads in $THREADS; do
        direct_tps=() gateway_tps=() direct_qps=() gateway_qps=() gateway_cpu=() policy_pct=() errors=0
        for round in $(seq 1 "$ROUNDS"); do
            for target in $(round_order "$round"); do
                out="$LOGS/sysbench-$workload-t$threads-r$round-$target.log"
                result=$(sysbench_run "$target" "$workload" "$threads" "$out")
                e2e_check_demo
                if [[ "$result" == ERR ]]; then
                    errors=$((errors + 1))
                    log "$workload t=$threads round $round $target: FAILED (see $out)"
                    grep -E 'FATAL|error' "$out" | head -n 5 | sed 's/^/    /' >&2
                    continue
                fi
                read -r tps qps tx ticks share <<<"$result"
                if [[ "$target" == direct ]]; then
                    direct_tps+=("$tps")
                    direct_qps+=("$qps")
                    log "$workload t=$threads round $round direct:  $(num "$tps") tps, $(num "$qps") qps"
                else
                    gateway_tps+=("$tps")
                    gateway_qps+=("$qps")
                    cpu=$(awk -v t="$ticks" -v hz="$CLK_TCK" -v n="$tx" 'BEGIN { printf "%.1f", t * 1000 / hz / n * 10000 }')
                    gateway_cpu+=("$cpu")
                    [[ "$share" == '?' ]] || policy_pct+=("$share")
                    log "$workload t=$threads round $round gateway: $(num "$tps") tps, $(num "$qps") qps, gateway CPU $cpu ms/10k tx, statement policy ${share}% of it"
                fi
            done
        done
        FAILURES=$((FAILURES + errors))
        SUMMARY_SYSBENCH+=("$workload $threads $(median "${direct_tps[@]}") $(median "${gateway_tps[@]}") $(median "${direct_qps[@]}") $(median "${gateway_qps[@]}") $(median "${gateway_cpu[@]}") $(median "${policy_pct[@]}") $errors")
    done
done

# ---------------------------------------------------------------------------------------------- streaming
STREAM_SQL="SELECT seq, md5(seq), now() FROM seq_1_to_$STREAM_ROWS"

# mariadb_cli TARGET SQL: runs SQL with the mariadb CLI against TARGET over TLS, verifying the server's certificate.
# Without --quick the client reads the whole result (mysql_store_result) before printing it, like psql in
# e2e-postgres.sh, so the gateway's forwarding rate is not hidden behind the client's formatting; with --quick
# both sides run at the client's printing speed.
mariadb_cli() {
    local target=$1 sql=$2 port=$GW_PORT user=alice
    [[ "$target" == direct ]] && port=$MYSQL_PORT user=gatehouse_native
    [[ "$target" == masked ]] && user=carol
    as_target "$target" 600 mariadb --no-defaults -h 127.0.0.1 -P "$port" -u "$user" \
        --ssl --ssl-ca="$SB_DIR/cacert.pem" --ssl-verify-server-cert --batch --skip-column-names \
        --max-allowed-packet=64M app -e "$sql"
}

# One masked column of three: read directly it is plain; through the gateway as a contractor, partially masked.
log "loading stream_cards ($STREAM_ROWS rows) directly"
mariadb_cli direct "DROP TABLE IF EXISTS stream_cards; CREATE TABLE stream_cards (id int PRIMARY KEY, card_number varchar(32), note varchar(64)) ENGINE=InnoDB;
    INSERT INTO stream_cards SELECT seq, lpad(seq, 16, '0'), md5(seq) FROM seq_1_to_$STREAM_ROWS" >"$LOGS/stream-cards.log" 2>&1 ||
    die "could not load stream_cards (see $LOGS/stream-cards.log)"
STREAM_SQL_MASKED="SELECT id, card_number, note FROM stream_cards"
first_card() { mariadb_cli "$1" "SELECT card_number FROM stream_cards ORDER BY id LIMIT 1" 2>>"$LOGS/stream-cards.log"; }
[[ "$(first_card masked)" == '************0001' ]] || die "stream_cards: a contractor's card number is not masked through the gateway"
[[ "$(first_card gateway)" == '0000000000000001' ]] || die "stream_cards: an analyst does not see the stored card number"

# stream_run TARGET SQL -> prints "seconds bytes cpu_ticks lines" or "ERR"
stream_run() {
    local target=$1 sql=$2 out="$LOGS/stream-$1.err"
    local before=0 after=0 start end counts lines bytes
    [[ "$target" != direct ]] && before=$(gateway_ticks)
    start=$(date +%s%N)
    if ! counts=$(mariadb_cli "$target" "$sql" 2>>"$out" | wc -lc); then
        echo "ERR"
        return
    fi
    end=$(date +%s%N)
    [[ "$target" != direct ]] && after=$(gateway_ticks)
    read -r lines bytes <<<"$counts"
    echo "$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.3f", (e - s) / 1e9 }') $bytes $((after - before)) $lines"
}

# One untimed pass of 10k rows each way first, so neither side's first measured run pays for warm-up.
for target in direct gateway masked; do
    mariadb_cli "$target" "SELECT seq, md5(seq), now() FROM seq_1_to_10000" 2>>"$LOGS/stream-$target.err" >/dev/null ||
        log "stream warm-up $target failed (see $LOGS/stream-$target.err)"
done
mariadb_cli masked "SELECT id, card_number, note FROM stream_cards LIMIT 10000" 2>>"$LOGS/stream-masked.err" >/dev/null ||
    log "stream warm-up masked failed (see $LOGS/stream-masked.err)"

# stream_workload KIND: ROUNDS direct/gateway pairs; prints "direct_MBs gateway_MBs gateway_cpu errors" (medians).
stream_workload() {
    local kind=$1 sql=$STREAM_SQL via=gateway
    [[ "$kind" == masked ]] && sql=$STREAM_SQL_MASKED via=masked
    local direct_mbs=() gateway_mbs=() gateway_cpu=() errors=0 round target result seconds bytes ticks lines mbs cpu
    for round in $(seq 1 "$ROUNDS"); do
        for target in $(round_order "$round"); do
            [[ "$target" == gateway ]] && target=$via
            result=$(stream_run "$target" "$sql")
            e2e_check_demo
            if [[ "$result" == ERR ]]; then
                errors=$((errors + 1))
                log "$kind round $round $target: FAILED"
                tail -n 5 "$LOGS/stream-$target.err" | sed 's/^/    /' >&2
                continue
            fi
            read -r seconds bytes ticks lines <<<"$result"
            if [[ "$lines" != "$STREAM_ROWS" ]]; then
                errors=$((errors + 1))
                log "$kind round $round $target: $lines rows, expected $STREAM_ROWS"
                continue
            fi
            mbs=$(awk -v b="$bytes" -v s="$seconds" 'BEGIN { printf "%.1f", b / 1e6 / s }')
            if [[ "$target" == direct ]]; then
                direct_mbs+=("$mbs")
                log "$kind round $round direct:  $bytes bytes in $seconds s = $mbs MB/s"
            else
                gateway_mbs+=("$mbs")
                cpu=$(awk -v t="$ticks" -v hz="$CLK_TCK" -v b="$bytes" 'BEGIN { printf "%.2f", t * 1000 / hz / (b / 1e6) }')
                gateway_cpu+=("$cpu")
                log "$kind round $round gateway: $bytes bytes in $seconds s = $mbs MB/s, gateway CPU $cpu ms/MB"
            fi
        done
    done
    echo "$(median "${direct_mbs[@]}") $(median "${gateway_mbs[@]}") $(median "${gateway_cpu[@]}") $errors"
}

SUMMARY_STREAM=$(stream_workload select)
SUMMARY_MASKED=$(stream_workload masked)
FAILURES=$((FAILURES + $(awk '{ print $4 }' <<<"$SUMMARY_STREAM") + $(awk '{ print $4 }' <<<"$SUMMARY_MASKED")))

# ---------------------------------------------------------------------------------------------- summary
{
    echo
    echo "============================= Gatehouse e2e benchmark: MySQL =============================="
    echo "$(e2e_commit_line), DURATION=${DURATION}s ROUNDS=$ROUNDS TABLES=$TABLES TABLE_SIZE=$TABLE_SIZE, medians over rounds"
    echo "direct: MariaDB $SERVER_VERSION as gatehouse_native, sysbench over ${DIRECT_TLS:-NO TLS}, mariadb CLI over TLS"
    echo "gateway: alice with a token, TLS to the gateway, ${UPSTREAM_TLS:-NO TLS} gateway -> MariaDB; sysbench --db-ps-mode=$PS_MODE ($([[ "$PS_MODE" == disable ]] && echo 'text statements, text rows' || echo 'server-side prepared statements, binary rows'))"
    if [[ "$DIRECT_SSL" != on ]]; then
        echo "CAVEAT: direct sysbench ran WITHOUT TLS (--mysql-ssl=off: TLS failed, see $LOGS/tls-probe-direct.log),"
        echo "        so the gateway's sysbench ratios also pay for two TLS legs the direct runs did not"
    fi
    echo
    printf '%-18s %7s %11s %11s %6s %11s %11s %14s %9s   %s\n' workload threads "direct tps" "gateway tps" ratio "direct qps" "gateway qps" "gw CPU ms/10k" "policy %" "target"
    for row in "${SUMMARY_SYSBENCH[@]}"; do
        read -r w t d g dq gq cpu policy errors <<<"$row"
        r=$(ratio "$d" "$g")
        target=""
        if [[ "$w" == oltp_point_select && "$t" == 8 ]]; then
            check "$r" '>=' "$TARGET_POINT_SELECT_RATIO"
            target=">= $TARGET_POINT_SELECT_RATIO x  $VERDICT"
        fi
        check "$policy" '<=' "$TARGET_POLICY_PCT"
        target="${target:+$target; }policy <= $TARGET_POLICY_PCT%  $VERDICT"
        ((errors == 0)) || target="$target ($errors failed runs)"
        printf '%-18s %7s %11s %11s %6s %11s %11s %14s %9s   %s\n' "$w" "$t" "$(num "$d")" "$(num "$g")" "$r" "$(num "$dq")" "$(num "$gq")" "$cpu" "$policy" "$target"
    done
    echo "  policy %: the gateway's time judging statements (gatehouse_policy_time_seconds_total) as a share of its CPU"
    echo "  in the same run, with the demo's rules loaded: the most the policy can cost, since all it adds is CPU."
    echo "  $([[ "$PS_MODE" == disable ]] && echo 'every statement is text (COM_QUERY), judged each time' || echo 'each statement is prepared once, so the policy judges the prepares (PS_MODE=disable: every one)')"
    echo
    printf '%-18s %12s %12s %6s %13s   %s\n' "streaming" "direct MB/s" "gateway MB/s" ratio "gw CPU ms/MB" "target"
    read -r d g cpu errors <<<"$SUMMARY_STREAM"
    r=$(ratio "$d" "$g")
    check "$r" '>=' "$TARGET_STREAM_RATIO"
    target=">= $TARGET_STREAM_RATIO x  $VERDICT"
    ((errors == 0)) || target="$target ($errors failed runs)"
    printf '%-18s %12s %12s %6s %13s   %s\n' "select $((STREAM_ROWS / 1000))k rows" "$d" "$g" "$r" "$cpu" "$target"
    read -r d g cpu errors <<<"$SUMMARY_MASKED"
    r=$(ratio "$d" "$g")
    check "$r" '>=' "$TARGET_MASKED_RATIO"
    target=">= $TARGET_MASKED_RATIO x  $VERDICT"
    ((errors == 0)) || target="$target ($errors failed runs)"
    printf '%-18s %12s %12s %6s %13s   %s\n' "masked $((STREAM_ROWS / 1000))k rows" "$d" "$g" "$r" "$cpu" "$target"
    echo
    echo "gateway process: RSS $(rss_kib) KiB now, peak $(hwm_kib) KiB"
    e2e_gateway_log_report
    echo "failed runs: $FAILURES; targets missed: $MISSED"
    echo "=========================================================================================="
} >"$LOGS/summary.txt"
cat "$LOGS/summary.txt"

e2e_exit
