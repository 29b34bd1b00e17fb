//! ONE path from a plan to what the user is asked to confirm: plan → render (through the profile's
//! executor policy) → review. The CLI prints a [`Prepared`], the console draws the same value, and
//! the executor runs its scripts; neither front end decides on its own what is destructive,
//! what cannot be reviewed or how deliberate the confirmation must be.

use crate::analysis::{self, Category, Finding, Flag, LintOptions, StepReview};
use crate::config::{Executor, Settings, TransactionMode};
use crate::engine::render::{online_target, Renderer};
use crate::engine::script::{direction_word, DecidedBy, StatementKind, StepBody, StepScript};
use crate::engine::EngineError;
use crate::graph::{Direction, Step};
use crate::workspace::Workspace;

/// A plan ready to be confirmed and run.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub steps: Vec<PreparedStep>,
    /// Plan-level facts the user must read before confirming (e.g. a `transaction: plan` that
    /// cannot hold the whole plan in one transaction).
    pub notes: Vec<String>,
    /// How deliberate the confirmation must be.
    pub gate: Gate,
}

/// One step: what runs, and everything the review says about it.
#[derive(Debug, Clone)]
pub struct PreparedStep {
    pub script: StepScript,
    /// The review rules' flags, one list per statement of `script.statements()` (our
    /// version-table statements are never flagged).
    pub flags: Vec<Vec<Flag>>,
    /// The revision's own findings for this direction (from its `op.*` calls): mismatched or
    /// irreversible downgrades, empty revisions, and — for a step whose SQL cannot be read
    /// beforehand — the drops it will make.
    pub findings: Vec<Finding>,
}

/// How a plan must be confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// `y` (console) or y/N (CLI).
    Plain,
    /// Only from the Run button (console) or by typing `word` (CLI); `why` says what makes it so.
    Deliberate { word: &'static str, why: String },
}

impl PreparedStep {
    /// The step runs through the alembic command: its statements are unknown until it runs.
    pub fn unreviewable(&self) -> bool {
        matches!(self.script.body, StepBody::OnlineOnly { .. })
    }

    /// Flags and findings of the destructive rules that are in force.
    pub fn destroys_data(&self) -> bool {
        let flagged = self
            .flags
            .iter()
            .flatten()
            .any(|f| f.rule.category() == Category::Destructive);
        // A readable step is judged by its statements; the revision's op.* findings speak for
        // a step whose SQL cannot be read.
        flagged
            || (self.unreviewable()
                && self
                    .findings
                    .iter()
                    .any(|f| f.rule.category() == Category::Destructive))
    }
}

impl Prepared {
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    pub fn scripts(&self) -> Vec<StepScript> {
        self.steps.iter().map(|s| s.script.clone()).collect()
    }

    pub fn destroys_data(&self) -> bool {
        self.steps.iter().any(PreparedStep::destroys_data)
    }

    /// Statement flags at error level, over the whole plan.
    pub fn error_flags(&self) -> usize {
        self.steps
            .iter()
            .flat_map(|s| s.flags.iter().flatten())
            .filter(|f| f.severity == analysis::Severity::Error)
            .count()
    }
}

/// Plans `direction target` from the version table's `rows`.
pub fn plan(
    ws: &Workspace,
    rows: &[String],
    direction: Direction,
    target: &str,
) -> Result<Vec<Step>, EngineError> {
    let steps = match direction {
        Direction::Upgrade => ws.map.plan_upgrade(rows, target),
        Direction::Downgrade => ws.map.plan_downgrade(rows, target),
    };
    steps.map_err(|source| EngineError::Plan {
        direction: direction_word(direction),
        target: target.to_owned(),
        rows: rows.to_vec(),
        source: Box::new(source),
    })
}

/// The scripts the executor runs for `steps` under this profile: rendered offline, or every
/// step online-only when the profile sets `executor: alembic`.
pub fn render(
    ws: &Workspace,
    settings: &Settings,
    renderer: &Renderer,
    steps: &[Step],
) -> Result<Vec<StepScript>, EngineError> {
    let mut scripts = renderer.render(&ws.map, steps)?;
    if settings.executor == Executor::Alembic {
        for script in &mut scripts {
            script.body = StepBody::OnlineOnly {
                reason: "the profile sets `executor: alembic`, so alembic runs each step online \
                         and its SQL is not rendered beforehand"
                    .to_owned(),
                by: DecidedBy::Policy,
                target: online_target(&ws.map, &script.step),
            };
        }
    }
    Ok(scripts)
}

