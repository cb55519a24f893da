#!/usr/bin/env bash
# Cost of PostgREST's request settings on PostgreSQL: the statements
# mini-baas sends, same run (compare the ratios):
#   plain:        `/rpc/add_them?a=1&b=2` alone, on the pool (no settings);
#   claims:       BEGIN; SELECT set_config('request.jwt.claims', $1, true);
#                 the call; COMMIT (the call with its claims only);
#   call:         BEGIN; the five settings (claims, method, path, headers,
#                 cookies; the response settings reset) in one SELECT; the call; the response settings
#                 read back; COMMIT (what `find_call` runs now);
#   insert-plain: one INSERT … RETURNING on the pool (a write before the
#                 settings);
#   insert:       BEGIN; the five settings; the INSERT; the response
#                 settings read back; COMMIT (what a write of a table
#                 flagged `request_settings` runs on PostgreSQL).
#   read-plain:   a read of `visit` (two rows) on the pool;
#   read-zone:    BEGIN; the response settings reset and `timezone` set
#                 (`Prefer: timezone`, PostgREST's SET LOCAL timezone); the
#                 read; COMMIT (what such a read runs on PostgreSQL now).
# Needs the parity fixture (bash .ci/fixtures.sh: database baas_parity);
# the inserts go to its `memo` table and are deleted afterwards.
# Usage: bash benches/rpc-claims/run.sh [seconds per script]
set -euo pipefail
SECS=${1:-10}
DIR=$(mktemp -d)
export PGPASSWORD=baas_pw
trap 'rm -rf "$DIR"; psql -h 127.0.0.1 -U baas -qc "DELETE FROM memo" baas_parity' EXIT
SETTINGS="SELECT set_config('response.status', '', true), set_config('response.headers', '', true),
  set_config('request.jwt.claims', '{\"sub\":\"u1\",\"role\":\"authenticated\"}', true),
  set_config('request.method', 'POST', true), set_config('request.path', '/memo', true),
  set_config('request.headers', '{\"apikey\":\"k\",\"content-type\":\"application/json\",\"prefer\":\"return=representation\"}', true),
  set_config('request.cookies', '{}', true);"
cat > "$DIR/plain.sql" <<'SQL'
SELECT * FROM add_them(a => 1, b => 2);
SQL
cat > "$DIR/claims.sql" <<'SQL'
BEGIN;
SELECT set_config('request.jwt.claims', '{"sub":"u1","role":"authenticated"}', true);
SELECT * FROM add_them(a => 1, b => 2);
COMMIT;
SQL
cat > "$DIR/call.sql" <<SQL
BEGIN;
$SETTINGS
SELECT * FROM add_them(a => 1, b => 2);
SELECT current_setting('response.status', true), current_setting('response.headers', true);
COMMIT;
SQL
cat > "$DIR/insert-plain.sql" <<'SQL'
INSERT INTO memo (body) VALUES ('x') RETURNING id, body, owner;
SQL
cat > "$DIR/insert.sql" <<SQL
BEGIN;
$SETTINGS
INSERT INTO memo (body) VALUES ('x') RETURNING id, body, owner;
SELECT current_setting('response.status', true), current_setting('response.headers', true);
COMMIT;
SQL
cat > "$DIR/read-plain.sql" <<'SQL'
SELECT "id", "at" FROM "visit" ORDER BY "id" ASC LIMIT 1000;
SQL
cat > "$DIR/read-zone.sql" <<'SQL'
BEGIN;
SELECT set_config('response.status', '', true), set_config('response.headers', '', true),
  set_config('timezone', 'America/Los_Angeles', true);
SELECT "id", "at" FROM "visit" ORDER BY "id" ASC LIMIT 1000;
COMMIT;
SQL
for s in plain claims call insert-plain insert read-plain read-zone; do
  printf '%-13s ' "$s"
  pgbench -h 127.0.0.1 -U baas -n -c 1 -T "$SECS" -M prepared \
    -f "$DIR/$s.sql" baas_parity 2>/dev/null | grep -E '^(tps|latency average)' | tr '\n' ' '
  echo
done
