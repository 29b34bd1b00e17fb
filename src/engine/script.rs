//! What a step will run: its statements and their kinds (the revision's own, run alone outside a
//! transaction, our version-table bookkeeping), or the alembic command that runs it online.

use serde::{Deserialize, Serialize};

use crate::db::version_table::{quote_literal, VersionTable};
use crate::graph::{Direction, Step};

/// What a statement is for: the revision's own SQL, or our bookkeeping of the version table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// From the revision's `upgrade()` / `downgrade()`, as alembic rendered it.
    Body,
    /// A version-table statement; `expect_rows` is how many rows it must touch (None: DDL).
    VersionTable { expect_rows: Option<u64> },
}

/// One statement as it will run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptStatement {
    pub text: String,
    /// Runs alone outside any transaction (alembic's `autocommit_block`, e.g. CREATE INDEX
    /// CONCURRENTLY), so a failure after it cannot roll it back.
    pub autocommit: bool,
    pub kind: StatementKind,
}

/// How a step will run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepBody {
    /// Exactly these statements, in order.
    Sql(Vec<ScriptStatement>),
    /// Offline rendering failed (the revision needs a live connection, e.g. `op.get_bind()`):
    /// the step runs through the alembic command online; `reason` is alembic's error, `target`
    /// the argument of the one `alembic upgrade|downgrade` that runs exactly this step (None when
    /// no single command does, e.g. one branch of a branch point).
    OnlineOnly {
        reason: String,
        /// Who decided that this step runs online: our policy, or alembic's error.
        by: DecidedBy,
        target: Option<String>,
    },
}

/// Who decided that a step runs through the alembic command instead of reviewed SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecidedBy {
    /// The profile (`executor: alembic`): alembic said nothing, we chose not to render.
    Policy,
    /// alembic could not render the step offline; `reason` is its error.
    Alembic,
}

impl StepBody {
    /// Why the step runs online, naming who decided (None for exact SQL).
    pub fn online_reason(&self) -> Option<String> {
        match self {
            StepBody::Sql(_) => None,
            StepBody::OnlineOnly {
                reason,
                by: DecidedBy::Policy,
                ..
            } => Some(format!("our policy: {reason}")),
            StepBody::OnlineOnly {
                reason,
                by: DecidedBy::Alembic,
                ..
            } => Some(format!("alembic could not render it offline: {reason}")),
        }
    }
}

/// A plan step with what it will run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepScript {
    pub step: Step,
    /// sha256 of the revision file when rendered (the journal records it).
    pub file_sha256: String,
    pub body: StepBody,
}

impl StepScript {
    /// The statements of an exact step (empty for online-only steps).
    pub fn statements(&self) -> &[ScriptStatement] {
        match &self.body {
            StepBody::Sql(s) => s,
            StepBody::OnlineOnly { .. } => &[],
        }
    }
}

pub fn direction_word(direction: Direction) -> &'static str {
    match direction {
        Direction::Upgrade => "upgrade",
        Direction::Downgrade => "downgrade",
    }
}

/// Our version-table statements for a step, as alembic's HeadMaintainer would write them: rows
/// that go are updated into rows that come where they can, the rest deleted or inserted. Each
/// must touch exactly one row.
pub fn version_statements(vt: &VersionTable, step: &Step) -> Vec<ScriptStatement> {
    let table = vt.qualified();
    let gone: Vec<&String> = step
        .heads_before
        .iter()
        .filter(|r| !step.heads_after.contains(r))
        .collect();
    let came: Vec<&String> = step
        .heads_after
        .iter()
        .filter(|r| !step.heads_before.contains(r))
        .collect();
    let mut out = Vec::new();
    let row = |text: String| ScriptStatement {
        text,
        autocommit: false,
        kind: StatementKind::VersionTable {
            expect_rows: Some(1),
        },
    };
    if step.heads_before.is_empty() {
        out.push(ScriptStatement {
            text: format!(
                "CREATE TABLE IF NOT EXISTS {table} (\n    version_num VARCHAR(32) NOT NULL, \n    CONSTRAINT {} PRIMARY KEY (version_num)\n)",
                crate::db::version_table::quote_ident(&format!("{}_pkc", vt.table))
            ),
            autocommit: false,
            kind: StatementKind::VersionTable { expect_rows: None },
        });
    }
    let pairs = gone.len().min(came.len());
    for old in &gone[pairs..] {
        out.push(row(format!(
            "DELETE FROM {table} WHERE version_num = {}",
            quote_literal(old)
        )));
    }
    for (old, new) in gone.iter().zip(&came).take(pairs) {
        out.push(row(format!(
            "UPDATE {table} SET version_num = {} WHERE version_num = {}",
            quote_literal(new),
            quote_literal(old)
        )));
    }
    for new in &came[pairs..] {
        out.push(row(format!(
            "INSERT INTO {table} (version_num) VALUES ({})",
            quote_literal(new)
        )));
    }
    out
}
