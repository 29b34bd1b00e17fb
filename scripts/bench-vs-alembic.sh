#!/usr/bin/env bash
# alembic-tui against alembic itself on generated projects of 2,000 and 10,000 revisions, same
# machine, same run: `heads` and `history`, wall time of the whole command (hyperfine). alembic-tui
# runs twice: with its header cache warm (what a user sees from the second command on) and cold
# (the cache emptied before every run: every file parsed).
# Usage: scripts/bench-vs-alembic.sh  (after scripts/test.sh has made .venv; ALEMBIC_TUI_PYTHON
# names another Python with alembic)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
cargo build --release --quiet --bin alembic-tui --example gen_project
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tui="$PWD/target/release/alembic-tui"
py="${ALEMBIC_TUI_PYTHON:-$PWD/.venv/bin/python}"
export ALEMBIC_TUI_DATA_DIR="$work/data"
for n in 2000 10000; do
  target/release/examples/gen_project "$n" "$work/p$n"
  # Files changed less than 2 s before the cache stored them are checked by content on every
  # run (coarse file-system clocks); a real project's files are older than that.
  sleep 3
  (
    cd "$work/p$n"
    for cmd in heads history; do
      hyperfine --warmup 1 --runs "${RUNS:-5}" -N --export-markdown "$work/$cmd$n.md" \
        --prepare true --prepare "rm -rf $work/data/parse-cache" --prepare true \
        -n "alembic-tui $cmd (cache warm)" -n "alembic-tui $cmd (cache cold)" -n "alembic $cmd" \
        "$tui $cmd" "$tui $cmd" "$py -m alembic $cmd" >/dev/null
    done
  )
  echo "### $n revisions"; cat "$work/heads$n.md" "$work/history$n.md"; echo
done
