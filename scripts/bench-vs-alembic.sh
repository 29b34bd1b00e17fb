#!/usr/bin/env bash
# alembic-tui against alembic itself on generated projects of 2,000 and 10,000 revisions, same
# machine, same run: `heads` and `history`, wall time of the whole command (hyperfine).
# Usage: scripts/bench-vs-alembic.sh  (after scripts/test.sh has made .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
cargo build --release --quiet --bin alembic-tui --example gen_project
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tui="$PWD/target/release/alembic-tui"
py="$PWD/.venv/bin/python"
for n in 2000 10000; do
  target/release/examples/gen_project "$n" "$work/p$n"
  (
    cd "$work/p$n"
    hyperfine --warmup 1 --runs "${RUNS:-5}" -N --export-markdown "$work/heads$n.md" \
      "$tui heads" "$py -m alembic heads" >/dev/null
    hyperfine --warmup 1 --runs "${RUNS:-5}" -N --export-markdown "$work/history$n.md" \
      "$tui history" "$py -m alembic history" >/dev/null
  )
  echo "### $n revisions"; cat "$work/heads$n.md" "$work/history$n.md"; echo
done
