#!/usr/bin/env bash
# Side by side with aat-verify 0.1.0 (the AAT reference verifier, PyPI) on the same data, in one
# run (docs/performance.md). Not part of the tests.
#
#   bench/compare-aat-verify.sh [RUNS]        (default 3 runs of each; medians)
#
# Installs aat-verify into the venv ($VENV, default /work/venv), generates an 84,000-record
# ES256 trail it can read (one session, integer trust_level: it crashes on the draft's strings,
# formats/aat.md §10.1; under its 64 MiB input limit) with examples/bench.rs, and times both
# tools with the benchmark's timer (/usr/bin/time: wall, peak RSS, CPU; it waits for a quiet
# machine and repeats runs that other processes disturbed; AUDIT_VERIFY_BENCH_NO_WAIT=1 turns
# that off). The keys are testdata/keys/gen.keys.json, the aat-verify keystore shape, which
# audit-verify also reads.
#
# AGT's HashChainVerifier and asqav's offline verifier: bench/compare-peers.sh.
set -euo pipefail
runs=${1:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-/work/venv}
cd "$root"

"$venv/bin/pip" install --quiet aat-verify==0.1.0
cargo build --quiet --release --bin audit-verify --example bench
target=${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')}
trail=$("$target/release/examples/bench" --gen-only --only aatv-es256-84k | tail -n 1)
keys="$root/testdata/keys/gen.keys.json"
records=$(wc -l < "$trail")
bytes=$(wc -c < "$trail")

# run CMD...: RUNS runs under the benchmark's timer, which waits for a quiet machine and
# repeats runs disturbed by other processes; prints "median_wall median_rss_kib cpu others".
run() {
    "$target/release/examples/bench" --time "$runs" -- "$@"
}

echo "trail: $trail ($records records, $bytes bytes), keys: $keys, $runs runs each, medians"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
read -r av_wall av_rss av_cpu av_other < <(run "$venv/bin/aat-verify" "$trail" --keys "$keys")
read -r us_wall us_rss us_cpu us_other < <(run "$target/release/audit-verify" --quiet "$trail" --keys "$keys")
echo
echo "| verifier | wall s | records/s | peak RSS MiB | CPU s | others' load |"
echo "|---|---:|---:|---:|---:|---:|"
row() {
    awk -v n="$1" -v r="$records" -v w="$2" -v m="$3" -v c="$4" -v o="$5" \
        'BEGIN {printf "| %s | %.2f | %.0f | %.1f | %.2f | %.0f%% |\n", n, w, r/w, m/1024, c, o*100}'
}
row "aat-verify 0.1.0" "$av_wall" "$av_rss" "$av_cpu" "$av_other"
row "audit-verify" "$us_wall" "$us_rss" "$us_cpu" "$us_other"
echo
awk -v a="$av_wall" -v u="$us_wall" -v am="$av_rss" -v um="$us_rss" \
    'BEGIN {printf "audit-verify: %.1fx less wall time, %.1fx less peak memory (target: at least 4x less wall)\n", a/u, am/um}'
