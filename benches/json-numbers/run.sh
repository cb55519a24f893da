#!/usr/bin/env bash
# Build the bench twice (serde_json without / with arbitrary_precision) and
# run each twice, alternating: compare the lines of one run.
set -euo pipefail
cd "$(dirname "$0")"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/json-numbers-target}
cargo build --release -q && cp "$CARGO_TARGET_DIR/release/json-numbers" "$CARGO_TARGET_DIR/off"
cargo build --release -q --features ap && cp "$CARGO_TARGET_DIR/release/json-numbers" "$CARGO_TARGET_DIR/on"
for _ in 1 2; do
  echo "without: $("$CARGO_TARGET_DIR/off")"
  echo "with:    $("$CARGO_TARGET_DIR/on")"
done
