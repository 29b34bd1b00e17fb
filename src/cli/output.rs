//! Human and JSON output of the read-only commands. The JSON shapes here are a stable contract:
//! scripts and CI parse them, so fields are only ever added.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

use crate::graph::lanes::{self, RowInput};
use crate::graph::plan::{Direction, Step};
use crate::graph::Node;
use crate::project::Revision;
use crate::workspace::Workspace;

/// How much of each revision `revisions` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// `heads`: id, labels, message, path.
    Summary,
    /// `show`: also the parents and dependencies.
    Full,
}

#[derive(Serialize)]
struct RevisionJson<'a> {
    revision: &'a str,
    branch_labels: Vec<&'a str>,
    message: &'a str,
    path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    down_revisions: Option<&'a [String]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    depends_on: Option<&'a [String]>,
}

#[derive(Serialize)]
struct HistoryJson<'a> {
    revision: &'a str,
    down_revisions: &'a [String],
    branch_labels: Vec<&'a str>,
    depends_on: &'a [String],
    message: &'a str,
    path: String,
    is_head: bool,
    is_branch_point: bool,
    is_merge_point: bool,
}

#[derive(Serialize)]
struct PlanJson<'a> {
    steps: Vec<StepJson<'a>>,
}

#[derive(Serialize)]
struct StepJson<'a> {
    direction: &'static str,
    revision: &'a str,
    heads_before: &'a [String],
    heads_after: &'a [String],
}

/// The node and its file for an id the graph gave us.
fn lookup<'w>(ws: &'w Workspace, id: &str) -> Result<(&'w Node, &'w Revision)> {
    let node = ws
        .map
        .get(id)
        .ok_or_else(|| anyhow::anyhow!("revision {id} vanished from the graph"))?;
    let revision = ws
        .project
        .revisions
        .get(node.spec_index())
        .ok_or_else(|| anyhow::anyhow!("revision {id} has no file"))?;
    Ok((node, revision))
}

fn labels<'w>(ws: &'w Workspace, node: &Node) -> Vec<&'w str> {
    ws.map.branch_labels(node)
}

/// `heads` and `show`: one line (or JSON object) per revision.
pub fn revisions(
    out: &mut dyn Write,
    ws: &Workspace,
    ids: &[&str],
    detail: Detail,
    json: bool,
) -> Result<()> {
    if json {
        let mut items = Vec::with_capacity(ids.len());
        for id in ids {
            let (node, rev) = lookup(ws, id)?;
            let full = detail == Detail::Full;
            items.push(RevisionJson {
                revision: node.id(),
                branch_labels: labels(ws, node),
                message: &rev.doc,
                path: rev.path.display().to_string(),
                down_revisions: full.then_some(node.down_revisions()),
                depends_on: full.then_some(node.depends_on()),
            });
        }
        serde_json::to_writer_pretty(&mut *out, &items)?;
        writeln!(out)?;
        return Ok(());
    }
    for id in ids {
        let (node, rev) = lookup(ws, id)?;
        match detail {
            Detail::Summary => writeln!(out, "{}", summary_line(ws, node, rev))?,
            Detail::Full => write_full(out, ws, node, rev)?,
        }
    }
    Ok(())
}

/// `id (labels) (head), message` — the shape of `alembic heads`, plus the message.
fn summary_line(ws: &Workspace, node: &Node, rev: &Revision) -> String {
    let mut line = node.id().to_owned();
    let labels = labels(ws, node);
    if !labels.is_empty() {
        line.push_str(&format!(" ({})", labels.join(", ")));
    }
    line.push_str(&flags(ws, node));
    if !rev.doc.is_empty() {
        line.push_str(", ");
        line.push_str(&first_line(&rev.doc));
    }
    line
}

/// ` (head)`, ` (effective head)`, ` (branchpoint)`, ` (mergepoint)`, as alembic marks them.
fn flags(ws: &Workspace, node: &Node) -> String {
    let mut flags = String::new();
    if node.is_head() {
        if ws.map.real_heads().contains(&node.id()) {
            flags.push_str(" (head)");
        } else {
            flags.push_str(" (effective head)");
        }
    }
    if node.is_branch_point() {
        flags.push_str(" (branchpoint)");
    }
    if node.is_merge_point() {
        flags.push_str(" (mergepoint)");
    }
    flags
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_owned()
}

