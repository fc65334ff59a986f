#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each, one after another (one fuzzer process at a time:
# -jobs=1 -workers=1), then prints executions and coverage per target.
#
#   fuzz/run.sh 60                 # every target, 60 s each
#   fuzz/run.sh 300 verify_run     # some targets only
#
# The targets are built once (cargo fuzz build) and the binaries run directly, so editing the
# sources while the script runs does not trigger rebuilds. Environment: SANITIZER (default
# none: the crate forbids unsafe code; set address to also check aws-lc's C code),
# FUZZ_TARGET_DIR (cargo target dir; default $CARGO_TARGET_DIR/fuzz, else fuzz/target),
# FUZZ_ARGS (extra libFuzzer flags, e.g. -rss_limit_mb=1024). Every target gets the dictionary
# dict/common.dict (edge numbers, escapes, the formats' member names; dict/make.py writes it).
# Crashes land in
# fuzz/artifacts/<target>/; the script exits 1 if any target found one. Needs a nightly
# toolchain and cargo-fuzz (cargo install cargo-fuzz).
set -uo pipefail
cd "$(dirname "$0")"
here=$(pwd)

seconds=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
sanitizer=${SANITIZER:-none}
target_dir=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:+$CARGO_TARGET_DIR/fuzz}}
target_dir=${target_dir:-$here/target}
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

cargo +nightly fuzz build -s "$sanitizer" --target-dir "$target_dir" || exit 2
triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin_dir="$target_dir/$triple/release"

logs=$(mktemp -d)
summary=()
failed=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  # Failures: crash-, leak-, timeout- and oom- artifacts. A slow-unit- artifact only says that an
  # input took long (a paused fuzzer makes one too); it is listed, not counted as a failure.
  failures() { find "artifacts/$t" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l; }
  before=$(failures)
  slow_before=$(find "artifacts/$t" -type f -name 'slow-unit-*' | wc -l)
  echo "== $t: ${seconds}s" >&2
  # In -jobs mode libFuzzer writes the worker's output to fuzz-<n>.log in the current directory.
  (cd "$logs" && rm -f fuzz-0.log && "$bin_dir/$t" \
      -max_total_time="$seconds" -jobs=1 -workers=1 -print_final_stats=1 \
      -artifact_prefix="$here/artifacts/$t/" -dict="$here/dict/common.dict" ${FUZZ_ARGS:-} \
      "$here/corpus/$t" \
      >"$logs/$t.out" 2>&1)
  log="$logs/fuzz-0.log"
  [ -f "$log" ] || log="$logs/$t.out"
  cp "$log" "$logs/$t.log" 2>/dev/null
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  rss=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$')
  last=$(grep -E '^#[0-9]+' "$log" | grep -o 'cov: [0-9]* ft: [0-9]* corp: [0-9]*' | tail -1)
  # Plateau: the execution at which the edge coverage last grew, as a share of the run.
  last_cov=$(grep -E '^#[0-9]+' "$log" | awk '{n=substr($1,2); for(i=1;i<=NF;i++) if($i=="cov:") c=$(i+1);
      if(c>best){best=c; at=n}} END {print at+0}')
  after=$(failures)
  crashes=$((after - before))
  slow=$(( $(find "artifacts/$t" -type f -name 'slow-unit-*' | wc -l) - slow_before ))
  [ "$crashes" -gt 0 ] && failed=1
  grew=$(awk -v a="${last_cov:-0}" -v e="${execs:-0}" 'BEGIN {if (e > 0) printf "%d%%", 100*a/e; else print "?"}')
  summary+=("$(printf '%-14s execs %-10s exec/s %-7s %-36s cov_last_grew_at %-6s peak_rss_mb %-6s new_crashes %s slow_units %s' \
    "$t" "${execs:-?}" "${rate:-?}" "${last:-cov: ?}" "$grew" "${rss:-?}" "$crashes" "$slow")")
done

echo
echo "target         results (${seconds}s each, sanitizer $sanitizer; logs in $logs)"
printf '%s\n' "${summary[@]}"
exit $failed
