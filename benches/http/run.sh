#!/usr/bin/env bash
# HTTP load benchmark: `baas serve` against a hand-written axum + sqlx server
# (benches/http/raw-server) running the same SQL on the same PostgreSQL
# database, measured back to back in the same run with wrk.
#
#   bash benches/http/run.sh            # from the repository root
#
# Scenarios (benches/http/bench.lua): GET by id, a filtered ordered page of
# 20, a page of 20 books with their author embedded, a create. For each one,
# each server gets a warm-up then a measured run; the order of the two servers
# alternates between scenarios. Prints a markdown table: requests/s and p99
# latency of both, and the ratio baas/raw.
#
# Settings (environment): PGHOST (127.0.0.1) PGPORT (5432) PGUSER (baas)
# PGPASSWORD (baas_pw) BENCH_DB (bench) BAAS_PORT (18090) RAW_PORT (18091)
# THREADS (2) CONNECTIONS (32) DURATION (15s) WARMUP (3s) POOL (8, connections
# per server) SCENARIOS ("get filter embed create") DB_PARAMS (sslmode=disable).
#
# Caveat: on a small machine wrk, the server under test and PostgreSQL share
# the same cores; the absolute numbers say little, the ratio is what to read.
set -euo pipefail

cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/mini-baas-target}"
export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}"
export PGUSER="${PGUSER:-baas}" PGPASSWORD="${PGPASSWORD:-baas_pw}"
BENCH_DB="${BENCH_DB:-bench}"
BAAS_PORT="${BAAS_PORT:-18090}"
RAW_PORT="${RAW_PORT:-18091}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
DURATION="${DURATION:-15s}"
WARMUP="${WARMUP:-3s}"
POOL="${POOL:-8}"
SCENARIOS="${SCENARIOS:-get filter embed create}"
# TLS off for both servers: on loopback it only adds the same encryption cost
# to both sides and hides the difference being measured.
DB_PARAMS="${DB_PARAMS:-sslmode=disable}"
DB_URL="postgres://${PGUSER}:${PGPASSWORD}@${PGHOST}:${PGPORT}/${BENCH_DB}?${DB_PARAMS}"
HERE=benches/http

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

log() { printf '%s\n' "$*" >&2; }

# --- tools -------------------------------------------------------------------
if ! command -v wrk >/dev/null; then
    log "installing wrk"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get install -y wrk >/dev/null 2>&1 ||
        { $SUDO apt-get update >/dev/null && $SUDO apt-get install -y wrk >/dev/null; }
fi
for t in psql curl cargo; do
    command -v "$t" >/dev/null || { log "error: $t is needed"; exit 1; }
done

# --- database ----------------------------------------------------------------
if ! psql -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'" | grep -q 1; then
    log "creating database $BENCH_DB"
    psql -d postgres -qc "CREATE DATABASE \"$BENCH_DB\"" 2>/dev/null ||
        psql -U postgres -d postgres -qc "CREATE DATABASE \"$BENCH_DB\" OWNER \"$PGUSER\""
fi
log "seeding $BENCH_DB (authors 1k, books 100k)"
psql -d "$BENCH_DB" -v ON_ERROR_STOP=1 -q -f "$HERE/seed.sql" 2>&1 | grep -v NOTICE >&2 || true
[ "$(psql -d "$BENCH_DB" -Atc 'SELECT count(*) FROM book')" = 100000 ] ||
    { log "error: seeding failed"; exit 1; }

# Created rows go away, so every create run starts from the same table.
reset_created() {
    psql -d "$BENCH_DB" -q -c "DELETE FROM book WHERE id > 100000" \
        -c "SELECT setval('book_id_seq', 100000)" -c "VACUUM ANALYZE book" >/dev/null
}

# --- build -------------------------------------------------------------------
log "building (release)"
cargo build --release --quiet -p baas-server -p baas-bench-raw-server
BAAS_BIN="$CARGO_TARGET_DIR/release/baas"
RAW_BIN="$CARGO_TARGET_DIR/release/raw-server"

