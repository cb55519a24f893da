#!/usr/bin/env bash
# Cost of `order=album(title)` (a field of the to-one related row) on
# PostgreSQL, two ways of writing it: a correlated scalar subquery per row
# (LIMIT 1), the first lowering, measured 2.9x slower and replaced; and a
# LEFT JOIN ordered by the joined column (the related grant's filter in the
# ON clause), the shape mini-baas lowers it to now and what one would write
# by hand. Also the plain order by a column of the row itself. Chinook's
# 3503 tracks; pgbench, same run: the ratios are what to compare.
# Usage: bash benches/related-order/run.sh [seconds per statement]
set -euo pipefail
SECS=${1:-10}
DB=${PGDATABASE:-chinook}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
cat > "$DIR/subquery.sql" <<'SQL'
SELECT "track_id", "name" FROM "public"."track" ORDER BY (SELECT "r1"."title" FROM "public"."album" AS "r1" WHERE "r1"."album_id" = "public"."track"."album_id" LIMIT 1) DESC NULLS FIRST, "track_id" ASC LIMIT 25;
SQL
cat > "$DIR/join.sql" <<'SQL'
SELECT t."track_id", t."name" FROM "public"."track" AS t LEFT JOIN "public"."album" AS a ON a."album_id" = t."album_id" ORDER BY a."title" DESC NULLS FIRST, t."track_id" ASC LIMIT 25;
SQL
cat > "$DIR/own.sql" <<'SQL'
SELECT "track_id", "name" FROM "public"."track" ORDER BY "name" DESC, "track_id" ASC LIMIT 25;
SQL
for s in subquery join own; do
  tps=$(pgbench -h 127.0.0.1 -U postgres -n -c 1 -T "$SECS" -f "$DIR/$s.sql" "$DB" 2>/dev/null | awk '/^tps/ {print $3}')
  echo "$s $tps"
done | awk '{t[$1]=$2; print} END { printf "subquery/join latency ratio: %.2fx, subquery/own-column: %.2fx\n", t["join"]/t["subquery"], t["own"]/t["subquery"] }'
