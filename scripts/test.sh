#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine or a warm checkout:
#   1. PostgreSQL server binaries, tmux and openssl (apt) when missing,
#   2. a Python venv in .venv with alembic, SQLAlchemy and psycopg (the reference the tests compare with)
#      and squawk-cli (the migration linter tests/squawk_parity.rs compares with),
#   3. cargo fmt --check, clippy -D warnings, cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

say() { printf '\n== %s  (%ss)\n' "$*" "$SECONDS"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "need root (or sudo) to run: $*" >&2; return 1; fi
}

apt_updated=
apt_install() {
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

# The directory holding initdb, pg_ctl and postgres: through PATH, then pg_config --bindir, then
# the distribution's layout (highest version first). A candidate lacking one of the three is
# skipped (an initdb on PATH may be a wrapper or a client-only install).
pg_bindir() {
  local d candidates=()
  if command -v initdb >/dev/null 2>&1; then candidates+=("$(dirname "$(readlink -f "$(command -v initdb)")")"); fi
  if command -v pg_config >/dev/null 2>&1; then candidates+=("$(pg_config --bindir 2>/dev/null || true)"); fi
  while IFS= read -r d; do candidates+=("$d"); done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5 -V -r)
  for d in "${candidates[@]}"; do
    if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && [ -x "$d/postgres" ]; then echo "$d"; return; fi
  done
}

say "system packages"
if [ -z "$(pg_bindir)" ]; then echo "installing PostgreSQL server binaries"; apt_install postgresql; fi
command -v tmux >/dev/null 2>&1 || { echo "installing tmux"; apt_install tmux; }
command -v python3 >/dev/null 2>&1 || { echo "installing python3"; apt_install python3 python3-venv; }
# The test clusters run as `postgres` when we are root (the server refuses root); Debian's package
# creates that user, PostgreSQL binaries from elsewhere may not have.
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  echo "creating the postgres system user"
  useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/sh postgres
fi
# The TLS tests make a test CA and server certificate with the openssl command.
command -v openssl >/dev/null 2>&1 || { echo "installing openssl"; apt_install openssl; }
ALEMBIC_TUI_PG_BINDIR=$(pg_bindir)
export ALEMBIC_TUI_PG_BINDIR
echo "PostgreSQL binaries: $ALEMBIC_TUI_PG_BINDIR"

say "python venv (.venv)"
# alembic 1.20.1 is the version the reference vectors (shared/vectors) were recorded with; if pip
# cannot get it, the newest 1.x is the next best reference (and says so).
alembic_pin="alembic==1.20.1"
alembic_fallback="alembic>=1,<2"
others=("SQLAlchemy>=2,<3" "psycopg[binary]>=3.1,<4" "squawk-cli>=2.70,<3")
venv_ok() {
  [ -x .venv/bin/python ] && .venv/bin/python - <<'PY' 2>/dev/null
import alembic, sqlalchemy, psycopg
from importlib.metadata import version
import os
if os.path.exists(".venv/alembic-fallback"):  # the pin was unavailable when the venv was made
    assert alembic.__version__.startswith("1."), alembic.__version__
else:
    assert alembic.__version__ == "1.20.1", alembic.__version__
assert sqlalchemy.__version__.startswith("2."), sqlalchemy.__version__
assert version("psycopg").startswith("3."), version("psycopg")
version("psycopg-binary")
assert version("squawk-cli").startswith("2."), version("squawk-cli")
assert os.path.exists(".venv/bin/squawk")
PY
}
pip_install() { .venv/bin/pip install --quiet --disable-pip-version-check "$@"; }
if ! venv_ok; then
  rm -rf .venv
  if ! python3 -m venv .venv; then
    # Debian's python3 needs python3-venv (ensurepip) for this.
    rm -rf .venv
    echo "installing python3-venv"
    apt_install python3-venv
    python3 -m venv .venv
  fi
  if ! pip_install "$alembic_pin" "${others[@]}"; then
    echo "WARNING: $alembic_pin unavailable; using the newest alembic 1.x instead" >&2
    pip_install "$alembic_fallback" "${others[@]}"
    touch .venv/alembic-fallback
  fi
  venv_ok || { echo "the venv in .venv lacks alembic/SQLAlchemy/psycopg/squawk-cli after pip" >&2; exit 1; }
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
say "done"
