#!/usr/bin/env bash
# Cost of making a write's representation inside the write's transaction
# (`Baas::write_checked`), which a cast that could refuse a returned value
# asks for, against the plain write, on PostgreSQL through `baas serve`,
# measured back to back in the same run with wrk (compare the ratios):
#   plain:   POST /w/item?select=id,code            one INSERT … RETURNING on the pool
#   checked: POST /w/item?select=id,c:code::int     BEGIN; INSERT … RETURNING;
#            the cast applied to the returned row; COMMIT, on one connection
#   embed:   POST /w/item?select=id,code,kind(name)  the write, then the embedding
#            read after the commit
#   embed-checked: POST /w/item?select=id,code,kind(n:name::int)  both inside
#            the transaction
# Each runs twice, in rotated order; the table gives each run.
# Usage: bash benches/checked-writes/run.sh [duration, e.g. 10s]
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/mini-baas-target}"
DURATION="${1:-10s}"
PORT="${PORT:-18095}"
DB="${BENCH_DB:-bench_writes}"
export PGHOST="${PGHOST:-127.0.0.1}" PGUSER="${PGUSER:-baas}" PGPASSWORD="${PGPASSWORD:-baas_pw}"
psql -U postgres -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB OWNER $PGUSER" >/dev/null
psql -d "$DB" -q >/dev/null <<'SQL'
CREATE TABLE kind (id int PRIMARY KEY, name text NOT NULL);
INSERT INTO kind SELECT i, (i * 7)::text FROM generate_series(1, 10) i;
CREATE TABLE item (id serial PRIMARY KEY, code text NOT NULL, n int, kind_id int REFERENCES kind (id) DEFAULT 3);
SQL
nice -n 10 cargo build --release --quiet -p baas-server
WORK="$(mktemp -d)"
RUST_LOG=warn "$CARGO_TARGET_DIR/release/baas" serve \
    --db "postgres://$PGUSER:$PGPASSWORD@$PGHOST:5432/$DB?sslmode=disable" --tenant w --open \
    --listen "127.0.0.1:$PORT" --data-dir "$WORK/data" --max-connections 10 >"$WORK/baas.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$WORK"; psql -U postgres -qc "DROP DATABASE IF EXISTS $DB" >/dev/null' EXIT
for _ in $(seq 1 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/w/item?limit=1" && break
    sleep 0.2
done
declare -A SELECT=(
    [plain]="id,code"
    [checked]="id,c:code::int"
    [embed]="id,code,kind(name)"
    [embed-checked]="id,code,kind(n:name::int)"
)
# The four answer alike (the same row shape once renamed): a sanity check.
for s in plain checked embed embed-checked; do
    curl -sf -X POST -H 'Content-Type: application/json' -H 'Prefer: return=representation' \
        -d '{"code":"12","n":1}' "http://127.0.0.1:$PORT/w/item?select=${SELECT[$s]}" >/dev/null \
        || { echo "$s: the request failed"; cat "$WORK/baas.log"; exit 1; }
done
echo "| run | scenario | requests/s | p50 µs | p99 µs | non-2xx |"
echo "| --- | --- | ---: | ---: | ---: | ---: |"
for round in 1 2; do
    order="plain checked embed embed-checked"
    [ "$round" = 2 ] && order="embed-checked embed checked plain"
    for s in $order; do
        SELECT="${SELECT[$s]}" wrk -t2 -c16 -d3s -s benches/checked-writes/bench.lua \
            "http://127.0.0.1:$PORT" >/dev/null
        line=$(SELECT="${SELECT[$s]}" wrk -t2 -c16 -d"$DURATION" -s benches/checked-writes/bench.lua \
            "http://127.0.0.1:$PORT" | grep '^RESULT')
        rps=$(sed -E 's/.*rps=([0-9.]+).*/\1/' <<<"$line")
        p50=$(sed -E 's/.*p50_us=([0-9]+).*/\1/' <<<"$line")
        p99=$(sed -E 's/.*p99_us=([0-9]+).*/\1/' <<<"$line")
        bad=$(sed -E 's/.*non2xx=([0-9]+).*/\1/' <<<"$line")
        echo "| $round | $s | $rps | $p50 | $p99 | $bad |"
    done
done
