//! The read-only commands: load the project and its graph once, answer, print.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use crate::cli::args::{Args, Command, PlanDirection};
use crate::cli::output;
use crate::graph::{GraphError, GraphWarning, NodeSpec, RevisionMap};
use crate::project::{self, Project};

/// A loaded project and the graph built from it: what every command starts from.
pub struct Workspace {
    pub project: Project,
    pub map: RevisionMap,
}

impl Workspace {
    /// Discovers and loads the project, reports unreadable files on `warn`, and builds the graph.
    pub fn load(args: &Args, cwd: &Path, warn: &mut dyn Write) -> Result<Workspace> {
        let config = project::discover(cwd, args.config.as_deref(), &args.name)?;
        let project = project::load(&config)?;
        for problem in &project.problems {
            // Best effort: a closed stderr must not turn a warning into a failure.
            let _ = writeln!(warn, "warning: {problem}");
        }
        let (ws, warnings) = Workspace::new(project).with_context(|| {
            format!(
                "the revision graph of {} is invalid",
                config.ini_path().display()
            )
        })?;
        for warning in &warnings {
            let _ = writeln!(warn, "warning: {warning}");
        }
        Ok(ws)
    }

    /// Builds the graph of a loaded project (its revisions in load order).
    pub fn new(project: Project) -> Result<(Workspace, Vec<GraphWarning>), GraphError> {
        let specs = project
            .revisions
            .iter()
            .map(|r| NodeSpec {
                id: r.id.clone(),
                down_revisions: r.down_revisions.clone(),
                branch_labels: r.branch_labels.clone(),
                depends_on: r.depends_on.clone(),
            })
            .collect();
        let (map, warnings) = RevisionMap::new(specs)?;
        Ok((Workspace { project, map }, warnings))
    }
}

/// Runs one read-only command, writing its answer to `out`.
pub fn run(args: &Args, cwd: &Path, out: &mut dyn Write, warn: &mut dyn Write) -> Result<()> {
    let ws = Workspace::load(args, cwd, warn)?;
    match &args.command {
        Command::Heads => {
            let heads = ws.map.heads();
            output::revisions(out, &ws, &heads, output::Detail::Summary, args.json)
        }
        Command::Show { revision } => {
            let ids = ws.map.resolve(revision)?;
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            output::revisions(out, &ws, &ids, output::Detail::Full, args.json)
        }
        Command::History { range } => {
            let (lower, upper) = match range {
                None => (None, None),
                Some(range) => parse_range(range)?,
            };
            let rows = ws.map.history(lower, upper)?;
            let ids: Vec<&str> = rows.iter().map(|n| n.id()).collect();
            output::history(out, &ws, &ids, args.json)
        }
        Command::Plan {
            direction,
            target,
            from,
        } => {
            let current = PlanDirection::parse_from(from);
            let steps = match direction {
                PlanDirection::Upgrade => ws.map.plan_upgrade(&current, target)?,
                PlanDirection::Downgrade => ws.map.plan_downgrade(&current, target)?,
            };
            output::plan(out, &steps, args.json)
        }
    }
}

/// Splits `START:END` as `alembic history -r` does: empty sides mean base and heads.
fn parse_range(range: &str) -> Result<(Option<&str>, Option<&str>)> {
    let Some((lower, upper)) = range.split_once(':') else {
        anyhow::bail!("history range {range:?} must be [start]:[end], [start]: or :[end]");
    };
    Ok((non_empty(lower), non_empty(upper)))
}

fn non_empty(side: &str) -> Option<&str> {
    let side = side.trim();
    (!side.is_empty()).then_some(side)
}
