#!/usr/bin/env bash
# Side by side with the producers' own verifiers on the same data, in one run
# (docs/performance.md, "Against AGT's and asqav's verifiers"). Not part of the tests.
#
#   bench/compare-peers.sh [RUNS]        (default 3 runs of each; medians)
#
# Installs the producers' packages, pinned, into the venv ($VENV, default /work/venv):
# agent-governance-toolkit-core 5.0.0 (AGT) and asqav[cli] 0.10.14. Generates (or reuses) two of
# the benchmark's inputs with examples/bench.rs and times both tools on each with the
# benchmark's timer (/usr/bin/time: wall, peak RSS, CPU; it waits for a quiet machine and repeats
# runs that other processes disturbed; AUDIT_VERIFY_BENCH_NO_WAIT=1 turns that off):
#
# * agt-hmac-1m: 1,000,000 AGT FileAuditSink lines in one file and the HMAC secret next to it.
#   AGT: HashChainVerifier().verify_file(path, secret) (agentmesh.governance.audit_backends),
#   which must return (True, []). audit-verify: --hmac-key-file, exit 0.
# * asqav-ed25519-100k: an asqav Audit Pack of 100,000 Ed25519-signed receipts (four agents,
#   signed bytes included) with an Ed25519 bundle signature, and its key directory next to it.
#   asqav: `asqav audit-pack verify --offline PACK --jwks KEYS`. audit-verify: --keys KEYS, exit 0.
#   The receipts carry no time anchors (neither do the packs of asqav's own samples), and without
#   a verified anchor asqav never reports a receipt "verified" offline: it exits 2, "not
#   verifiable offline". The script accepts that verdict only when the bundle signature is
#   valid, nothing is invalid, and for every receipt the signature is valid, the chain link
#   rederives and the missing anchor is the only reason given; anything else stops it.
set -euo pipefail
runs=${1:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-/work/venv}
cd "$root"

