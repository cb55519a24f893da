#!/usr/bin/env bash
# Cost of `Prefer: count=…` on a large PostgreSQL table: 2,000,000 rows,
# a filter matching about 90% of them, the tenant's default row budget
# (10,000). The statements mini-baas sends for the count, same run
# (compare the ratios):
#   exact:     SELECT COUNT(*) over the filter;
#   estimated: the count stopped one row past the budget, then (past it)
#              the EXPLAIN of the matching rows' select;
#   planned:   the EXPLAIN alone.
# Creates (once) and keeps the database `baas_bench_count`.
# Usage: bash benches/estimated-count/run.sh [seconds per script]
set -euo pipefail
SECS=${1:-10}
DB=baas_bench_count
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
if ! psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $DB"
  psql -h 127.0.0.1 -U postgres -q "$DB" <<'SQL'
CREATE TABLE reading (id bigint PRIMARY KEY, sensor int NOT NULL, value int NOT NULL);
INSERT INTO reading SELECT g, g % 500, g % 1000 FROM generate_series(1, 2000000) g;
SQL
fi
psql -h 127.0.0.1 -U postgres -qc "ANALYZE reading" "$DB"
FILTER='"value" > 100'
cat > "$DIR/exact.sql" <<SQL
SELECT COUNT(*) FROM "public"."reading" WHERE $FILTER;
SQL
cat > "$DIR/estimated.sql" <<SQL
SELECT COUNT(*) FROM (SELECT 1 FROM "public"."reading" WHERE $FILTER LIMIT 10001) AS counted;
EXPLAIN (FORMAT JSON) SELECT 1 FROM "public"."reading" WHERE $FILTER;
SQL
cat > "$DIR/planned.sql" <<SQL
EXPLAIN (FORMAT JSON) SELECT 1 FROM "public"."reading" WHERE $FILTER;
SQL
echo "exact count: $(psql -h 127.0.0.1 -U postgres -tAc "SELECT COUNT(*) FROM reading WHERE $FILTER" "$DB"), planner's estimate: $(psql -h 127.0.0.1 -U postgres -tAc "EXPLAIN (FORMAT JSON) SELECT 1 FROM reading WHERE $FILTER" "$DB" | grep -o '"Plan Rows": [0-9]*')"
for s in exact estimated planned; do
  tps=$(pgbench -h 127.0.0.1 -U postgres -n -c 1 -T "$SECS" -f "$DIR/$s.sql" "$DB" 2>/dev/null | awk '/^tps/ {print $3}')
  echo "$s $tps"
done | awk '{t[$1]=$2; print} END { printf "estimated/exact: %.1fx, planned/exact: %.1fx (transactions per second)\n", t["estimated"]/t["exact"], t["planned"]/t["exact"] }'
