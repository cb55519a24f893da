#!/usr/bin/env bash
# Cost of a to-one embedding beside aggregates (`/track?select=album(title),count()`)
# on PostgreSQL, the ways mini-baas has read it: grouped by the relation's
# key, then the related rows read by those keys (two statements, the
# former path: its groups were the related rows, not their shown fields);
# the related row LEFT JOINed to the grouped rows and grouped by its listed
# field (one statement, the current path, PostgREST's grouping: `title`
# cannot be null, so a null one says "no album"); and the same with the
# presence count the current path adds when every listed field may be null
# (`AggregateVia::mark_presence`). Chinook's 3503 tracks, 347 albums;
# pgbench, one client, same run: the ratios are what to compare.
# Usage: bash benches/joined-groups/run.sh [seconds per statement]
set -euo pipefail
SECS=${1:-10}
DB=${PGDATABASE:-chinook}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
IDS=$(psql -h 127.0.0.1 -U postgres -At -c 'SELECT string_agg(DISTINCT album_id::text, $$,$$) FROM track' "$DB")
cat > "$DIR/keyed.sql" <<SQL
SELECT "album_id", COUNT(*) AS "a0" FROM "public"."track" GROUP BY "album_id" ORDER BY "album_id" ASC NULLS LAST;
SELECT "album_id", "title" FROM "public"."album" WHERE "album_id" IN ($IDS);
SQL
cat > "$DIR/joined.sql" <<'SQL'
SELECT "_v1"."title", COUNT(*) AS "a0" FROM "public"."track" LEFT JOIN "public"."album" AS "_v1" ON "_v1"."album_id" = "public"."track"."album_id" GROUP BY "_v1"."title";
SQL
cat > "$DIR/counted.sql" <<'SQL'
SELECT "_v1"."title", COUNT(*) AS "a0", COUNT("_v1"."album_id") AS "a1" FROM "public"."track" LEFT JOIN "public"."album" AS "_v1" ON "_v1"."album_id" = "public"."track"."album_id" GROUP BY "_v1"."title";
SQL
for s in keyed joined counted; do
  tps=$(pgbench -h 127.0.0.1 -U postgres -n -c 1 -T "$SECS" -f "$DIR/$s.sql" "$DB" 2>/dev/null | awk '/^tps/ {print $3}')
  echo "$s $tps"
done | awk '{t[$1]=$2; print} END { printf "joined/keyed latency: %.2fx; counted/joined: %.2fx\n", t["keyed"]/t["joined"], t["joined"]/t["counted"] }'
