#!/usr/bin/env bash
# Install (if missing) and start (if not running) a MongoDB-wire server on
# 127.0.0.1: SecantusDB from PyPI (GPL-2.0 beta software, run only as a
# separate test process, never linked). No registry ships a real `mongod`.
# Idempotent: safe to run any number of times. Data lives in memory, so a
# restart starts empty; .ci/mongo_fixtures.sh (re)loads Chinook.
set -euo pipefail
PREFIX=${TEST_SERVERS_PREFIX:-/opt/test-servers}
RUN=${TEST_SERVERS_RUN:-$PREFIX/run}
MONGO_PORT=${MONGO_PORT:-27017}
LOG_DIR=${LOG_DIR:-/tmp/mini-baas-ci-logs}
mkdir -p "$PREFIX" "$RUN/logs" "$LOG_DIR"
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open "$MONGO_PORT"; then
  if [ ! -x "$PREFIX/secantus-venv/bin/secantusd-py" ]; then
    echo "installing SecantusDB==0.7.0b3 into $PREFIX/secantus-venv"
    python3 -m venv "$PREFIX/secantus-venv"
    "$PREFIX/secantus-venv/bin/pip" install -q SecantusDB==0.7.0b3 >"$LOG_DIR/secantus-pip.log" 2>&1 \
      || { cat "$LOG_DIR/secantus-pip.log" >&2; exit 1; }
  fi
  start-stop-daemon --start --background --make-pidfile --pidfile "$RUN/mongo.pid" \
    --output "$RUN/logs/mongo.log" --exec "$PREFIX/secantus-venv/bin/python3" -- \
    "$PREFIX/secantus-venv/bin/secantusd-py" --host 127.0.0.1 --port "$MONGO_PORT" --storage-path :memory:
  for _ in $(seq 1 120); do port_open "$MONGO_PORT" && break; sleep 0.25; done
  port_open "$MONGO_PORT" || { echo "mongo-wire server never opened port $MONGO_PORT" >&2; tail -n 50 "$RUN/logs/mongo.log" >&2; exit 1; }
fi
echo "mongo-wire server (SecantusDB) is up on 127.0.0.1:$MONGO_PORT"
