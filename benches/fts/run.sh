#!/usr/bin/env bash
# Full-text search against `ilike` on the same column (see bench.mjs).
# Needs the PostgreSQL and MongoDB Chinook (bash .ci/fixtures.sh,
# bash .ci/mongo_fixtures.sh) and the JS clients' node_modules
# (cd tests/js && npm ci); builds a SQLite Chinook from the shared fixture.
# Usage: bash benches/fts/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${BAAS_BIN:-$TARGET/debug/baas}
[ -x "$TARGET/release/baas" ] && [ -z "${BAAS_BIN:-}" ] && BIN=$TARGET/release/baas
FIXTURES=${BAAS_FIXTURES:-$(cd .. && pwd)/shared/fixtures}
DB=$(mktemp -d)/chinook.db
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.executescript(open(sys.argv[2], encoding='utf-8-sig').read()); c.commit()" "$DB" "$FIXTURES/chinook/Chinook_Sqlite.sql"
echo "binary: $BIN"
BAAS_BIN="$BIN" FTS_SQLITE="$DB" node benches/fts/bench.mjs
