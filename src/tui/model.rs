//! The console's picture of a project and its database: graph rows in display order with their
//! lane drawing, and per-revision state (applied, current, pending, off the path) once the
//! version table's rows are known. Pure: built from a loaded `Workspace` and plain rows.

use std::collections::{HashMap, HashSet};

use crate::graph::lanes::{self, RowInput, RowLayout};
use crate::graph::Step;
use crate::workspace::Workspace;

/// One revision as the graph pane draws it.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    /// Declared plus inherited branch labels.
    pub labels: Vec<String>,
    /// First line of the docstring.
    pub message: String,
    pub head: bool,
    pub merge: bool,
    pub branch_point: bool,
    /// Index into `Workspace::project.revisions`.
    pub revision: usize,
    pub layout: RowLayout,
}

/// Every revision newest first, laid out once (the same order and lanes as `history`).
#[derive(Debug, Clone, Default)]
pub struct Model {
    pub rows: Vec<Row>,
    /// Number of lane columns: the graph column is `2 * lane_width` cells wide.
    pub lane_width: usize,
    index: HashMap<String, usize>,
}

/// Where a revision stands relative to the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevState {
    /// The database's state is not known (unreachable, or not read yet).
    Unknown,
    /// In the version table's history: its upgrade has run.
    Applied,
    /// A row of the version table names it.
    Current,
    /// `upgrade heads` would run it.
    Pending,
    /// Neither applied nor on the way to the heads (only when planning failed).
    OffPath,
}

/// What the database's version table means for the graph.
#[derive(Debug, Clone, Default)]
pub struct DbView {
    /// The version table's rows.
    pub rows: Vec<String>,
    /// One state per model row.
    pub states: Vec<RevState>,
    /// The steps of `upgrade heads`, in execution order.
    pub pending: Vec<Step>,
    /// Why `upgrade heads` cannot be planned from these rows (e.g. a row no file defines).
    pub plan_error: Option<String>,
}

/// Which revisions the graph pane shows (`f`: the path, `b`: a branch, again: all).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Filter {
    #[default]
    All,
    /// The database's rows and the steps `upgrade heads` would run: what a deploy touches.
    Path,
    /// One line of history: a revision with its ancestors and descendants (other branches hidden).
    Lineage(String),
}

impl Filter {
    /// The pane title's words for the filter (empty for all revisions).
    pub fn describe(&self) -> String {
        match self {
            Filter::All => String::new(),
            Filter::Path => "path db → heads".to_owned(),
            Filter::Lineage(id) => format!("branch of {}", crate::tui::app::short(id)),
        }
    }

    /// The revision ids the filter keeps (`None`: every revision), or why it cannot apply.
    /// `db_rows` are the version table's rows, when they have been read.
    pub fn keep(
        &self,
        ws: &Workspace,
        db_rows: Option<&[String]>,
    ) -> Result<Option<HashSet<String>>, String> {
        match self {
            Filter::All => Ok(None),
            Filter::Path => {
                let rows =
                    db_rows.ok_or("the path needs the database's version table, not read yet")?;
                let steps = ws
                    .map
                    .plan_upgrade(rows, "heads")
                    .map_err(|e| format!("no path: cannot plan upgrade heads: {e}"))?;
                let mut keep: HashSet<String> = rows
                    .iter()
                    .filter_map(|r| ws.map.get(r).map(|n| n.id().to_owned()))
                    .collect();
                keep.extend(steps.into_iter().map(|s| s.revision));
                Ok(Some(keep))
            }
            Filter::Lineage(id) => {
                let node = ws
                    .map
                    .get(id)
                    .ok_or_else(|| format!("revision {id} is no longer in the project"))?;
                let mut keep = ws.map.strict_ancestors_of(&[node.id()]);
                keep.extend(ws.map.descendants_of(node.id()));
                keep.insert(node.id().to_owned());
                Ok(Some(keep))
            }
        }
    }
}

impl Model {
    /// Lays out every revision of the workspace, newest first.
    pub fn build(ws: &Workspace) -> Model {
        Model::build_only(ws, None)
    }