/// Renders and reviews `steps`: what both front ends show and the executor runs.
pub fn prepare(
    ws: &Workspace,
    settings: &Settings,
    lint: &LintOptions,
    renderer: &Renderer,
    steps: &[Step],
) -> Result<Prepared, EngineError> {
    let scripts = render(ws, settings, renderer, steps)?;
    Ok(review(ws, settings, lint, scripts))
}

/// Reviews rendered scripts: statement flags, the revisions' findings, plan notes and the gate.
pub fn review(
    ws: &Workspace,
    settings: &Settings,
    lint: &LintOptions,
    scripts: Vec<StepScript>,
) -> Prepared {
    let steps: Vec<PreparedStep> = scripts
        .into_iter()
        .map(|script| {
            let flags = statement_flags(&script, lint);
            let findings = revision_findings(ws, &script.step, lint);
            PreparedStep {
                script,
                flags,
                findings,
            }
        })
        .collect();
    let notes = plan_notes(settings, &steps);
    let gate = gate(&steps);
    Prepared { steps, notes, gate }
}

fn statement_flags(script: &StepScript, lint: &LintOptions) -> Vec<Vec<Flag>> {
    let mut review = StepReview::new(lint);
    script
        .statements()
        .iter()
        .map(|st| match st.kind {
            StatementKind::Body => review.statement(&st.text, st.autocommit),
            StatementKind::VersionTable { .. } => Vec::new(),
        })
        .collect()
}

/// The revision's unsuppressed findings in the step's direction.
fn revision_findings(ws: &Workspace, step: &Step, lint: &LintOptions) -> Vec<Finding> {
    let Some(rev) = ws.project.revisions.iter().find(|r| r.id == step.revision) else {
        return Vec::new();
    };
    let direction = match step.direction {
        Direction::Upgrade => analysis::Direction::Upgrade,
        Direction::Downgrade => analysis::Direction::Downgrade,
    };
    analysis::lint_revision(rev, lint)
        .into_iter()
        .filter(|f| f.direction == direction && f.suppressed.is_none())
        .collect()
}

/// What the plan's transaction setting cannot keep: `transaction: plan` promises one
/// transaction, but a statement that must run outside one (an `autocommit_block`) or a step that
/// alembic runs on its own connection commits everything before it.
fn plan_notes(settings: &Settings, steps: &[PreparedStep]) -> Vec<String> {
    let mut notes = Vec::new();
    if settings.transaction != TransactionMode::Plan {
        return notes;
    }
    for (i, step) in steps.iter().enumerate() {
        let breaks = match &step.script.body {
            StepBody::Sql(statements) => statements
                .iter()
                .any(|s| s.autocommit)
                .then_some("runs a statement outside any transaction (autocommit_block)"),
            StepBody::OnlineOnly { .. } if steps.len() > 1 => {
                Some("runs through the alembic command on a connection of its own")
            }
            StepBody::OnlineOnly { .. } => None,
        };
        if let Some(why) = breaks {
            notes.push(format!(
                "transaction: plan cannot hold this plan in one transaction: step {} ({} {}) \
                 {why}, so everything before it is committed there; a later failure rolls back \
                 only what came after",
                i + 1,
                direction_word(step.script.step.direction),
                step.script.step.revision
            ));
        }
    }
    notes
}

fn gate(steps: &[PreparedStep]) -> Gate {
    let destroys = steps.iter().filter(|s| s.destroys_data()).count();
    let unreviewable = steps.iter().filter(|s| s.unreviewable()).count();
    // The word to type names what the user accepts: losing data, or running unread code.
    let (word, why) = match (destroys, unreviewable) {
        (0, 0) => return Gate::Plain,
        (d, 0) => ("destroy", format!("{d} step(s) destroy data")),
        (0, u) => (
            "unreviewed",
            format!("{u} step(s) run through alembic and cannot be reviewed beforehand"),
        ),
        (d, u) => (
            "destroy",
            format!(
                "{d} step(s) destroy data and {u} step(s) run through alembic and cannot be \
                 reviewed beforehand"
            ),
        ),
    };
    Gate::Deliberate { word, why }
}
