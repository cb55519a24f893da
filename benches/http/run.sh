#!/usr/bin/env bash
# HTTP load benchmark: `baas serve` against two hand-written baselines on the
# same PostgreSQL database, measured back to back in the same run with wrk:
#   sqlx     benches/http/raw-server: axum + sqlx, the same SQL as baas, rows
#            decoded into structs and serialised with serde_json;
#   pg-json  benches/http/pg-json-server: axum + tokio-postgres, one prepared
#            statement per request whose result is the finished JSON body,
#            built by PostgreSQL (row_to_json / array_to_json, PostgREST's
#            strategy).
#
#   bash benches/http/run.sh            # from the repository root
#   AUTH=1 bash benches/http/run.sh     # also baas with auth (see below)
#
# With AUTH=1 a fourth server runs: `baas` closed by default, every request
# signed in (a user's ES256 access token + the anon key) and a row rule on
# `book` (`author_id=gte.1` for reads, the same check on creates); the plain
# `baas` runs with --open (no rules, no credentials). The report then adds
# the cost of auth: baas+auth against baas, in the same run.
#
# Scenarios (benches/http/bench.lua): GET by id, a filtered ordered page of
# 20, a page of 20 books with their author embedded, a create. For each one,
# each server gets a warm-up then a measured run; the order of the servers
# rotates between scenarios. Before the load, the three must give the same
# status, Content-Type, Content-Range and body bytes to the same requests.
# Prints a markdown table: requests/s, p99 latency and CPU per request of each
# server process (utime + stime from /proc/<pid>/stat around the measured run,
# over the requests completed), the ratios baas/sqlx and baas/pg-json; then
# the CPU per request of the PostgreSQL backends serving the bench database.
#
# Settings (environment): PGHOST (127.0.0.1) PGPORT (5432) PGUSER (baas)
# PGPASSWORD (baas_pw) BENCH_DB (bench) BAAS_PORT (18090) RAW_PORT (18091,
# the sqlx server) PGJSON_PORT (18092) THREADS (2) CONNECTIONS (32) DURATION
# (15s) WARMUP (3s) POOL (10, connections per server) SCENARIOS ("get filter
# embed create") DB_PARAMS (sslmode=disable).
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
PGJSON_PORT="${PGJSON_PORT:-18092}"
THREADS="${THREADS:-2}"
CONNECTIONS="${CONNECTIONS:-32}"
DURATION="${DURATION:-15s}"
WARMUP="${WARMUP:-3s}"
POOL="${POOL:-10}"
SCENARIOS="${SCENARIOS:-get filter embed create}"
AUTH="${AUTH:-0}"
AUTH_PORT="${AUTH_PORT:-18093}"
ADMIN_KEY="bench-admin-key-$(date +%s)-0123456789"
# TLS off for both servers: on loopback it only adds the same encryption cost
# to both sides and hides the difference being measured.
DB_PARAMS="${DB_PARAMS:-sslmode=disable}"
DB_URL="postgres://${PGUSER}:${PGPASSWORD}@${PGHOST}:${PGPORT}/${BENCH_DB}?${DB_PARAMS}"
HERE=benches/http

LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
# What else holds the CPU when the run starts (a shared machine).
BUSY_BEFORE="$(top -bn1 -o %CPU 2>/dev/null | awk 'NR > 7 && $9 + 0 >= 5 && $12 != "top" { printf "%s%s %s%%", sep, $12, $9; sep = ", " }' || true)"

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
nice -n 10 cargo build --release --quiet -p baas-server -p baas-bench-raw-server \
    -p baas-bench-pg-json-server
BAAS_BIN="$CARGO_TARGET_DIR/release/baas"
RAW_BIN="$CARGO_TARGET_DIR/release/raw-server"
PGJSON_BIN="$CARGO_TARGET_DIR/release/pg-json-server"

