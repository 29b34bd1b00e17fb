//! Generated Alembic projects for tests and benchmarks: a seeded random history generator and a
//! writer for alembic.ini, env.py (offline-capable, PostgreSQL) and revision files. std only, so
//! benches can include it with `#[path]`.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

/// One revision to write.
#[derive(Debug, Clone, Default)]
pub struct GenRev {
    pub id: String,
    pub down_revisions: Vec<String>,
    pub branch_labels: Vec<String>,
    pub depends_on: Vec<String>,
    pub message: String,
    /// Body lines of `upgrade()` (without indentation); empty means `pass`.
    pub upgrade: Vec<String>,
    pub downgrade: Vec<String>,
}

/// splitmix64: tiny, seedable, good enough to shape test histories.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// True with probability `percent`%.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
    pub fn hex_id(&mut self) -> String {
        format!("{:012x}", self.next_u64() & 0xffff_ffff_ffff)
    }
}

/// The shape of [`random_graph`]'s histories, in percent per revision. Every chance costs one
/// draw whatever its value, so changing one keeps the others' sequence of draws.
#[derive(Debug, Clone)]
pub struct GraphOpts {
    /// At most this many bases (revisions without a down_revision); the first is always one.
    pub max_bases: usize,
    /// A new base, once past the first few revisions (while fewer than `max_bases`).
    pub base_pct: u64,
    /// A branch from one of the last eight revisions (a second or third child).
    pub branch_pct: u64,
    /// A merge of 2 (or 3) open tips, when 2–3 are open; more open tips always merge sooner.
    pub merge_pct: u64,
    /// A branch label (`lbl<i>`).
    pub label_pct: u64,
    /// A depends_on to an earlier revision.
    pub depends_pct: u64,
}

impl Default for GraphOpts {
    /// The shape the differential test and the benchmarks were written against.
    fn default() -> Self {
        GraphOpts {
            max_bases: 2,
            base_pct: 5,
            branch_pct: 12,
            merge_pct: 12,
            label_pct: 6,
            depends_pct: 6,
        }
    }
}

/// A realistic history: mostly linear, some branches (2–3 way), 2- and 3-parent merges, a second
/// base now and then, occasional branch labels and depends_on. Deterministic for a seed.
pub fn random_graph(seed: u64, n: usize, opts: &GraphOpts) -> Vec<GenRev> {
    let mut rng = Rng::new(seed);
    let mut revs: Vec<GenRev> = Vec::with_capacity(n);
    let mut tips: Vec<usize> = Vec::new();
    let mut bases = 0;
    for i in 0..n {
        let id = rng.hex_id();
        let mut rev = GenRev {
            id,
            message: format!("revision {i}"),
            ..GenRev::default()
        };
        if i == 0 || (bases < opts.max_bases && i > 3 && rng.chance(opts.base_pct)) {
            bases += 1;
        } else if tips.len() >= 2 && rng.chance(if tips.len() > 3 { 60 } else { opts.merge_pct }) {
            // Branches get merged back; the more are open, the sooner.
            let take = if tips.len() >= 3 && rng.chance(30) {
                3
            } else {
                2
            };
            let mut parents = Vec::new();
            for _ in 0..take {
                let k = rng.below(tips.len());
                parents.push(tips.remove(k));
            }
            rev.down_revisions = parents.iter().map(|p| revs[*p].id.clone()).collect();
        } else if rng.chance(opts.branch_pct) && i > 1 {
            // A branch from a recent revision.
            let p = i - 1 - rng.below(i.min(8));
            tips.retain(|t| *t != p);
            rev.down_revisions = vec![revs[p].id.clone()];
        } else {
            let k = tips.len().saturating_sub(1);
            let p = if tips.is_empty() {
                i - 1
            } else {
                tips.remove(k)
            };
            rev.down_revisions = vec![revs[p].id.clone()];
        }
        if rng.chance(opts.label_pct) {
            rev.branch_labels = vec![format!("lbl{i}")];
        }
        if i > 2 && rng.chance(opts.depends_pct) {
            let d = rng.below(i);
            if !rev.down_revisions.contains(&revs[d].id) {
                rev.depends_on = vec![revs[d].id.clone()];
            }
        }
        tips.push(i);
        revs.push(rev);
    }
    revs
}

/// A long history for benchmarks: the random shape, with bodies that call a few `op.*`.
pub fn big_project(n: usize) -> Vec<GenRev> {
    let mut revs = random_graph(7, n, &GraphOpts::default());
    for (i, rev) in revs.iter_mut().enumerate() {
        // Real histories carry a handful of branch labels, not one per sixteen revisions.
        if i % 1000 != 0 {
            rev.branch_labels.clear();
        }
    }
    with_table_bodies(revs)
}

/// A history that alembic can run from base to heads and back: the random shape (branches,
/// 2- and 3-way merges, a second base, labels) without depends_on, whose cross-branch rows
/// make alembic's own version-table bookkeeping fail (KeyError in `_update_version`) on many
/// generated graphs. Each revision creates a table and an index.
pub fn executable_project(n: usize) -> Vec<GenRev> {
    let opts = GraphOpts {
        depends_pct: 0,
        ..GraphOpts::default()
    };
    with_table_bodies(random_graph(11, n, &opts))
}