# --- servers -----------------------------------------------------------------
WORK="$(mktemp -d /tmp/baas-http-bench.XXXXXX)"
BAAS_PID=""
RAW_PID=""
cleanup() {
    for p in $BAAS_PID $RAW_PID; do
        kill "$p" 2>/dev/null || true
    done
    for p in $BAAS_PID $RAW_PID; do
        wait "$p" 2>/dev/null || true
    done
    reset_created 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for port in "$BAAS_PORT" "$RAW_PORT"; do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then
        log "error: port $port is already in use"
        exit 1
    fi
done

RUST_LOG=warn "$BAAS_BIN" serve --db "$DB_URL" --tenant bench \
    --listen "127.0.0.1:$BAAS_PORT" --data-dir "$WORK/baas-data" \
    --max-connections "$POOL" >"$WORK/baas.log" 2>&1 &
BAAS_PID=$!
"$RAW_BIN" --db "$DB_URL" --listen "127.0.0.1:$RAW_PORT" \
    --max-connections "$POOL" >"$WORK/raw.log" 2>&1 &
RAW_PID=$!

wait_ready() { # name port pid
    for _ in $(seq 1 150); do
        if curl -sf -o /dev/null "http://127.0.0.1:$2/bench/book/1"; then return 0; fi
        if ! kill -0 "$3" 2>/dev/null; then
            log "error: $1 exited:"; cat "$WORK/$1.log" >&2; exit 1
        fi
        sleep 0.2
    done
    log "error: $1 did not answer on port $2:"; cat "$WORK/$1.log" >&2; exit 1
}
wait_ready baas "$BAAS_PORT" "$BAAS_PID"
wait_ready raw "$RAW_PORT" "$RAW_PID"

# --- same answers? -------------------------------------------------------------
same() { # description path [curl args…]
    local what=$1 path=$2
    shift 2
    local a b
    a="$(curl -s "$@" "http://127.0.0.1:$BAAS_PORT$path")"
    b="$(curl -s "$@" "http://127.0.0.1:$RAW_PORT$path")"
    if [ "$a" = "$b" ]; then
        log "  same body: $what"
    else
        log "  DIFFERENT body: $what"
        log "    baas: ${a:0:300}"
        log "    raw:  ${b:0:300}"
    fi
}
log "comparing responses"
for id in 1 40 42 50; do same "GET by id $id" "/bench/book/$id"; done
same "filtered page" "/bench/book?author_id=eq.7&order=published.desc,id&limit=20"
same "embedded page" "/bench/book?select=id,title,author(name)&id=gt.990&order=id&limit=20"
body='{"title":"Load test book","author_id":7,"published":"2024-05-01","price":"19.99","pages":321}'
for port in "$BAAS_PORT" "$RAW_PORT"; do
    curl -s -X POST -H 'Content-Type: application/json' -H 'Prefer: return=representation' \
        -d "$body" "http://127.0.0.1:$port/bench/book" | sed 's/"id":[0-9]*/"id":N/' >"$WORK/create.$port"
done
if cmp -s "$WORK/create.$BAAS_PORT" "$WORK/create.$RAW_PORT"; then
    log "  same body: create (but for the id)"
else
    log "  DIFFERENT body: create"
    log "    baas: $(cat "$WORK/create.$BAAS_PORT")"
    log "    raw:  $(cat "$WORK/create.$RAW_PORT")"
fi
reset_created

# --- load ----------------------------------------------------------------------
declare -A RPS P99 BAD CPU
TICK="$(getconf CLK_TCK)"
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # user + system
run_wrk() { # server pid port scenario duration → "rps p99_us bad max_us server_cpu_us_per_request"
    local out before after
    before="$(cpu_ticks "$2")"
    out="$(SCENARIO="$4" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$5" --latency \
        -s "$HERE/bench.lua" "http://127.0.0.1:$3")"
    after="$(cpu_ticks "$2")"
    echo "$out" >>"$WORK/wrk.log"
    echo "$out" | awk -v ticks=$((after - before)) -v hz="$TICK" '/^RESULT/ {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        print v["rps"], v["p99_us"], v["non2xx"] + v["socket_errors"], v["max_us"],
            (v["requests"] > 0 ? int(ticks * 1e6 / hz / v["requests"]) : 0) }'
}

i=0
for s in $SCENARIOS; do
    if [ $((i % 2)) -eq 0 ]; then order="baas raw"; else order="raw baas"; fi
    i=$((i + 1))
    for server in $order; do
        if [ "$server" = baas ]; then port=$BAAS_PORT pid=$BAAS_PID; else port=$RAW_PORT pid=$RAW_PID; fi
        if [ "$s" = create ]; then reset_created; fi
        run_wrk "$server" "$pid" "$port" "$s" "$WARMUP" >/dev/null
        if [ "$s" = create ]; then reset_created; fi
        read -r rps p99 bad max cpu < <(run_wrk "$server" "$pid" "$port" "$s" "$DURATION")
        RPS[$s.$server]=$rps
        P99[$s.$server]=$p99
        BAD[$s.$server]=$bad
        CPU[$s.$server]=$cpu
        log "  $s on $server: $rps req/s, p99 $((p99 / 1000)).$(((p99 % 1000) / 100)) ms, max $((max / 1000)) ms, server CPU $cpu µs/request, errors $bad"
    done
done

# --- report --------------------------------------------------------------------
name() {
    case $1 in
    get) echo "GET by id" ;;
    filter) echo "filtered, ordered page of 20" ;;
    embed) echo "page of 20 with author embedded" ;;
    create) echo "create (POST, return=representation)" ;;
    *) echo "$1" ;;
    esac
}
ms() { awk -v u="$1" 'BEGIN { printf "%.2f ms", u / 1000 }'; }

echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), load before $LOAD_BEFORE"
echo "$(psql -d "$BENCH_DB" -Atc 'SHOW server_version' | cut -d' ' -f1 | sed 's/^/PostgreSQL /'), wrk -t$THREADS -c$CONNECTIONS -d$DURATION (warm-up $WARMUP), pool $POOL per server"
echo
echo "| scenario | baas req/s | raw req/s | ratio | baas p99 | raw p99 |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for s in $SCENARIOS; do
    ratio="$(awk -v a="${RPS[$s.baas]}" -v b="${RPS[$s.raw]}" 'BEGIN { printf "%.2f×", (b > 0 ? a / b : 0) }')"
    printf '| %s | %.0f | %.0f | %s | %s | %s |\n' "$(name "$s")" "${RPS[$s.baas]}" "${RPS[$s.raw]}" \
        "$ratio" "$(ms "${P99[$s.baas]}")" "$(ms "${P99[$s.raw]}")"
done
echo
echo "Server process CPU (user + system) per request, same runs:"
echo
echo "| scenario | baas µs/request | raw µs/request |"
echo "| --- | ---: | ---: |"
for s in $SCENARIOS; do
    printf '| %s | %s | %s |\n' "$(name "$s")" "${CPU[$s.baas]}" "${CPU[$s.raw]}"
done
for s in $SCENARIOS; do
    for server in baas raw; do
        if [ "${BAD[$s.$server]}" != 0 ]; then
            echo "WARNING: $s on $server had ${BAD[$s.$server]} non-2xx responses or socket errors (timeouts: over 2 s)"
        fi
    done
done
