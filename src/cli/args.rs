//! clap definitions: global options and subcommands, parsed once into `Args`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// A terminal console for Alembic migrations on PostgreSQL.
#[derive(Debug, Clone, Parser)]
#[command(name = "alembic-tui", version, about)]
pub struct Args {
    /// The alembic.ini to use (default: found from the current directory upward).
    #[arg(short = 'c', long = "config", global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// The ini section holding alembic's options, as `alembic -n`.
    #[arg(short = 'n', long = "name", global = true, default_value = "alembic")]
    pub name: String,

    /// The database URL (overrides the profile, DATABASE_URL and sqlalchemy.url).
    #[arg(long, global = true, value_name = "URL")]
    pub url: Option<String>,

    /// The profile from the config files (see config.example.yaml).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,

    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    /// The console's colours: dark (default), light, high-contrast, or a theme file (YAML, as in
    /// themes/). NO_COLOR turns colours off.
    #[arg(long, global = true, value_name = "NAME|PATH")]
    pub theme: Option<String>,

    /// Without a command: the interactive console.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// The console on the bundled demo project with a throwaway PostgreSQL (nothing to set up).
    Demo,
    /// The current head revisions of the project (no database needed).
    Heads,
    /// Every revision, newest first, drawn as a graph with lanes.
    History {
        /// A range `[start]:[end]`, as `alembic history -r` (empty sides: base / heads).
        #[arg(
            short = 'r',
            long = "rev-range",
            value_name = "START:END",
            allow_hyphen_values = true
        )]
        range: Option<String>,
    },
    /// The revisions an identifier names (`heads`, a prefix, `label@head`, …).
    Show {
        /// A revision identifier (`-1`, `-2` included: no `--` needed).
        #[arg(allow_hyphen_values = true)]
        revision: String,
    },
    /// The database's version-table rows, with the revision each names (needs a database).
    Current,
    /// Where the database is and what `upgrade heads` would run (needs a database).
    Status {
        /// Exit with code 1 when anything is pending (for deploy gates).
        #[arg(long)]
        check: bool,
    },
    /// Review findings on revisions, both directions (docs/rules.md); exit 1 on any unsuppressed
    /// error-level finding.
    Lint {
        /// `[start]:[end]` as `history -r`, or one identifier (default: every revision).
        #[arg(value_name = "RANGE", allow_hyphen_values = true)]
        range: Option<String>,
        /// Only what `upgrade heads` would run on the database (needs a database).
        #[arg(long)]
        pending: bool,
        /// Output format (`--json` is `--format json`).
        #[arg(long, value_enum, default_value = "text")]
        format: crate::cli::lint::LintFormat,
    },
    /// Upgrade the database to TARGET: shows the plan and its exact SQL, asks, runs it guarded.
    Upgrade(MigrateArgs),
    /// Downgrade the database to TARGET (`-1`, a revision, `base`, …), the same way.
    Downgrade(MigrateArgs),
    /// Compare the database with what its history builds on a throwaway database; exit 1 on drift.
    Drift,
    /// What alembic-tui ran, from its journal: who applied what, when, where, how long, how it
    /// ended (no project or database needed). `--profile` keeps that profile's entries.
    Journal {
        /// Only entries of revisions starting with this id (or prefix).
        #[arg(long, short = 'r', value_name = "REV")]
        revision: Option<String>,
        /// Also each entry's statements.
        #[arg(long)]
        sql: bool,
    },
    /// Check on a throwaway database that each downgrade undoes its upgrade; exit 1 if not.
    Verify {
        /// `A:B` (the steps of `upgrade A:B`; empty sides are base and heads) or one revision
        /// identifier; default: every revision.
        #[arg(allow_hyphen_values = true, value_name = "RANGE")]
        range: Option<String>,
    },
    /// The steps alembic would run from the given version-table rows to a target.
    Plan {
        #[arg(value_enum)]
        direction: PlanDirection,
        /// Target: an id or prefix, head, heads, base, label@head, +N, -N, rev+N, label@+N, …
        #[arg(allow_hyphen_values = true)]
        target: String,
        /// The version table's rows, comma separated (`base` or empty: nothing applied).
        #[arg(long = "from", value_name = "REV[,REV…]", default_value = "")]
        from: String,
    },
}

/// `upgrade` / `downgrade` options.
#[derive(Debug, Clone, clap::Args)]
pub struct MigrateArgs {
    /// Target: heads, head, an id or prefix, label@head, +N, -N, base, …
    #[arg(allow_hyphen_values = true)]
    pub target: String,
    /// Run without asking (for scripts).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Print the plan's exact SQL and stop.
    #[arg(long)]
    pub sql: bool,
    /// Trace the locks each statement takes (on a throwaway database) and list the sessions on
    /// the target that would block them.
    #[arg(long)]
    pub locks: bool,
    /// The database's name, for protected profiles when not asked interactively.
    #[arg(long, value_name = "NAME")]
    pub confirm_database: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanDirection {
    Upgrade,
    Downgrade,
}

impl PlanDirection {
    /// The version-table rows that `--from` names: `base` and empty entries mean none.
    pub fn parse_from(from: &str) -> Vec<String> {
        from.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "base")
            .map(str::to_owned)
            .collect()
    }
}