fn with_table_bodies(mut revs: Vec<GenRev>) -> Vec<GenRev> {
    for (i, rev) in revs.iter_mut().enumerate() {
        rev.upgrade = vec![
            format!("op.create_table(\"t{i}\", sa.Column(\"id\", sa.Integer(), primary_key=True), sa.Column(\"name\", sa.String(50)))"),
            format!("op.create_index(\"ix_t{i}_name\", \"t{i}\", [\"name\"])"),
        ];
        rev.downgrade = vec![
            format!("op.drop_index(\"ix_t{i}_name\", table_name=\"t{i}\")"),
            format!("op.drop_table(\"t{i}\")"),
        ];
    }
    revs
}

fn py_str_tuple(items: &[String]) -> String {
    match items {
        [] => "None".to_owned(),
        [one] => format!("{one:?}"),
        many => format!(
            "({})",
            many.iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

const ENV_PY: &str = r#"from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config


def run_migrations_offline():
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        **OPTIONS,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    connectable = engine_from_config(
        config.get_section(config.config_ini_section, {}),
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with connectable.connect() as connection:
        context.configure(connection=connection, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
"#;

const MAKO: &str = r#""""${message}

Revision ID: ${up_revision}
Revises: ${down_revision | comma,n}
Create Date: ${create_date}

"""
from alembic import op
import sqlalchemy as sa

revision = ${repr(up_revision)}
down_revision = ${repr(down_revision)}
branch_labels = ${repr(branch_labels)}
depends_on = ${repr(depends_on)}


def upgrade():
    ${upgrades if upgrades else "pass"}


def downgrade():
    ${downgrades if downgrades else "pass"}
"#;

/// How [`write_project_with`] writes the project around the revisions.
#[derive(Debug, Clone)]
pub struct ProjectOpts {
    /// `sqlalchemy.url` in alembic.ini: online runs connect there; offline (`--sql`) runs only
    /// take the dialect from it.
    pub url: String,
    /// `context.configure(version_table=…)` in env.py (alembic's default: alembic_version).
    pub version_table: Option<String>,
    /// `context.configure(version_table_schema=…)` in env.py.
    pub version_table_schema: Option<String>,
    /// `context.configure(transaction_per_migration=True)`: offline SQL gets BEGIN/COMMIT per step.
    pub transaction_per_migration: bool,
}

impl Default for ProjectOpts {
    fn default() -> Self {
        ProjectOpts {
            url: "postgresql+psycopg://localhost/unused".to_owned(),
            version_table: None,
            version_table_schema: None,
            transaction_per_migration: false,
        }
    }
}

/// [`write_project_with`] with the default options (offline-only URL, alembic_version).
pub fn write_project(dir: &Path, revs: &[GenRev]) -> std::io::Result<()> {
    write_project_with(dir, revs, &ProjectOpts::default())
}

/// Writes a complete project: `dir/alembic.ini`, `dir/migrations/{env.py,script.py.mako}` and one
/// file per revision, named `NNNNN_<id>.py` so that load order is the order given. env.py runs
/// offline (`--sql`) without a database; `heads`/`history` never run it.
pub fn write_project_with(dir: &Path, revs: &[GenRev], opts: &ProjectOpts) -> std::io::Result<()> {
    let versions = dir.join("migrations/versions");
    std::fs::create_dir_all(&versions)?;
    // `%` is configparser's interpolation character.
    let url = opts.url.replace('%', "%%");
    std::fs::write(
        dir.join("alembic.ini"),
        format!(
            "[alembic]\nscript_location = %(here)s/migrations\npath_separator = os\n\
             sqlalchemy.url = {url}\n"
        ),
    )?;
    let mut configure = String::new();
    if let Some(t) = &opts.version_table {
        let _ = write!(configure, "version_table={t:?}, ");
    }
    if let Some(s) = &opts.version_table_schema {
        let _ = write!(configure, "version_table_schema={s:?}, ");
    }
    if opts.transaction_per_migration {
        configure.push_str("transaction_per_migration=True, ");
    }
    std::fs::write(
        dir.join("migrations/env.py"),
        ENV_PY.replace("OPTIONS", &format!("dict({configure})")),
    )?;
    std::fs::write(dir.join("migrations/script.py.mako"), MAKO)?;
    for (i, rev) in revs.iter().enumerate() {
        let mut text = String::new();
        let _ = write!(
            text,
            "\"\"\"{msg}\n\nRevision ID: {id}\nRevises: {revises}\nCreate Date: 2026-01-01 00:00:00\n\n\"\"\"\n\
             from typing import Sequence, Union\n\nfrom alembic import op\nimport sqlalchemy as sa\n\n\
             revision: str = {id:?}\ndown_revision: Union[str, Sequence[str], None] = {down}\n\
             branch_labels: Union[str, Sequence[str], None] = {labels}\n\
             depends_on: Union[str, Sequence[str], None] = {deps}\n\n\n",
            msg = rev.message,
            id = rev.id,
            revises = rev.down_revisions.join(", "),
            down = py_str_tuple(&rev.down_revisions),
            labels = py_str_tuple(&rev.branch_labels),
            deps = py_str_tuple(&rev.depends_on),
        );
        for (name, body) in [("upgrade", &rev.upgrade), ("downgrade", &rev.downgrade)] {
            let _ = writeln!(text, "def {name}() -> None:");
            if body.is_empty() {
                let _ = writeln!(text, "    pass");
            }
            for line in body {
                let _ = writeln!(text, "    {line}");
            }
            let _ = writeln!(text, "\n");
        }
        std::fs::write(versions.join(format!("{i:05}_{}.py", rev.id)), text)?;
    }
    Ok(())
}