# --- servers -----------------------------------------------------------------
SERVERS="baas sqlx pgjson"
if [ "$AUTH" = 1 ]; then SERVERS="$SERVERS baasauth"; fi
declare -A PORT PID
PORT[baas]=$BAAS_PORT PORT[sqlx]=$RAW_PORT PORT[pgjson]=$PGJSON_PORT PORT[baasauth]=$AUTH_PORT
WORK="$(mktemp -d /tmp/baas-http-bench.XXXXXX)"
cleanup() {
    for p in "${PID[@]}"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${PID[@]}"; do
        wait "$p" 2>/dev/null || true
    done
    reset_created 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for server in $SERVERS; do
    if curl -s -o /dev/null "http://127.0.0.1:${PORT[$server]}/"; then
        log "error: port ${PORT[$server]} is already in use"
        exit 1
    fi
done

# --open: no rules, no credentials (the data API alone).
RUST_LOG=warn "$BAAS_BIN" serve --db "$DB_URL" --tenant bench --open \
    --listen "127.0.0.1:$BAAS_PORT" --data-dir "$WORK/baas-data" \
    --max-connections "$POOL" >"$WORK/baas.log" 2>&1 &
PID[baas]=$!
if [ "$AUTH" = 1 ]; then
    RUST_LOG=warn BAAS_ADMIN_KEY="$ADMIN_KEY" "$BAAS_BIN" serve --db "$DB_URL" --tenant bench \
        --listen "127.0.0.1:$AUTH_PORT" --data-dir "$WORK/baasauth-data" \
        --max-connections "$POOL" >"$WORK/baasauth.log" 2>&1 &
    PID[baasauth]=$!
fi
"$RAW_BIN" --db "$DB_URL" --listen "127.0.0.1:$RAW_PORT" \
    --max-connections "$POOL" >"$WORK/sqlx.log" 2>&1 &
PID[sqlx]=$!
"$PGJSON_BIN" --db "$DB_URL" --listen "127.0.0.1:$PGJSON_PORT" \
    --max-connections "$POOL" >"$WORK/pgjson.log" 2>&1 &
PID[pgjson]=$!

wait_ready() { # server
    for _ in $(seq 1 150); do
        if curl -sf -o /dev/null "http://127.0.0.1:${PORT[$1]}/bench/book/1"; then return 0; fi
        if ! kill -0 "${PID[$1]}" 2>/dev/null; then
            log "error: $1 exited:"; cat "$WORK/$1.log" >&2; exit 1
        fi
        sleep 0.2
    done
    log "error: $1 did not answer on port ${PORT[$1]}:"; cat "$WORK/$1.log" >&2; exit 1
}
for server in $SERVERS; do
    # Closed by default: baas+auth answers its first read with no rows.
    [ "$server" = baasauth ] || wait_ready "$server"
done
if [ "$AUTH" = 1 ]; then
    for _ in $(seq 1 150); do
        curl -s -o /dev/null "http://127.0.0.1:$AUTH_PORT/bench/book/1" && break
        sleep 0.2
    done
    curl -sf -o /dev/null -X PUT "http://127.0.0.1:$AUTH_PORT/_admin/tenants/bench/rules" \
        -H "Authorization: Bearer $ADMIN_KEY" -H 'Content-Type: application/json' -d '[
        {"entity": "book", "name": "books of real authors", "action": ["read", "insert"], "role": ["authenticated"], "filter": "author_id=gte.1"},
        {"entity": "author", "action": ["read"], "role": ["authenticated"]}]' ||
        { log "error: cannot set the rules of baas+auth"; cat "$WORK/baasauth.log" >&2; exit 1; }
    APIKEY="$("$BAAS_BIN" keys bench --data-dir "$WORK/baasauth-data" | sed 's/.*"anon":"\([^"]*\)".*/\1/')"
    BEARER="$(curl -sf -X POST "http://127.0.0.1:$AUTH_PORT/bench/auth/v1/signup" \
        -H 'Content-Type: application/json' \
        -d "{\"email\":\"bench-$(date +%s)@example.com\",\"password\":\"a long bench password\"}" |
        sed 's/.*"access_token":"\([^"]*\)".*/\1/')"
    [ -n "$APIKEY" ] && [ -n "$BEARER" ] || { log "error: no key or token for baas+auth"; exit 1; }
    export APIKEY BEARER
fi

# --- same answers? -------------------------------------------------------------
# Each server's answer as one text: status, Content-Type, Content-Range, body.
# The baselines must match baas exactly (the create's generated id aside).
DIFFERENT=0
answer() { # server path [curl args…]
    local server=$1 path=$2
    shift 2
    local creds=()
    if [ "$server" = baasauth ]; then creds=(-H "apikey: $APIKEY" -H "Authorization: Bearer $BEARER"); fi
    curl -s -D "$WORK/headers" -o "$WORK/body" "${creds[@]}" "$@" "http://127.0.0.1:${PORT[$server]}$path"
    tr -d '\r' <"$WORK/headers" | awk 'NR == 1 { print $2 }
        tolower($1) ~ /^content-(type|range):$/ { v = $0; sub(/^[^:]*: */, "", v); print tolower($1), v }'
    cat "$WORK/body"
}
same() { # description path [curl args…]
    local what=$1 a b server
    a="$(answer baas "${@:2}")"
    if [ "$what" = create ]; then a="$(sed 's/"id":[0-9]*/"id":N/' <<<"$a")"; fi
    local others="sqlx pgjson"
    if [ "$AUTH" = 1 ]; then others="$others baasauth"; fi
    for server in $others; do
        b="$(answer "$server" "${@:2}")"
        # The generated key of a create differs, and only that.
        if [ "$what" = create ]; then b="$(sed 's/"id":[0-9]*/"id":N/' <<<"$b")"; fi
        if [ "$a" = "$b" ]; then
            log "  same answer: $what ($server)"
        else
            DIFFERENT=$((DIFFERENT + 1))
            log "  DIFFERENT answer: $what ($server)"
            log "    baas:    $(tr '\n' ' ' <<<"${a:0:400}")"
            log "    $server: $(tr '\n' ' ' <<<"${b:0:400}")"
        fi
    done
}
log "comparing responses"
for id in 1 40 42 50 100001; do same "GET by id $id" "/bench/book/$id"; done
same "filtered page" "/bench/book?author_id=eq.7&order=published.desc,id&limit=20"
same "filtered page, no row" "/bench/book?author_id=eq.1001&order=published.desc,id&limit=20"
same "embedded page" "/bench/book?select=id,title,author(name)&id=gt.990&order=id&limit=20"
same "embedded page, short" "/bench/book?select=id,title,author(name)&id=gt.99990&order=id&limit=20"
body='{"title":"Load test book","author_id":7,"published":"2024-05-01","price":"19.99","pages":321}'
same create /bench/book -X POST -H 'Content-Type: application/json' \
    -H 'Prefer: return=representation' -d "$body"
reset_created

# --- load ----------------------------------------------------------------------
declare -A RPS P99 BAD CPU PGCPU
TICK="$(getconf CLK_TCK)"
ticks() { # pid → user + system clock ticks (fields 14, 15, counted after the command name)
    sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'
}
# The PostgreSQL backends connected to the bench database, with their ticks.
pg_ticks() {
    local p t
    for p in $(psql -d "$BENCH_DB" -Atc \
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"); do
        t="$(ticks "$p")"
        if [ -n "$t" ]; then echo "$p $t"; fi
    done
}
# Ticks spent since `pg_ticks` wrote $1, by the backends alive at both ends.
pg_ticks_since() {
    pg_ticks | awk 'FILENAME == ARGV[1] { before[$1] = $2; next }
        ($1 in before) { sum += $2 - before[$1] } END { print sum + 0 }' "$1" -
}
run_wrk() { # server scenario duration → "rps p99_us bad max_us server_us_per_request pg_us_per_request"
    local out before after pg
    pg_ticks >"$WORK/pg.before"
    before="$(ticks "${PID[$1]}")"
    local signed=0
    if [ "$1" = baasauth ]; then signed=1; fi
    out="$(SCENARIO="$2" SIGNED="$signed" wrk -t"$THREADS" -c"$CONNECTIONS" -d"$3" --latency \
        -s "$HERE/bench.lua" "http://127.0.0.1:${PORT[$1]}")"
    after="$(ticks "${PID[$1]}")"
    pg="$(pg_ticks_since "$WORK/pg.before")"
    echo "$out" >>"$WORK/wrk.log"
    echo "$out" | awk -v ticks=$((after - before)) -v pg="$pg" -v hz="$TICK" '/^RESULT/ {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        n = v["requests"]
        print v["rps"], v["p99_us"], v["non2xx"] + v["socket_errors"], v["max_us"],
            (n > 0 ? int(ticks * 1e6 / hz / n) : 0), (n > 0 ? int(pg * 1e6 / hz / n) : 0) }'
}

i=0
for s in $SCENARIOS; do
    case $((i % 3)) in
    0) order="baas sqlx pgjson" ;;
    1) order="sqlx pgjson baas" ;;
    *) order="pgjson baas sqlx" ;;
    esac
    if [ "$AUTH" = 1 ]; then
        # baas+auth right before or after baas, alternating.
        if [ $((i % 2)) = 0 ]; then order="baasauth $order"; else order="$order baasauth"; fi
    fi
    i=$((i + 1))
    for server in $order; do
        if [ "$s" = create ]; then reset_created; fi
        run_wrk "$server" "$s" "$WARMUP" >/dev/null
        if [ "$s" = create ]; then reset_created; fi
        read -r rps p99 bad max cpu pgcpu < <(run_wrk "$server" "$s" "$DURATION")
        RPS[$s.$server]=$rps
        P99[$s.$server]=$p99
        BAD[$s.$server]=$bad
        CPU[$s.$server]=$cpu
        PGCPU[$s.$server]=$pgcpu
        log "  $s on $server: $rps req/s, p99 $((p99 / 1000)).$(((p99 % 1000) / 100)) ms, max $((max / 1000)) ms, server CPU $cpu µs/request, PostgreSQL CPU $pgcpu µs/request, errors $bad"
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
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), load before $LOAD_BEFORE${BUSY_BEFORE:+ (busy: $BUSY_BEFORE)}"
echo "$(psql -d "$BENCH_DB" -Atc 'SHOW server_version' | cut -d' ' -f1 | sed 's/^/PostgreSQL /'), wrk -t$THREADS -c$CONNECTIONS -d$DURATION (warm-up $WARMUP), pool $POOL per server"
echo
echo "| scenario | baas req/s | sqlx req/s | pg-json req/s | baas/sqlx | baas/pg-json | baas p99 | sqlx p99 | pg-json p99 | baas µs/req | sqlx µs/req | pg-json µs/req |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f×", (b > 0 ? a / b : 0) }'; }
for s in $SCENARIOS; do
    printf '| %s | %.0f | %.0f | %.0f | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(name "$s")" \
        "${RPS[$s.baas]}" "${RPS[$s.sqlx]}" "${RPS[$s.pgjson]}" \
        "$(ratio "${RPS[$s.baas]}" "${RPS[$s.sqlx]}")" "$(ratio "${RPS[$s.baas]}" "${RPS[$s.pgjson]}")" \
        "$(ms "${P99[$s.baas]}")" "$(ms "${P99[$s.sqlx]}")" "$(ms "${P99[$s.pgjson]}")" \
        "${CPU[$s.baas]}" "${CPU[$s.sqlx]}" "${CPU[$s.pgjson]}"