fn write_full(out: &mut dyn Write, ws: &Workspace, node: &Node, rev: &Revision) -> Result<()> {
    writeln!(out, "Rev: {}{}", node.id(), flags(ws, node))?;
    match node.down_revisions() {
        [] => writeln!(out, "Parent: <base>")?,
        [one] => writeln!(out, "Parent: {one}")?,
        many => writeln!(out, "Merges: {}", many.join(", "))?,
    }
    if !node.depends_on().is_empty() {
        writeln!(out, "Also depends on: {}", node.depends_on().join(", "))?;
    }
    if node.is_branch_point() {
        writeln!(out, "Branches into: {}", ws.map.children(node).join(", "))?;
    }
    let labels = labels(ws, node);
    if !labels.is_empty() {
        writeln!(out, "Branch names: {}", labels.join(", "))?;
    }
    writeln!(out, "Path: {}", rev.path.display())?;
    if let Some(date) = &rev.create_date {
        writeln!(out, "Create Date: {date}")?;
    }
    writeln!(out)?;
    for line in rev.longdoc.lines() {
        if line.trim().is_empty() {
            writeln!(out)?;
        } else {
            writeln!(out, "    {line}")?;
        }
    }
    writeln!(out)?;
    Ok(())
}

/// `history`: the lane graph beside each revision, newest first.
pub fn history(out: &mut dyn Write, ws: &Workspace, ids: &[&str], json: bool) -> Result<()> {
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        rows.push(lookup(ws, id)?);
    }
    if json {
        let items: Vec<HistoryJson> = rows
            .iter()
            .map(|(node, rev)| HistoryJson {
                revision: node.id(),
                down_revisions: node.down_revisions(),
                branch_labels: labels(ws, node),
                depends_on: node.depends_on(),
                message: &rev.doc,
                path: rev.path.display().to_string(),
                is_head: node.is_head(),
                is_branch_point: node.is_branch_point(),
                is_merge_point: node.is_merge_point(),
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &items)?;
        writeln!(out)?;
        return Ok(());
    }
    let layout = lanes::layout(&lane_inputs(ids, &rows));
    for ((node, rev), row) in rows.iter().zip(&layout.rows) {
        let graph = row.render('●');
        let pad = layout.width * 2 - graph.chars().count().min(layout.width * 2);
        writeln!(
            out,
            "{graph}{:pad$} {}",
            "",
            summary_line(ws, node, rev),
            pad = pad
        )?;
    }
    Ok(())
}

/// Parent edges (down_revisions only) between the rows shown, as row indices.
fn lane_inputs(ids: &[&str], rows: &[(&Node, &Revision)]) -> Vec<RowInput> {
    let position: std::collections::HashMap<&str, usize> =
        ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    rows.iter()
        .map(|(node, _)| RowInput {
            parents: node
                .down_revisions()
                .iter()
                .filter_map(|p| position.get(p.as_str()).copied())
                .collect(),
        })
        .collect()
}

#[derive(Serialize)]
struct CurrentJson<'a> {
    revision: &'a str,
    branch_labels: Vec<&'a str>,
    message: &'a str,
    path: String,
    on_disk: bool,
}

