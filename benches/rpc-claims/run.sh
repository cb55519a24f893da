#!/usr/bin/env bash
# Cost of the request settings around a function call on PostgreSQL: the
# statements mini-baas sends for `/rpc/add_them?a=1&b=2`, same run
# (compare the ratios):
#   plain:  the call alone, on the pool (before the settings);
#   claims: BEGIN; SELECT set_config('request.jwt.claims', $1, true);
#           the call; COMMIT (what `find_call` runs now).
# Needs the parity fixture (bash .ci/fixtures.sh: database baas_parity).
# Usage: bash benches/rpc-claims/run.sh [seconds per script]
set -euo pipefail
SECS=${1:-10}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
cat > "$DIR/plain.sql" <<'SQL'
SELECT * FROM add_them(a => 1, b => 2);
SQL
cat > "$DIR/claims.sql" <<'SQL'
BEGIN;
SELECT set_config('request.jwt.claims', '{"sub":"u1","role":"authenticated"}', true);
SELECT * FROM add_them(a => 1, b => 2);
COMMIT;
SQL
for s in plain claims; do
  printf '%-7s ' "$s"
  PGPASSWORD=baas_pw pgbench -h 127.0.0.1 -U baas -n -c 1 -T "$SECS" -M prepared \
    -f "$DIR/$s.sql" baas_parity 2>/dev/null | grep -E '^(tps|latency average)' | tr '\n' ' '
  echo
done