"$venv/bin/pip" install --quiet "asqav[cli]==0.10.14" "agent-governance-toolkit-core==5.0.0"
cargo build --quiet --release --bin audit-verify --example bench
target=${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')}
inputs=$("$target/release/examples/bench" --gen-only --only asqav-ed25519-100k,agt-hmac-1m)
pack=$(grep '/asqav-ed25519-100k-' <<<"$inputs")
sink=$(grep '/agt-hmac-1m-' <<<"$inputs")
jwks=${pack%.json}.jwks.json
hmac_key=${sink%.jsonl}.hmac-key
sink_records=$(wc -l <"$sink")
pack_records=100000
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# timed NAME CMD...: RUNS runs under the benchmark's timer, which waits for a quiet machine and
# repeats runs disturbed by other processes, and stops unless CMD exits 0; writes
# "median_wall median_rss_kib cpu others" to $out/NAME.time.
timed() {
    local name=$1
    shift
    "$target/release/examples/bench" --time "$runs" -- "$@" >"$out/$name.time"
}

agt_verify='
import sys, warnings
warnings.simplefilter("ignore", DeprecationWarning)
from agentmesh.governance.audit_backends import HashChainVerifier
with open(sys.argv[2], "rb") as f:
    secret = f.read()
ok, errors = HashChainVerifier().verify_file(sys.argv[1], secret)
with open(sys.argv[3], "w") as f:
    print(f"valid={ok} errors={len(errors)}", *errors[:10], sep="\n", file=f)
sys.exit(0 if ok and not errors else 1)
'
# asqav exits 2 ("not verifiable offline") for receipts without anchors; its report is checked
# below, after the timed runs.
asqav_verify='"$0" audit-pack verify --offline "$1" --jwks "$2" >"$3"; test $? -eq 2'

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "AGT sink: $sink ($sink_records lines, $(wc -c <"$sink") bytes), secret: $hmac_key"
echo "asqav pack: $pack ($pack_records receipts, $(wc -c <"$pack") bytes), keys: $jwks"
echo "$runs runs each, medians"

timed agt "$venv/bin/python" -c "$agt_verify" "$sink" "$hmac_key" "$out/agt.txt"
read -r agt_wall agt_rss agt_cpu agt_other <"$out/agt.time"
head -n 1 "$out/agt.txt" | grep -qx 'valid=True errors=0' || {
    echo "AGT's verifier does not find the sink valid:" >&2
    cat "$out/agt.txt" >&2
    exit 1
}
timed us1 "$target/release/audit-verify" --quiet "$sink" --hmac-key-file "$hmac_key"
read -r us1_wall us1_rss us1_cpu us1_other <"$out/us1.time"

timed asqav bash -c "$asqav_verify" "$venv/bin/asqav" "$pack" "$jwks" "$out/asqav.txt"
read -r aq_wall aq_rss aq_cpu aq_other <"$out/asqav.time"
report=$out/asqav.txt
count() { grep -c -- "$1" "$report" || true; }
expect() {
    local n
    n=$(count "$2")
    if [ "$n" != "$1" ]; then
        echo "asqav's report: expected $1 lines matching '$2', found $n:" >&2
        head -n 20 "$report" >&2
        exit 1
    fi
}
expect 1 '^  \[  ok\] bundle   bundle signature valid under key '
expect "$pack_records" '^  \[skip\] sig_bench[0-9]*  not verifiable offline: anchors: no anchors on this receipt$'
expect "$pack_records" '^         signature: signature valid$'
expect "$pack_records" '^         chain: \(chain link rederives from predecessor\|first receipt on chain (all-zero seed)\)$'
expect 0 'FAIL'
expect 1 "=> not verifiable offline: 0/$pack_records verified, $pack_records not verifiable offline, 0 invalid"
timed us2 "$target/release/audit-verify" --quiet "$pack" --keys "$jwks"
read -r us2_wall us2_rss us2_cpu us2_other <"$out/us2.time"

echo
echo "| verifier | input | records | wall s | records/s | peak RSS MiB | CPU s | others' load | verdict |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---|"
row() {
    awk -v n="$1" -v i="$2" -v r="$3" -v w="$4" -v m="$5" -v c="$6" -v o="$7" -v v="$8" \
        'BEGIN {printf "| %s | %s | %d | %.2f | %.0f | %.1f | %.2f | %.0f%% | %s |\n", n, i, r, w, r/w, m/1024, c, o*100, v}'
}
row "AGT HashChainVerifier (agent-governance-toolkit-core 5.0.0)" agt-hmac-1m "$sink_records" \
    "$agt_wall" "$agt_rss" "$agt_cpu" "$agt_other" "valid (True, no errors)"
row "audit-verify" agt-hmac-1m "$sink_records" "$us1_wall" "$us1_rss" "$us1_cpu" "$us1_other" \
    "verified (exit 0)"
row "asqav audit-pack verify --offline (asqav 0.10.14)" asqav-ed25519-100k "$pack_records" \
    "$aq_wall" "$aq_rss" "$aq_cpu" "$aq_other" \
    "bundle ok, every signature and link valid; exit 2: no anchors"
row "audit-verify" asqav-ed25519-100k "$pack_records" "$us2_wall" "$us2_rss" "$us2_cpu" \
    "$us2_other" "verified (exit 0)"
echo
ratio() {
    awk -v n="$1" -v a="$2" -v u="$3" -v am="$4" -v um="$5" -v ac="$6" -v uc="$7" 'BEGIN {
        mem = am >= um ? sprintf("%.1fx less peak memory", am/um) : sprintf("%.1fx more peak memory", um/am)
        printf "%s: audit-verify takes %.1fx less wall time (target: at least 10x), %.1fx less CPU, %s\n", n, a/u, ac/uc, mem
    }'
}
ratio "against AGT's HashChainVerifier" "$agt_wall" "$us1_wall" "$agt_rss" "$us1_rss" \
    "$agt_cpu" "$us1_cpu"
ratio "against asqav's offline pack verifier" "$aq_wall" "$us2_wall" "$aq_rss" "$us2_rss" \
    "$aq_cpu" "$us2_cpu"
