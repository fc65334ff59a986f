#!/usr/bin/env bash
# Where a corpus's coverage is: replays it under the AddressSanitizer build with
# -print_coverage=1 (the sanitizer runtime symbolizes the edges) and attributes the edges to
# this crate's files, its dependencies and the standard library (coverage.py).
#
#   fuzz/coverage.sh verify_run                          # the committed corpus, per crate file
#   fuzz/coverage.sh verify_run OLD_DIR NEW_DIR          # edges gained from one corpus to another
#   fuzz/coverage.sh --gaps verify_run                   # functions reached, not covered wholly
#   fuzz/coverage.sh --gaps verify_run sigcheck::check   # their lines with uncovered edges
#   fuzz/coverage.sh --noise verify_run                  # edges that differ between replays
#   REPLAYS=3 fuzz/coverage.sh verify_run OLD_DIR NEW_DIR  # gained in every replay (see coverage.py)
#
# The replay does not fuzz: -runs=0 runs each input once. FUZZ_TARGET_DIR as in run.sh
# (default $CARGO_TARGET_DIR/fuzz-asan, else fuzz/target-asan). Needs llvm-symbolizer on PATH.
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
gaps=
noise=
if [ "${1:-}" = --gaps ]; then
  gaps=1
  shift
elif [ "${1:-}" = --noise ]; then
  noise=1
  shift
fi
replays=${REPLAYS:-1}
target=${1:?usage: fuzz/coverage.sh [--gaps | --noise] TARGET [OLD_CORPUS NEW_CORPUS | NAME]}
target_dir=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:+$CARGO_TARGET_DIR/fuzz-asan}}
target_dir=${target_dir:-$here/target-asan}
cargo +nightly fuzz build -s address --target-dir "$target_dir" "$target" >&2
triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin="$target_dir/$triple/release/$target"
out=$(mktemp -d)
replay() {
  ASAN_OPTIONS=detect_leaks=0 "$bin" -runs=0 -rss_limit_mb=4096 -print_coverage=1 "$1" >"$2" 2>&1
}
# replays CORPUS NAME [N]: N replays (default $replays) of CORPUS; sets $files to their files,
# comma-separated. Called directly, not in $(...), so that a failing replay stops the script.
replays() {
  local i
  files=
  for i in $(seq 1 "${3:-$replays}"); do
    replay "$1" "$out/$2.$i.txt"
    files+="${files:+,}$out/$2.$i.txt"
  done
}
if [ -n "$gaps" ]; then
  replay "$here/corpus/$target" "$out/now.txt"
  python3 "$here/coverage.py" --gaps "$out/now.txt" ${2:+"$2"}
elif [ -n "$noise" ]; then
  replays "$here/corpus/$target" now "$(( replays > 1 ? replays : 3 ))"
  python3 "$here/coverage.py" --noise "$files"
elif [ $# -ge 3 ]; then
  replays "$2" old
  old=$files
  replays "$3" new
  python3 "$here/coverage.py" "$old" "$files"
else
  replay "$here/corpus/$target" "$out/now.txt"
  python3 "$here/coverage.py" "$out/now.txt"
fi
