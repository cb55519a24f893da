#!/usr/bin/env bash
# CSV against JSON answers of the same reads (see bench.mjs). Needs the
# PostgreSQL Chinook (bash .ci/fixtures.sh) and the JS clients'
# node_modules (cd tests/js && npm ci).
# Usage: bash benches/csv/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
TARGET=${CARGO_TARGET_DIR:-target}
BIN=${BAAS_BIN:-$TARGET/debug/baas}
[ -x "$TARGET/release/baas" ] && [ -z "${BAAS_BIN:-}" ] && BIN=$TARGET/release/baas
echo "binary: $BIN"
BAAS_BIN="$BIN" node benches/csv/bench.mjs