done
echo
echo "PostgreSQL backends of database $BENCH_DB, CPU (user + system) per request, same runs:"
echo
echo "| scenario | under baas µs/req | under sqlx µs/req | under pg-json µs/req |"
echo "| --- | ---: | ---: | ---: |"
for s in $SCENARIOS; do
    printf '| %s | %s | %s | %s |\n' "$(name "$s")" "${PGCPU[$s.baas]}" "${PGCPU[$s.sqlx]}" "${PGCPU[$s.pgjson]}"
done
if [ "$AUTH" = 1 ]; then
    echo
    echo "The cost of auth (a signed-in user and a row rule) against the data API alone, same run:"
    echo
    echo "| scenario | baas+auth req/s | baas req/s | baas+auth/baas | baas+auth µs/req | baas µs/req | PostgreSQL µs/req under baas+auth | under baas |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for s in $SCENARIOS; do
        printf '| %s | %.0f | %.0f | %s | %s | %s | %s | %s |\n' "$(name "$s")" \
            "${RPS[$s.baasauth]}" "${RPS[$s.baas]}" "$(ratio "${RPS[$s.baasauth]}" "${RPS[$s.baas]}")" \
            "${CPU[$s.baasauth]}" "${CPU[$s.baas]}" "${PGCPU[$s.baasauth]}" "${PGCPU[$s.baas]}"
    done
fi
echo
echo "Load after the runs: $(cut -d' ' -f1-3 /proc/loadavg)"
if [ "$DIFFERENT" != 0 ]; then
    echo "WARNING: $DIFFERENT answers of the baselines differed from baas's (see above)"
fi
for s in $SCENARIOS; do
    for server in $SERVERS; do
        if [ "${BAD[$s.$server]}" != 0 ]; then
            echo "WARNING: $s on $server had ${BAD[$s.$server]} non-2xx responses or socket errors (timeouts: over 2 s)"
        fi
    done
done
