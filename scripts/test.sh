#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine or a warm checkout:
#   1. PostgreSQL server binaries, tmux and openssl (apt) when missing,
#   2. a Python venv in .venv with alembic, SQLAlchemy and psycopg (the reference the tests compare with),
#   3. cargo fmt --check, clippy -D warnings, cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

say() { printf '\n== %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# Where initdb lives: PATH, then pg_config --bindir, then the distribution's layout (newest first).
pg_bindir() {
  if command -v initdb >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v initdb)")"; return; fi
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return; fi
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r); do
    if [ -x "$d/initdb" ]; then echo "$d"; return; fi
  done
}

say "system packages"
if [ -z "$(pg_bindir)" ]; then echo "installing PostgreSQL server binaries"; apt_install postgresql; fi
command -v tmux >/dev/null 2>&1 || { echo "installing tmux"; apt_install tmux; }
# The TLS tests make a test CA and server certificate with the openssl command.
command -v openssl >/dev/null 2>&1 || { echo "installing openssl"; apt_install openssl; }
ALEMBIC_TUI_PG_BINDIR=$(pg_bindir)
export ALEMBIC_TUI_PG_BINDIR
echo "PostgreSQL binaries: $ALEMBIC_TUI_PG_BINDIR"

say "python venv (.venv)"
requirements=("alembic==1.20.1" "SQLAlchemy>=2,<3" "psycopg[binary]>=3.1,<4")
venv_ok() {
  [ -x .venv/bin/python ] && .venv/bin/python - <<'PY' 2>/dev/null
import alembic, sqlalchemy, psycopg
assert alembic.__version__ == "1.20.1", alembic.__version__
PY
}
if ! venv_ok; then
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check "${requirements[@]}"
fi
ALEMBIC_TUI_PYTHON="$repo/.venv/bin/python"
export ALEMBIC_TUI_PYTHON
echo "alembic $("$ALEMBIC_TUI_PYTHON" -c 'import alembic; print(alembic.__version__)') at $ALEMBIC_TUI_PYTHON"

say "cargo fmt --check"
cargo fmt --all -- --check

say "cargo clippy"
cargo clippy --all-targets --quiet -- -D warnings

say "cargo test"
cargo test --all-targets
