#!/usr/bin/env bash
# The benchmark of issue 7 (docs/performance.md), in one command:
#
#   bench/run.sh [--runs N] [--dir DIR] [--only NAME,..] [--jobs N] [--no-bounds] [--gen-only]
#
# Builds the release binary and the benchmark first (nothing compiles while measuring), then runs
# examples/bench.rs: it generates its inputs deterministically into DIR (default
# $AUDIT_VERIFY_BENCH_DIR or /tmp/audit-verify-bench; cached by a hash of the generator
# parameters, never committed), measures the bounds and prints a Markdown table of medians.
# Run it on a quiet machine: other builds on the same cores skew every figure.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --quiet --release --bin audit-verify --example bench
target=${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')}
exec "$target/release/examples/bench" "$@"