/// `current`: each version-table row, with its revision when a file defines it.
pub fn current(out: &mut dyn Write, ws: &Workspace, rows: &[String], json: bool) -> Result<()> {
    if json {
        let mut items = Vec::with_capacity(rows.len());
        for row in rows {
            items.push(match ws.map.get(row) {
                Some(_) => {
                    let (node, rev) = lookup(ws, row)?;
                    CurrentJson {
                        revision: node.id(),
                        branch_labels: labels(ws, node),
                        message: &rev.doc,
                        path: rev.path.display().to_string(),
                        on_disk: true,
                    }
                }
                None => CurrentJson {
                    revision: row,
                    branch_labels: Vec::new(),
                    message: "",
                    path: String::new(),
                    on_disk: false,
                },
            });
        }
        serde_json::to_writer_pretty(&mut *out, &items)?;
        writeln!(out)?;
        return Ok(());
    }
    if rows.is_empty() {
        writeln!(out, "<base> (no rows in the version table)")?;
    }
    for row in rows {
        match ws.map.get(row) {
            Some(_) => {
                let (node, rev) = lookup(ws, row)?;
                writeln!(out, "{}", summary_line(ws, node, rev))?;
            }
            None => writeln!(out, "{row} (not on disk)")?,
        }
    }
    Ok(())
}

#[derive(Serialize)]
struct StatusJson<'a> {
    current: &'a [String],
    pending: Vec<StepJson<'a>>,
}

/// `status`: the rows, and the steps `upgrade heads` would run from them.
pub fn status(
    out: &mut dyn Write,
    ws: &Workspace,
    rows: &[String],
    steps: &[Step],
    json: bool,
) -> Result<()> {
    if json {
        let status = StatusJson {
            current: rows,
            pending: steps.iter().map(step_json).collect(),
        };
        serde_json::to_writer_pretty(&mut *out, &status)?;
        writeln!(out)?;
        return Ok(());
    }
    current(out, ws, rows, false)?;
    if steps.is_empty() {
        writeln!(out, "up to date: nothing pending")?;
        return Ok(());
    }
    writeln!(out, "{} pending (upgrade heads):", steps.len())?;
    for step in steps {
        let (node, rev) = lookup(ws, &step.revision)?;
        writeln!(out, "  {}", summary_line(ws, node, rev))?;
    }
    Ok(())
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Upgrade => "upgrade",
        Direction::Downgrade => "downgrade",
    }
}

fn step_json(s: &Step) -> StepJson<'_> {
    StepJson {
        direction: direction_name(s.direction),
        revision: &s.revision,
        heads_before: &s.heads_before,
        heads_after: &s.heads_after,
    }
}

/// `plan`: the steps in execution order with the version-table rows around each.
pub fn plan(out: &mut dyn Write, steps: &[Step], json: bool) -> Result<()> {
    if json {
        let plan = PlanJson {
            steps: steps.iter().map(step_json).collect(),
        };
        serde_json::to_writer_pretty(&mut *out, &plan)?;
        writeln!(out)?;
        return Ok(());
    }
    if steps.is_empty() {
        writeln!(out, "nothing to do")?;
    }
    for (i, step) in steps.iter().enumerate() {
        writeln!(
            out,
            "{:>3}. {:<9} {:<14} rows [{}] -> [{}]",
            i + 1,
            direction_name(step.direction),
            step.revision,
            step.heads_before.join(", "),
            step.heads_after.join(", ")
        )?;
    }
    Ok(())
}

/// `journal`: one line per entry, oldest first (newest last, as in the file), with the error and,
/// when asked, the statements under it; JSON: the entries exactly as written.
pub fn journal(
    out: &mut dyn Write,
    entries: &[crate::engine::journal::Entry],
    sql: bool,
    json: bool,
) -> Result<()> {
    if json {
        serde_json::to_writer_pretty(&mut *out, entries)?;
        writeln!(out)?;
        return Ok(());
    }
    if entries.is_empty() {
        writeln!(out, "the journal has no entries (yet)")?;
        return Ok(());
    }
    for e in entries {
        writeln!(
            out,
            "{}  {:<11} {:<9} {}  {:>6} ms  {}  {}  {}",
            e.ts,
            e.outcome,
            e.direction,
            e.revision,
            e.duration_ms,
            e.profile.as_deref().unwrap_or("(no profile)"),
            e.target,
            e.os_user
        )?;
        if let Some(error) = &e.error {
            writeln!(out, "    error: {error}")?;
        }
        if sql {
            for statement in &e.statements {
                for line in statement.lines() {
                    writeln!(out, "    | {line}")?;
                }
            }
        }
    }
    Ok(())
}
