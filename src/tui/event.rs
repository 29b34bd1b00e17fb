//! What workers report back to the event loop: one enum, so every asynchronous result reaches the
//! app through the same `update`. Workers never touch app state themselves.

use std::sync::Arc;

use ratatui::text::Line;

use crate::workspace::Workspace;

/// Which body a highlighted text belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BodyKey {
    /// Index into `Workspace::project.revisions`.
    pub revision: usize,
    pub part: Part,
    /// Which load (bodies) or database state (sql) it was asked for: an answer that arrives
    /// after a reload or a change of the version table is for something else and is dropped.
    pub generation: u64,
}

/// A tab of the detail pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    Upgrade,
    Downgrade,
    Sql,
}

impl Part {
    pub const ALL: [Part; 3] = [Part::Upgrade, Part::Downgrade, Part::Sql];

    pub fn title(self) -> &'static str {
        match self {
            Part::Upgrade => "upgrade",
            Part::Downgrade => "downgrade",
            Part::Sql => "sql",
        }
    }
}

/// The database as the background reader last saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbReport {
    /// The version table's rows.
    Rows(Vec<String>),
    /// Connecting or reading failed; the reader retries.
    Unreachable { reason: String },
}

/// The rendered SQL of one revision's upgrade or downgrade, for the sql tab.
#[derive(Debug, Clone)]
pub enum SqlReport {
    /// The statements as alembic's offline mode writes them, joined.
    Sql(String),
    /// Offline rendering failed for this step: it would run through alembic online.
    OnlineOnly { reason: String },
    /// Rendering could not run at all (no alembic, bad project).
    Failed { reason: String },
}

/// A result from a worker.
#[derive(Debug)]
pub enum WorkerEvent {
    Db(DbReport),
    Highlighted {
        key: BodyKey,
        lines: Vec<Line<'static>>,
    },
    /// `r`: the project read again from disk (or why it could not be).
    /// The project read again, with the warnings of the reload (files that no longer parse, with
    /// file:line), or why it could not be read at all.
    Reloaded(Result<(Loaded, Vec<String>), String>),
    Sql {
        key: BodyKey,
        report: SqlReport,
    },
    /// The confirmation's scripts: rendered and reviewed, or why not.
    Prepared {
        steps: Vec<crate::graph::Step>,
        result: Result<crate::engine::prepare::Prepared, String>,
    },
    /// Every revision's findings (by index into the project's revisions) for workspace `ws`.
    Findings {
        ws: Loaded,
        findings: Vec<Vec<crate::analysis::Finding>>,
    },
    /// `alembic --version` through the profile's command: its answer, or why it failed.
    AlembicChecked(Result<String, String>),
    /// Progress of the running plan, as the executor reports it.
    Exec(crate::engine::exec::Event),
    /// A line of progress from the running drift check or verify.
    CheckProgress(String),
    /// The drift check's report, or why it could not run.
    DriftChecked(Result<crate::engine::checks::DriftReport, String>),
    /// Verify's report for one revision, or why it could not run.
    Verified {
        revision: String,
        result: Result<crate::engine::checks::VerifyReport, String>,
    },
}

/// A loaded workspace, shared (the project has no Debug form worth printing).
#[derive(Clone)]
pub struct Loaded(pub Arc<Workspace>);

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Loaded({} revisions)", self.0.map.len())
    }
}
