#!/usr/bin/env bash
# Cost of grouping aggregates by a cast's value on PostgreSQL
# (`invoice_line?select=p:unit_price::int,count(),quantity.sum()&order=unit_price`
# and `invoice?select=d:invoice_date::date,count(),total.sum()&order=invoice_date`),
# Chinook's 2240 invoice lines and 412 invoices. Three ways, same run
# (compare the ratios):
#   ours:      the statement mini-baas sends (the computed value selected
#              under a name of its own, grouped and ordered by the
#              expression; a decimal's `::int` as a plain CAST);
#   positional: its first version (grouped by position, ordered by the
#              output name, `ROUND` before the cast), kept for the record:
#              still how a value at a JSON path is grouped (bound keys);
#   postgrest: the same grouping written as PostgREST writes it (GROUP BY the
#              cast expression), without its json_agg wrapper;
#   stored:    grouping by the stored value instead (what the engines did
#              before: more groups, wrong answer: the client would have to
#              merge them).
# Usage: bash benches/computed-groups/run.sh [seconds per script]
set -euo pipefail
SECS=${1:-10}
DB=${PGDATABASE:-chinook}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
psql -h 127.0.0.1 -U postgres -qc ANALYZE "$DB"
cat > "$DIR/ours.sql" <<'SQL'
SELECT CAST("unit_price" AS bigint) AS "_baas_g0", COUNT(*) AS "a0", SUM("quantity") AS "a1" FROM "public"."invoice_line" GROUP BY CAST("unit_price" AS bigint) ORDER BY CAST("unit_price" AS bigint) ASC NULLS LAST LIMIT 1000;
SELECT CAST("invoice_date" AS date) AS "_baas_g0", COUNT(*) AS "a0", SUM("total") AS "a1" FROM "public"."invoice" GROUP BY CAST("invoice_date" AS date) ORDER BY CAST("invoice_date" AS date) ASC NULLS LAST LIMIT 1000;
SQL
cat > "$DIR/positional.sql" <<'SQL'
SELECT CAST(ROUND(CAST("unit_price" AS numeric)) AS bigint) AS "_baas_g0", COUNT(*) AS "a0", SUM("quantity") AS "a1" FROM "public"."invoice_line" GROUP BY 1 ORDER BY "_baas_g0" ASC NULLS LAST LIMIT 1000;
SELECT CAST("invoice_date" AS date) AS "_baas_g0", COUNT(*) AS "a0", SUM("total") AS "a1" FROM "public"."invoice" GROUP BY 1 ORDER BY "_baas_g0" ASC NULLS LAST LIMIT 1000;
SQL
cat > "$DIR/postgrest.sql" <<'SQL'
SELECT "invoice_line"."unit_price"::int AS "p", COUNT(*) AS "count", SUM("invoice_line"."quantity") AS "sum" FROM "public"."invoice_line" GROUP BY "invoice_line"."unit_price"::int ORDER BY "invoice_line"."unit_price"::int LIMIT 1000;
SELECT "invoice"."invoice_date"::date AS "d", COUNT(*) AS "count", SUM("invoice"."total") AS "sum" FROM "public"."invoice" GROUP BY "invoice"."invoice_date"::date ORDER BY "invoice"."invoice_date"::date LIMIT 1000;
SQL
cat > "$DIR/stored.sql" <<'SQL'
SELECT "unit_price", COUNT(*) AS "a0", SUM("quantity") AS "a1" FROM "public"."invoice_line" GROUP BY "unit_price" ORDER BY "unit_price" ASC NULLS LAST LIMIT 1000;
SELECT "invoice_date", COUNT(*) AS "a0", SUM("total") AS "a1" FROM "public"."invoice" GROUP BY "invoice_date" ORDER BY "invoice_date" ASC NULLS LAST LIMIT 1000;
SQL
for s in ours positional postgrest stored; do
  tps=$(pgbench -h 127.0.0.1 -U postgres -n -c 1 -T "$SECS" -f "$DIR/$s.sql" "$DB" 2>/dev/null | awk '/^tps/ {print $3}')
  echo "$s $tps"
done | awk '{t[$1]=$2; print} END { printf "ours/postgrest: %.2fx, ours/positional: %.2fx, ours/stored: %.2fx (transactions per second)\n", t["ours"]/t["postgrest"], t["ours"]/t["positional"], t["ours"]/t["stored"] }'