    /// Lays out the revisions in `keep` (all of them for `None`), newest first in the whole
    /// history's order; the lanes are drawn for the kept revisions alone (a parent outside
    /// `keep` draws no line).
    pub fn build_only(ws: &Workspace, keep: Option<&HashSet<String>>) -> Model {
        // The whole history never fails for a valid map; an empty one is still a picture.
        let mut nodes = ws.map.history(None, None).unwrap_or_default();
        if let Some(keep) = keep {
            nodes.retain(|n| keep.contains(n.id()));
        }
        let index: HashMap<String, usize> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.id().to_owned(), i))
            .collect();
        let inputs: Vec<RowInput> = nodes
            .iter()
            .map(|n| RowInput {
                parents: n
                    .down_revisions()
                    .iter()
                    .filter_map(|p| index.get(p).copied())
                    .collect(),
            })
            .collect();
        let layout = lanes::layout(&inputs);
        let rows = nodes
            .iter()
            .zip(layout.rows)
            .map(|(node, layout)| {
                let rev = ws.project.revisions.get(node.spec_index());
                Row {
                    id: node.id().to_owned(),
                    labels: ws
                        .map
                        .branch_labels(node)
                        .into_iter()
                        .map(str::to_owned)
                        .collect(),
                    message: rev
                        .map(|r| r.doc.lines().next().unwrap_or_default().to_owned())
                        .unwrap_or_default(),
                    head: node.is_head(),
                    merge: node.is_merge_point(),
                    branch_point: node.is_branch_point(),
                    revision: node.spec_index(),
                    layout,
                }
            })
            .collect();
        Model {
            rows,
            lane_width: layout.width,
            index,
        }
    }

    /// The display row of a revision id.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.index.get(id).copied()
    }

    /// The rows whose id, label, message or `upgrade()` / `downgrade()` body contains `query`
    /// (case-insensitive), in display order.
    pub fn search(&self, ws: &Workspace, query: &str) -> Vec<usize> {
        let query = query.trim().to_lowercase();
        if query.is_empty() {
            return Vec::new();
        }
        let contains = |text: &str| {
            // Most text is ASCII: compare without allocating a lowercase copy.
            if text.is_ascii() && query.is_ascii() {
                text.as_bytes()
                    .windows(query.len())
                    .any(|w| w.eq_ignore_ascii_case(query.as_bytes()))
            } else {
                text.to_lowercase().contains(&query)
            }
        };
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                contains(&r.id)
                    || contains(&r.message)
                    || r.labels.iter().any(|l| contains(l))
                    || ws.project.revisions.get(r.revision).is_some_and(|rev| {
                        [&rev.upgrade, &rev.downgrade]
                            .into_iter()
                            .flatten()
                            .any(|b| contains(&b.source))
                    })
            })
            .map(|(i, _)| i)
            .collect()
    }
}

impl DbView {
    /// The graph's states for the version table's `rows`: ancestors (through parents and
    /// dependencies) are applied, the steps of `upgrade heads` pending.
    pub fn new(ws: &Workspace, model: &Model, rows: Vec<String>) -> DbView {
        let mut states = vec![RevState::OffPath; model.rows.len()];
        let mut seen: HashSet<&str> = HashSet::new();
        let mut stack: Vec<&str> = rows.iter().map(String::as_str).collect();
        while let Some(id) = stack.pop() {
            if !seen.insert(id) {
                continue;
            }
            let Some(node) = ws.map.get(id) else { continue };
            if let Some(i) = model.position(node.id()) {
                states[i] = RevState::Applied;
            }
            stack.extend(node.down_revisions().iter().map(String::as_str));
            stack.extend(node.depends_on().iter().map(String::as_str));
        }
        for row in &rows {
            if let Some(i) = model.position(row) {
                states[i] = RevState::Current;
            }
        }
        let (pending, plan_error) = match ws.map.plan_upgrade(&rows, "heads") {
            Ok(steps) => (steps, None),
            Err(err) => (Vec::new(), Some(err.to_string())),
        };
        for step in &pending {
            if let Some(i) = model.position(&step.revision) {
                states[i] = RevState::Pending;
            }
        }
        DbView {
            rows,
            states,
            pending,
            plan_error,
        }
    }

    /// The state of display row `i` (Unknown past the end, e.g. before the first read).
    pub fn state(&self, i: usize) -> RevState {
        self.states.get(i).copied().unwrap_or(RevState::Unknown)
    }
}
