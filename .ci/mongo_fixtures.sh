#!/usr/bin/env bash
# Load the Chinook fixture into the MongoDB-wire server started by
# .ci/mongo.sh (database `chinook`, dropped and reloaded on every run, so
# running it twice leaves the same data). Uses the pymongo that SecantusDB's
# virtualenv ships.
set -euo pipefail
FIXTURES=${BAAS_FIXTURES:-$(cd "$(dirname "$0")/../.." && pwd)/shared/fixtures}
PREFIX=${TEST_SERVERS_PREFIX:-/opt/test-servers}
URL=${BAAS_TEST_MONGO_URL:-mongodb://127.0.0.1:27017/chinook?directConnection=true}
[ -f "$FIXTURES/chinook/ChinookData.json" ] || { echo "fixtures not found in $FIXTURES/chinook" >&2; exit 1; }
"$PREFIX/secantus-venv/bin/python3" "$(dirname "$0")/mongo_chinook.py" "$URL" "$FIXTURES/chinook/ChinookData.json"
