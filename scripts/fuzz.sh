#!/usr/bin/env bash
# Runs libFuzzer targets of the fuzz build for SECONDS each: `scripts/fuzz.sh SECONDS [target...]` (default: one
# target per folder of Fuzz/Seeds). New inputs go to .build-fuzz/corpus/<target>/, crash files to
# .build-fuzz/crashes/<target>/, full logs to .build-fuzz/logs/<target>.log; Fuzz/Seeds is only read.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
bin=${FUZZ_BIN:-.build-fuzz/release/SentryFuzz}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for folder in Fuzz/Seeds/*/; do targets+=("$(basename "$folder")"); done
fi
mkdir -p .build-fuzz/logs
failed=()
for target in "${targets[@]}"; do
  corpus=.build-fuzz/corpus/$target
  crashes=.build-fuzz/crashes/$target/
  log=.build-fuzz/logs/$target.log
  mkdir -p "$corpus" "$crashes"
  # Swift's runtime keeps metadata caches for the life of the process, which LeakSanitizer would report; and
  # Swift's own backtracer must leave crashes to libFuzzer, which saves the input.
  if ASAN_OPTIONS=detect_leaks=0 SWIFT_BACKTRACE=enable=no "$bin" "$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$crashes" -print_final_stats=1 "$corpus" "Fuzz/Seeds/$target" >"$log" 2>&1; then
    done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "$target: ${runs:-?} runs in ${seconds}s; ${done_line:-no DONE line}"
  else
    echo "$target: FAILED (log $log, inputs in $crashes)"
    grep -E 'property failed|Fatal error|ERROR: |SUMMARY: |Test unit written' "$log" | head -8 || tail -20 "$log"
    failed+=("$target")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz targets failed: ${failed[*]}"
  exit 1
fi
