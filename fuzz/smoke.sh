#!/usr/bin/env bash
# A short run of every fuzz target, so the targets keep building and their properties
# keep holding on the checked-in corpus: `.ci/run` calls this. Long runs (10 million
# executions a target) are made by hand; RESULTS.md says how and what they found.
#
# cargo-fuzz runs on the stable toolchain with `-s none`: no sanitizer, so no `-Z` flag
# reaches rustc. libFuzzer's own limits still catch runaway memory (-rss_limit_mb) and
# hangs (-timeout). The build is cargo-fuzz's `--dev` build, optimised only where the
# targets spend their time (fuzz/Cargo.toml): 5.8 CPU-minutes against 9.5 for the release
# build the long runs use, and fast enough to run thousands of inputs a second.
#
# Usage: fuzz/smoke.sh [SECONDS_PER_TARGET] [TARGET...]   (default 20 s, every target)
# FUZZ_TARGET_DIR sets the build folder (default target/fuzz in the checkout).
set -euo pipefail
cd "$(dirname "$0")"

secs="${1:-20}"
shift || true
target_dir="${FUZZ_TARGET_DIR:-$PWD/../target/fuzz}"
mapfile -t targets < <(if [ $# -gt 0 ]; then printf '%s\n' "$@"; else cargo fuzz list; fi)

cargo fuzz build --dev --sanitizer none --target-dir "$target_dir"
bin="$target_dir/x86_64-unknown-linux-gnu/debug"

# New inputs go to a scratch folder; the checked-in seeds are read, never written.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
run() {
  local t="$1"
  mkdir -p "$work/$t"
  if "$bin/$t" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$work/$t-" "$work/$t" "corpus/$t" > "$work/$t.log" 2>&1; then
    echo "fuzz $t: ok, $(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log") runs in ${secs} s"
  else
    {
      echo "fuzz $t: FAILED; the end of its log:"
      tail -n 40 "$work/$t.log"
      for crash in "$work/$t"-*; do
        [ -e "$crash" ] && echo "  input (base64): $(base64 -w0 < "$crash")"
      done
    } > "$work/$t.failed"
    cat "$work/$t.failed"
  fi
}
# Two targets at a time: one per core of a small CI machine.
for t in "${targets[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge 2 ]; do wait -n || true; done
  run "$t" &
done
wait
failed=()
for t in "${targets[@]}"; do
  [ -e "$work/$t.failed" ] && failed+=("$t")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz targets failed: ${failed[*]} (replay with: $bin/<target> <input file>)"
  exit 1
fi
