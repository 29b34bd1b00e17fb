//! Stepping state: which steps a key asks for (pure planning over the revision map) and the
//! progress of a running plan (the confirmation is `popups::confirm`).

use crate::engine::exec::ExecFailure;
use crate::graph::{Direction, Step};
use crate::workspace::Workspace;

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
