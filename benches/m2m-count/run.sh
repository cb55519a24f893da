#!/usr/bin/env bash
# Cost of `count()` inside a many-to-many embedding on PostgreSQL
# (`playlist?select=playlist_id,rock:track(count)&rock.genre_id=eq.1&playlist_id=lte.18`),
# Chinook's 8715 playlist links. Three ways, same run (compare the ratios):
#   ours:    the two statements mini-baas sends (the parents' page, then one
#            aggregate of the junction grouped by its source, joined to the
#            target on the embedding's filter, Aggregate::via);
#   lateral: one statement shaped as PostgREST writes an embedding, a
#            LATERAL count per parent over the junction joined to the target;
#   fetch:   what a client without embedded aggregates does: the parents,
#            then every linked target row of the page (then counts them).
# Runs ANALYZE first: a freshly loaded fixture has no statistics.
# Usage: bash benches/m2m-count/run.sh [seconds per script]
set -euo pipefail
SECS=${1:-10}
DB=${PGDATABASE:-chinook}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
psql -h 127.0.0.1 -U postgres -qc ANALYZE "$DB"
IDS='1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18'
cat > "$DIR/ours.sql" <<SQL
SELECT "playlist_id" FROM "public"."playlist" WHERE "playlist_id" <= 18 ORDER BY "playlist_id" ASC LIMIT 1000;
SELECT "public"."playlist_track"."playlist_id", COUNT(*) AS "a0" FROM "public"."playlist_track" INNER JOIN "public"."track" AS "_v1" ON "_v1"."track_id" = "public"."playlist_track"."track_id" AND "_v1"."genre_id" = 1 WHERE "public"."playlist_track"."playlist_id" IN ($IDS) GROUP BY "public"."playlist_track"."playlist_id" ORDER BY "public"."playlist_track"."playlist_id" ASC NULLS LAST;
SQL
cat > "$DIR/lateral.sql" <<'SQL'
SELECT p."playlist_id", c."count" FROM "public"."playlist" AS p LEFT JOIN LATERAL (SELECT count(*) AS "count" FROM "public"."track" AS t JOIN "public"."playlist_track" AS pt ON pt."track_id" = t."track_id" WHERE pt."playlist_id" = p."playlist_id" AND t."genre_id" = 1) AS c ON true WHERE p."playlist_id" <= 18 ORDER BY p."playlist_id" LIMIT 1000;
SQL
cat > "$DIR/fetch.sql" <<SQL
SELECT "playlist_id" FROM "public"."playlist" WHERE "playlist_id" <= 18 ORDER BY "playlist_id" ASC LIMIT 1000;
SELECT pt."playlist_id", t."track_id" FROM "public"."playlist_track" AS pt JOIN "public"."track" AS t ON t."track_id" = pt."track_id" WHERE pt."playlist_id" IN ($IDS) AND t."genre_id" = 1;
SQL
for s in ours lateral fetch; do
  tps=$(pgbench -h 127.0.0.1 -U postgres -n -c 1 -T "$SECS" -f "$DIR/$s.sql" "$DB" 2>/dev/null | awk '/^tps/ {print $3}')
  echo "$s $tps"
done | awk '{t[$1]=$2; print} END { printf "ours/lateral: %.2fx, ours/fetch: %.2fx (transactions per second)\n", t["ours"]/t["lateral"], t["ours"]/t["fetch"] }'
