//! Stepping state: which steps a key asks for (pure planning over the revision map), the
//! confirmation the user reviews before anything runs, and the progress of a running plan.

use crate::analysis::{Category, LintOptions, StepReview};
use crate::cli::commands::Workspace;
use crate::db::exec::ExecFailure;
use crate::graph::{Direction, Step};
use crate::render::{StatementKind, StepBody, StepScript};

/// How bad a flagged statement is, for colour and for the default focus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mark {
    /// Lock-heavy or otherwise worth reading (yellow).
    Caution,
    /// Loses data or cannot be undone (red).
    Destructive,
}

/// One reason a statement is flagged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementFlag {
    pub mark: Mark,
    pub reason: String,
}

/// The focused button of the confirmation pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Button {
    Cancel,
    Run,
}

/// The confirmation pane's state.
#[derive(Debug, Clone)]
pub struct Confirm {
    /// What the user asked for, e.g. "upgrade one step" or "downgrade to 1a0c3e5f7b21".
    pub title: String,
    pub steps: Vec<Step>,
    /// The rendered scripts, once the renderer answered.
    pub scripts: Option<Vec<StepScript>>,
    /// Flags per script, per statement (same shape as the scripts' statements).
    pub flags: Vec<Vec<Vec<StatementFlag>>>,
    /// Why statements carry no flags, when they cannot be reviewed.
    pub review_note: Option<String>,
    /// Why rendering failed (nothing can run then).
    pub error: Option<String>,
    pub focus: Button,
    /// What has been typed of the database name (protected profiles).
    pub typed: String,
    pub scroll: usize,
}

impl Confirm {
    pub fn new(title: String, steps: Vec<Step>) -> Confirm {
        Confirm {
            title,
            steps,
            scripts: None,
            flags: Vec::new(),
            review_note: None,
            error: None,
            focus: Button::Cancel,
            typed: String::new(),
            scroll: 0,
        }
    }

    /// Any statement flagged destructive, or an online-only step (its SQL cannot be reviewed).
    pub fn destructive(&self) -> bool {
        self.flags
            .iter()
            .flatten()
            .flatten()
            .any(|f| f.mark == Mark::Destructive)
    }

    /// Scripts arrived: destructive plans keep the focus on Cancel, others move it to Run.
    pub fn rendered(&mut self, scripts: Vec<StepScript>, flags: Vec<Vec<Vec<StatementFlag>>>) {
        self.scripts = Some(scripts);
        self.flags = flags;
        self.focus = if self.destructive() {
            Button::Cancel
        } else {
            Button::Run
        };
    }

    /// Ready to run: rendered, no error.
    pub fn ready(&self) -> bool {
        self.scripts.is_some() && self.error.is_none()
    }
}

/// Where a running plan is.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    /// Direction and revision of every step, for the progress line.
    pub steps: Vec<(Direction, String)>,
    /// Step being run (0-based) and how many statements it has.
    pub step: Option<usize>,
    pub statement: Option<(usize, usize)>,
    pub started_tick: u64,
    pub outcome: Option<Outcome>,
    /// Steps finished.
    pub done: usize,
    /// A cancel was asked for.
    pub cancelling: bool,
}

/// How a plan ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    Done { elapsed_ms: u128 },
    Failed(ExecFailure),
    Cancelled { step: Option<usize> },
}

/// Heads that `upgrade` can still reach from `rows` (those with pending steps), in map order.
pub fn heads_with_pending(ws: &Workspace, rows: &[String]) -> Vec<String> {
    ws.map
        .heads()
        .into_iter()
        .filter(|h| ws.map.plan_upgrade(rows, h).is_ok_and(|s| !s.is_empty()))
        .map(str::to_owned)
        .collect()
}

/// One step up towards `head`: the first step of the plan there (a valid plan on its own, since
/// its rows before are the current rows).
pub fn one_step_up(ws: &Workspace, rows: &[String], head: &str) -> Result<Vec<Step>, String> {
    let steps = ws
        .map
        .plan_upgrade(rows, head)
        .map_err(|e| format!("planning upgrade {head}: {e}"))?;
    Ok(steps.into_iter().take(1).collect())
}

/// One step down on the branch whose version-table row is `row` (`row-1`, as alembic reads it).
pub fn one_step_down(ws: &Workspace, rows: &[String], row: &str) -> Result<Vec<Step>, String> {
    let target = format!("{row}-1");
    ws.map.plan_downgrade(rows, &target).map_err(|e| {
        format!(
            "planning downgrade {target}: {e}. For a merge revision, select the revision to \
             go back to and press D."
        )
    })
}

/// `upgrade TARGET` or `downgrade TARGET` from `rows`.
pub fn to_revision(
    ws: &Workspace,
    rows: &[String],
    direction: Direction,
    target: &str,
) -> Result<Vec<Step>, String> {
    let (word, steps) = match direction {
        Direction::Upgrade => ("upgrade", ws.map.plan_upgrade(rows, target)),
        Direction::Downgrade => ("downgrade", ws.map.plan_downgrade(rows, target)),
    };
    steps.map_err(|e| format!("planning {word} {target}: {e}"))
}

/// Flags without a statement reviewer: online-only steps are marked, since nobody can read
/// their SQL beforehand; version-table statements never are.
pub fn baseline_flags(scripts: &[StepScript]) -> Vec<Vec<Vec<StatementFlag>>> {
    scripts
        .iter()
        .map(|s| match &s.body {
            StepBody::Sql(statements) => statements
                .iter()
                .map(|st| {
                    let mut flags = Vec::new();
                    if st.autocommit && st.kind == StatementKind::Body {
                        flags.push(StatementFlag {
                            mark: Mark::Caution,
                            reason: "runs alone outside a transaction: a later failure cannot \
                                     roll it back"
                                .to_owned(),
                        });
                    }
                    flags
                })
                .collect(),
            StepBody::OnlineOnly { .. } => Vec::new(),
        })
        .collect()
}

/// Flags for every statement of the scripts from the analysis rules (destructive rules red,
/// locking and review rules yellow, as configured in the lint settings), and a note for steps
/// whose SQL cannot be reviewed.
pub fn review(
    opts: &LintOptions,
    scripts: &[StepScript],
) -> (Vec<Vec<Vec<StatementFlag>>>, Option<String>) {
    let mut flags = baseline_flags(scripts);
    let mut online = 0;
    for (script, per_statement) in scripts.iter().zip(flags.iter_mut()) {
        let StepBody::Sql(statements) = &script.body else {
            online += 1;
            continue;
        };
        let mut review = StepReview::new(opts);
        for (st, out) in statements.iter().zip(per_statement.iter_mut()) {
            if st.kind != StatementKind::Body {
                continue;
            }
            for flag in review.statement(&st.text, st.autocommit) {
                out.push(StatementFlag {
                    mark: match flag.rule.category() {
                        Category::Destructive => Mark::Destructive,
                        Category::Locking | Category::Review | Category::Design => Mark::Caution,
                    },
                    reason: format!("{}: {}", flag.rule.id(), flag.reason),
                });
            }
        }
    }
    let note = (online > 0).then(|| {
        format!(
            "{online} step(s) online-only: their SQL is unknown until alembic runs them; the \
             revision's findings (detail pane) are all there is to review"
        )
    });
    (flags, note)
}
