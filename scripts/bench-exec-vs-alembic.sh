#!/usr/bin/env bash
# `alembic-tui upgrade heads --yes` against `alembic upgrade heads` on a generated 200-revision
# project (branches, merges), base to heads on a fresh database each run, same machine, same run,
# against a throwaway PostgreSQL this script starts. alembic-tui's time includes rendering the SQL
# through alembic's offline mode (cold cache) — and, as a second row, with the render cache warm.
# Usage: scripts/bench-exec-vs-alembic.sh  (after scripts/test.sh has made .venv; RUNS=N, REVS=N)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
command -v hyperfine >/dev/null || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null; }
bindir=${ALEMBIC_TUI_PG_BINDIR:-}
if [ -z "$bindir" ]; then
  for d in "$(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || echo /nonexistent)")")" \
           "$(pg_config --bindir 2>/dev/null || true)" $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/postgres" ]; then bindir=$d; break; fi
  done
fi
[ -n "$bindir" ] || { echo "no PostgreSQL server binaries; run scripts/test.sh first" >&2; exit 1; }
cargo build --release --quiet --bin alembic-tui --example gen_project
target_dir=${CARGO_TARGET_DIR:-$repo/target}
work=$(mktemp -d)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$bindir/initdb" -D "$work/data" -A trust -U postgres --no-sync >/dev/null
as_pg "$bindir/pg_ctl" -D "$work/data" -l "$work/log" -w -o "-k $work -p $port -c listen_addresses=''" start >/dev/null
trap 'as_pg "$bindir/pg_ctl" -D "$work/data" -m fast stop >/dev/null; rm -rf "$work"' EXIT
url="postgresql://postgres@/bench?host=$work&port=$port"
n=${REVS:-200}
"$target_dir/release/examples/gen_project" "$n" "$work/p" --executable --url "postgresql+psycopg://postgres@/bench?host=$work&port=$port"
printf 'default_profile: b\nprofiles:\n  b:\n    alembic: %s -m alembic\n' "$repo/.venv/bin/python" >"$work/p/alembic-tui.yaml"
fresh="psql -q 'postgresql://postgres@/postgres?host=$work&port=$port' -c 'DROP DATABASE IF EXISTS bench' -c 'CREATE DATABASE bench' >/dev/null"
export ALEMBIC_TUI_DATA_DIR="$work/tui-data"
cd "$work/p"
hyperfine --runs "${RUNS:-5}" -N --export-markdown "$work/exec.md" \
  --prepare "sh -c \"rm -rf '$work/tui-data'; $fresh\"" -n "alembic-tui (render included, cold cache)" \
    "$target_dir/release/alembic-tui --url $url upgrade heads --yes" \
  --prepare "sh -c \"$fresh\"" -n "alembic-tui (render cache warm)" \
    "$target_dir/release/alembic-tui --url $url upgrade heads --yes" \
  --prepare "sh -c \"$fresh\"" -n "alembic upgrade heads" \
    "$repo/.venv/bin/python -m alembic upgrade heads" >/dev/null
echo "### upgrade base → heads, $n revisions"; cat "$work/exec.md"
