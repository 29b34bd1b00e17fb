#!/usr/bin/env python3
"""Regenerates tests/fixtures/autogen: revision files written by real
`alembic revision --autogenerate` against a real PostgreSQL, one small project per scenario.

Each scenario is a list of model versions. For each version the script writes models.py,
autogenerates a revision against the database (which holds the previous version, upgraded), and
upgrades. Some scenarios then apply a documented hand edit to the last revision, the way a
developer would (emptying a downgrade, deleting a line, adding a data fix), so the review rules
see the shapes people actually commit.

Usage (with the test venv's python, which has alembic, SQLAlchemy and psycopg):
    ALEMBIC_TUI_PG_BINDIR=/usr/lib/postgresql/15/bin .venv/bin/python scripts/autogen_fixtures.py
or point it at a server you own (databases are created and dropped there):
    .venv/bin/python scripts/autogen_fixtures.py --url postgresql://user@host/postgres
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, "tests", "fixtures", "autogen")

ENV_PY = '''\
"""env.py of an autogenerate fixture: online only, models from models.py beside alembic.ini."""
import os
import sys

from alembic import context
from sqlalchemy import engine_from_config, pool

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import models  # noqa: E402

config = context.config
url = os.environ.get("AUTOGEN_FIXTURE_URL")
if url:
    config.set_main_option("sqlalchemy.url", url)

if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=models.metadata,
                      literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=models.metadata,
                          render_as_batch=models.RENDER_AS_BATCH)
        with context.begin_transaction():
            context.run_migrations()
'''

INI = """\
[alembic]
script_location = %(here)s/migrations
sqlalchemy.url = postgresql+psycopg://localhost/autogen_fixture
"""

HEADER = """\
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

