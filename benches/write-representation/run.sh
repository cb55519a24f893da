#!/usr/bin/env bash
# Cost of reading a write's embeddings inside its transaction (what a
# `PATCH …?select=*,children(*)` with `return=representation` runs on
# PostgreSQL since d8109a8), against the same statements on the pool:
#   after:  the UPDATE … RETURNING, then the embedding's read, each on
#           its own (autocommit; what ran before);
#   inside: BEGIN; the same two statements; COMMIT.
# Needs the parity database (bash .ci/fixtures.sh: baas_parity); makes
# two scratch tables there and drops them on exit.
# Usage: bash benches/write-representation/run.sh [seconds per script]
set -euo pipefail
SECS=${1:-10}
DIR=$(mktemp -d)
export PGPASSWORD=baas_pw PGOPTIONS="-c client_min_messages=warning"
PSQL=(psql -h 127.0.0.1 -U baas -q baas_parity)
trap 'rm -rf "$DIR"; "${PSQL[@]}" -c "DROP TABLE IF EXISTS rep_child, rep_parent"' EXIT
"${PSQL[@]}" <<'SQL'
DROP TABLE IF EXISTS rep_child, rep_parent;
CREATE TABLE rep_parent (id int PRIMARY KEY, name text NOT NULL);
CREATE TABLE rep_child (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES rep_parent (id));
CREATE INDEX ON rep_child (parent_id);
INSERT INTO rep_parent SELECT g, 'p' || g FROM generate_series(1, 100) g;
INSERT INTO rep_child SELECT g, 1 + g % 100 FROM generate_series(1, 1000) g;
SQL
cat > "$DIR/after.sql" <<'SQL'
\set p random(1, 100)
UPDATE rep_parent SET name = 'x' WHERE id = :p RETURNING id, name;
SELECT id, parent_id FROM rep_child WHERE parent_id IN (:p) ORDER BY id;
SQL
cat > "$DIR/inside.sql" <<'SQL'
\set p random(1, 100)
BEGIN;
UPDATE rep_parent SET name = 'x' WHERE id = :p RETURNING id, name;
SELECT id, parent_id FROM rep_child WHERE parent_id IN (:p) ORDER BY id;
COMMIT;
SQL
for s in after inside after inside; do
  printf '%-7s ' "$s"
  pgbench -h 127.0.0.1 -U baas -n -c 1 -T "$SECS" -M prepared \
    -f "$DIR/$s.sql" baas_parity 2>/dev/null | grep -E '^(tps|latency average)' | tr '\n' ' '
  echo
done
