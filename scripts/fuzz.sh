#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ one after another, each until it has tried RUNS inputs or
# SECONDS_EACH seconds have passed, whichever comes first, at low CPU priority on one core.
# Not part of CI. Needs a nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
#
#   scripts/fuzz.sh                          # every target, 10 million inputs or 5 minutes each
#   RUNS=1000000 SECONDS_EACH=60 scripts/fuzz.sh url_redactor sql_splitter
#
# A crash or hang is saved under fuzz/artifacts/TARGET/; make it a regression test (see
# tests/hostile_files.rs) before fixing it. Each run's last libFuzzer status line (inputs
# tried, time) is printed at the end, for BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

runs=${RUNS:-10000000}
seconds=${SECONDS_EACH:-300}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(revision_parser ini_reader yaml_config sql_splitter url_redactor)
fi

# Without sanitizers: the code under test has no unsafe of its own, and an uninstrumented build
# tries several times more inputs in the same time. Panics, overflows and hangs are still found.
cargo +nightly fuzz build -s none

summary=()
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  log=$(mktemp)
  echo "== $target: up to $runs inputs or ${seconds}s"
  status=0
  nice -n 19 cargo +nightly fuzz run -s none "$target" "corpus/$target" -- \
    -runs="$runs" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -max_len=65536 -print_final_stats=1 2>&1 | tee "$log" | grep -E '^(#[0-9]+\s+(DONE|pulse)|==|Done|SUMMARY)' || status=$?
  done_line=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  runs_done=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}' || true)
  time_done=$(grep -E '^Done [0-9]+ runs in' "$log" | tail -1 || true)
  if grep -qE '^SUMMARY: libFuzzer|^==[0-9]+== ERROR: libFuzzer|panicked at' "$log"; then
    summary+=("$target: FOUND A PROBLEM (see fuzz/artifacts/$target): $done_line")
  else
    summary+=("$target: ${runs_done:-?} inputs, no crash or hang; ${time_done:-$done_line}")
  fi
  rm -f "$log"
done
printf '\n== summary\n'
printf '%s\n' "${summary[@]}"