RENDER_AS_BATCH = {batch}
metadata = sa.MetaData()
"""

# (label, the model's type, what a second column of another type is) for the rename pairs:
# autogenerate writes the model's spelling in upgrade() and the reflected one in downgrade().
RENAME_TYPES = [
    ("string", "sa.String(50)"),
    ("text", "sa.Text()"),
    ("integer", "sa.Integer()"),
    ("bigint", "sa.BigInteger()"),
    ("smallint", "sa.SmallInteger()"),
    ("boolean", "sa.Boolean()"),
    ("datetime", "sa.DateTime()"),
    ("datetime_tz", "sa.DateTime(timezone=True)"),
    ("date", "sa.Date()"),
    ("time", "sa.Time()"),
    ("interval", "sa.Interval()"),
    ("numeric", "sa.Numeric(10, 2)"),
    ("float", "sa.Float()"),
    ("double", "sa.Double()"),
    ("json", "sa.JSON()"),
    ("jsonb", "postgresql.JSONB()"),
    ("uuid", "sa.Uuid()"),
    ("pg_uuid", "postgresql.UUID(as_uuid=True)"),
    ("array", "postgresql.ARRAY(sa.Integer())"),
    ("enum", "sa.Enum('low', 'high', name='level')"),
    ("pg_enum", "postgresql.ENUM('red', 'blue', name='colour')"),
    ("inet", "postgresql.INET()"),
    ("bytea", "sa.LargeBinary()"),
    ("char", "sa.CHAR(3)"),
]

BATCH_TYPES = ["string", "integer", "datetime_tz", "numeric", "jsonb", "enum"]


def rename_models(types, renamed, batch):
    lines = [HEADER.format(batch=batch)]
    for label in types:
        ty = dict(RENAME_TYPES)[label]
        col = f"{label}_new" if renamed else f"{label}_old"
        lines.append(
            f"sa.Table('r_{label}', metadata, sa.Column('id', sa.Integer(), primary_key=True),\n"
            f"         sa.Column('{col}', {ty}))\n"
        )
    # A look-alike: an integer column dropped and a text column added is not a rename.
    col = "note sa.Text()" if renamed else "qty sa.Integer()"
    name, ty = col.split(" ")
    lines.append(
        f"sa.Table('r_other', metadata, sa.Column('id', sa.Integer(), primary_key=True),\n"
        f"         sa.Column('{name}', {ty}))\n"
    )
    return "\n".join(lines)


def models(body, batch=False):
    return HEADER.format(batch=batch) + "\n" + textwrap.dedent(body)


USERS = """\
users = sa.Table(
    "users", metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("email", sa.String(200), nullable=False, unique=True),
    sa.Column("name", sa.String(80), index=True),
)
"""
ORDERS = """\
orders = sa.Table(
    "orders", metadata,
    sa.Column("id", sa.BigInteger(), primary_key=True),
    sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("total", sa.Numeric(12, 2)),
)
"""
ORDERS_NOTE = ORDERS.replace(
    '    sa.Column("total", sa.Numeric(12, 2)),\n',
    '    sa.Column("total", sa.Numeric(12, 2)),\n    sa.Column("note", sa.Text()),\n',
)
ORDERS_NOTE_IX = ORDERS_NOTE + 'sa.Index("ix_orders_total_note", orders.c.total, orders.c.note)\n'
TAGS = """\
tags = sa.Table(
    "tags", metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("label", sa.String(40), nullable=False),
    sa.UniqueConstraint("label", name="uq_tags_label"),
)
"""

ITEMS = """\
items = sa.Table(
    "items", metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("a", sa.String(50)),
    sa.Column("b", sa.Integer()),
)
"""
ITEMS_CHANGED = """\
items = sa.Table(
    "items", metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("a", sa.String(100), index=True),
    sa.Column("b", sa.Integer(), index=True),
)
moods = sa.Table(
    "moods", metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("mood", sa.Enum("sad", "ok", "happy", name="mood")),
)
"""


def drop_lines(pattern):
    """An edit that deletes the downgrade lines matching `pattern` (a developer trimming it)."""

    def edit(text):
        head, sep, down = text.partition("def downgrade()")
        down = "\n".join(l for l in down.split("\n") if not re.search(pattern, l))
        return head + sep + down

    return edit


def replace_downgrade(new_body):
    """An edit that replaces downgrade()'s commands with `new_body` (keeping alembic's comments)."""

    def edit(text):
        head, sep, down = text.partition("def downgrade()")
        first, _, _ = down.partition("\n    # ### end Alembic commands ###")
        sig, _, _ = first.partition("\n")
        return (head + sep + sig + "\n    # ### commands auto generated by Alembic - please adjust! ###\n"
                + textwrap.indent(new_body, "    ") + "\n    # ### end Alembic commands ###\n")

    return edit


def append_upgrade(lines):
    """An edit that appends `lines` at the end of upgrade() (a data fix after the schema change)."""

    def edit(text):
        marker = "    # ### end Alembic commands ###"
        at = text.index(marker)
        at = at + len(marker)
        return text[:at] + "\n" + textwrap.indent(lines, "    ") + text[at:]

    return edit


# name -> (model versions, {version index: edit of the revision made for that version}, needs)
SCENARIOS = {
    # Every type pair renamed: add + drop in one table, the model spelling against the reflected.
    "renames": ([rename_models([t for t, _ in RENAME_TYPES], False, False),
                 rename_models([t for t, _ in RENAME_TYPES], True, False)], {}),
    # The same under render_as_batch: batch_alter_table blocks.
    "renames_batch": ([rename_models(BATCH_TYPES, False, True),
                       rename_models(BATCH_TYPES, True, True)], {}),
    # A normal autogenerated history: every downgrade is the inverse of its upgrade.
    "noise": ([models(USERS), models(USERS + ORDERS), models(USERS + ORDERS_NOTE),
               models(USERS + ORDERS_NOTE_IX), models(USERS + ORDERS_NOTE_IX + TAGS)], {}),
    # Downgrades emptied or made to raise under upgrades that change the schema.
    "irreversible": ([models(USERS), models(USERS + ORDERS), models(USERS + ORDERS_NOTE)],
                     {0: replace_downgrade("pass"),
                      2: replace_downgrade("raise NotImplementedError('no way back')")}),
    # Downgrades that leave things behind: one of two new indexes, the column type change, and
    # the enum type autogenerate itself never drops.
    "mismatch": ([models(ITEMS), models(ITEMS_CHANGED)],
                 {1: drop_lines(r"ix_items_b|alter_column|existing_type|type_=|existing_nullable")}),
    # Data changed through the connection in a revision that also changes the schema.
    "mixed": ([models(USERS), models(USERS + ORDERS), models(USERS + ORDERS_NOTE)],
              {1: append_upgrade("op.get_bind().execute(sa.text(\"UPDATE users SET name = 'x' "
                                 "WHERE name IS NULL\"))"),
               2: append_upgrade("connection = op.get_bind()\nconnection.execute(sa.text("
                                 "\"UPDATE orders SET note = '' WHERE note IS NULL\"))")}),
}


def run(cmd, cwd=None, env=None, check=True):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


class Cluster:
    """A throwaway server on a unix socket in a temp dir (as `postgres` when we are root)."""

    def __init__(self, bindir):
        self.dir = tempfile.mkdtemp(prefix="autogen-pg-")
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres")
        data = os.path.join(self.dir, "data")
        run(self.as_user + [os.path.join(bindir, "initdb"), "-A", "trust", "-U", "postgres", "-D", data])
        self.pg_ctl = self.as_user + [os.path.join(bindir, "pg_ctl"), "-D", data, "-w"]
        run(self.pg_ctl + ["-o", f"-k {self.dir} -c listen_addresses=''", "-l",
                           os.path.join(self.dir, "log"), "start"])
        self.base = f"postgresql+psycopg://postgres@/%s?host={self.dir}"

    def stop(self):
        run(self.pg_ctl + ["stop", "-m", "fast"], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def admin(base_url, sql):
    import sqlalchemy as sa

    engine = sa.create_engine(base_url % "postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(sql))
    engine.dispose()


def generate(name, versions, edits, base_url, alembic):
    project = os.path.join(OUT, name)
    shutil.rmtree(project, ignore_errors=True)
    os.makedirs(os.path.join(project, "migrations", "versions"))
    with open(os.path.join(project, "alembic.ini"), "w") as f:
        f.write(INI)
    with open(os.path.join(project, "migrations", "env.py"), "w") as f:
        f.write(ENV_PY)
    # alembic's own revision template, used while generating and not committed.
    import alembic as alembic_pkg

    template = os.path.join(os.path.dirname(alembic_pkg.__file__), "templates", "generic",
                            "script.py.mako")
    mako = os.path.join(project, "migrations", "script.py.mako")
    shutil.copy(template, mako)
    db = f"autogen_{name}"
    admin(base_url, f"DROP DATABASE IF EXISTS {db}")
    admin(base_url, f"CREATE DATABASE {db}")
    env = dict(os.environ, AUTOGEN_FIXTURE_URL=base_url % db)
    try:
        for i, source in enumerate(versions):
            with open(os.path.join(project, "models.py"), "w") as f:
                f.write(f'"""Models of the {name} fixture, version {i} (see scripts/autogen_fixtures.py)."""\n')
                f.write(source)
            rev = f"{name}_{i}"
            run([alembic, "revision", "--autogenerate", "-m", f"{name} step {i}", "--rev-id", rev],
                cwd=project, env=env)
            path = next(os.path.join(project, "migrations", "versions", p)
                        for p in os.listdir(os.path.join(project, "migrations", "versions"))
                        if p.startswith(rev))
            with open(path) as f:
                text = f.read()
            # Stable files: the date is the only thing that changes from run to run.
            text = re.sub(r"Create Date: .*", "Create Date: (fixture)", text)
            if i in edits:
                text = edits[i](text)
            with open(path, "w") as f:
                f.write(text)
            run([alembic, "upgrade", "head"], cwd=project, env=env)
    finally:
        os.remove(mako)
        shutil.rmtree(os.path.join(project, "__pycache__"), ignore_errors=True)
        shutil.rmtree(os.path.join(project, "migrations", "__pycache__"), ignore_errors=True)
        shutil.rmtree(os.path.join(project, "migrations", "versions", "__pycache__"), ignore_errors=True)
        admin(base_url, f"DROP DATABASE IF EXISTS {db}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="a server URL (database part ignored) instead of a temp cluster")
    parser.add_argument("only", nargs="*", help="scenarios to regenerate (default: all)")
    args = parser.parse_args()
    alembic = os.path.join(os.path.dirname(sys.executable), "alembic")
    cluster = None
    if args.url:
        base = re.sub(r"/[^/?]*(\?|$)", r"/%s\1", args.url.replace("postgresql://", "postgresql+psycopg://"), count=1)
    else:
        bindir = os.environ.get("ALEMBIC_TUI_PG_BINDIR")
        if not bindir:
            sys.exit("set ALEMBIC_TUI_PG_BINDIR (the directory of initdb) or pass --url")
        cluster = Cluster(bindir)
        base = cluster.base
    try:
        for name, (versions, edits) in SCENARIOS.items():
            if args.only and name not in args.only:
                continue
            started = time.time()
            generate(name, versions, edits, base, alembic)
            print(f"{name}: {len(versions)} revisions in {time.time() - started:.1f}s")
    finally:
        if cluster:
            cluster.stop()


if __name__ == "__main__":
    main()
