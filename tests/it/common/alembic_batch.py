"""Runs several alembic command lines in ONE Python process (tests/it/common/mod.rs: alembic_batch).

Starting Python and importing SQLAlchemy is most of what an `alembic` process costs (~0.4 s);
a command on a small project takes a few milliseconds. This goes through alembic's own console
entry point, `alembic.config.main(argv, prog="alembic")` — what `python -m alembic` runs —
once per command line, with stdout and stderr captured per command and the exit status taken
from the SystemExit alembic raises on failure, as the process's exit code would be.

stdin: a JSON list of argv lists. stdout: a JSON list of {"code", "stdout", "stderr"}.
"""

import io
import json
import sys
import traceback


class Swappable(io.TextIOBase):
    """A stream whose target changes per command. It must be installed BEFORE alembic is
    imported: `Config(stdout=sys.stdout)` binds the stream when alembic.config is imported,
    so replacing sys.stdout later would not capture what `heads`/`history` print."""

    def __init__(self):
        self.target = io.StringIO()

    def write(self, s):
        return self.target.write(s)

    def flush(self):
        pass

    def writable(self):
        return True

    @property
    def encoding(self):
        return "utf-8"


real_stdout = sys.stdout
commands = json.load(sys.stdin)
out, err = Swappable(), Swappable()
sys.stdout, sys.stderr = out, err

from alembic.config import main  # noqa: E402  (after the streams are swapped, see Swappable)

results = []
for argv in commands:
    out.target, err.target = io.StringIO(), io.StringIO()
    try:
        main(argv=argv, prog="alembic")
        code = 0
    except SystemExit as e:
        # util.err() exits with -1 (255 for a process), argparse with 2.
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code % 256
        else:
            err.target.write(str(e.code))
            code = 1
    except BaseException:  # an uncaught exception: the CLI would print it and exit 1
        traceback.print_exc(file=err.target)
        code = 1
    results.append(
        {"code": code, "stdout": out.target.getvalue(), "stderr": err.target.getvalue()}
    )

sys.stdout, sys.stderr = real_stdout, sys.__stderr__
json.dump(results, real_stdout)
real_stdout.flush()
