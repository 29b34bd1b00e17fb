//! The one dispatch of commands: load the project and its graph once, answer, print.

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Result};

use crate::cli::args::{Args, Command, PlanDirection};
use crate::cli::output;
use crate::config::{ResolvedUrl, Settings};
use crate::context::{Context, ContextRequest};
use crate::engine::{prepare, state};
use crate::graph::Direction;
use crate::workspace::{Workspace, WorkspaceRequest};

/// Loads the project the global options name; unreadable files and graph warnings go to `warn`.
pub fn load_workspace(args: &Args, cwd: &Path, warn: &mut dyn Write) -> Result<Workspace> {
    // Commands that never look inside upgrade()/downgrade() read headers only (cached).
    let headers_only = matches!(
        &args.command,
        Some(
            Command::Heads
                | Command::History { .. }
                | Command::Show { .. }
                | Command::Current
                | Command::Status { .. }
                | Command::Plan { .. }
        )
    );
    let request = WorkspaceRequest {
        config: args.config.as_deref(),
        section: &args.name,
        cwd,
        headers_only,
    };
    Ok(Workspace::load(request, &mut |w| {
        // Best effort: a closed stderr must not turn a warning into a failure.
        let _ = writeln!(warn, "warning: {w}");
    })?)
}

/// The settings, URL and lint options for `ws` from the global options (config files read once).
pub fn context(args: &Args, ws: &Workspace) -> Result<Context> {
    let request = ContextRequest {
        url: args.url.as_deref(),
        profile: args.profile.as_deref(),
    };
    let ctx = Context::resolve(ws, request)?;
    // Commands print what the project's file was not allowed to loosen; the console (no
    // command) lists it among its own warnings instead.
    if args.command.is_some() {
        for warning in &ctx.warnings {
            eprintln!("warning: {}", crate::cli::terminal::escape(warning));
        }
    }
    Ok(ctx)
}

/// How a command that succeeded came out: scripts gate on `Attention` (exit code 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The command found what it was asked to look for (e.g. `status --check` with pending steps).
    Attention,
}

/// Runs one command, writing its answer to `out`: one `match`, so a command without an arm does
/// not compile (and cannot exit 0 by doing nothing).
pub fn run(args: &Args, cwd: &Path, out: &mut dyn Write, warn: &mut dyn Write) -> Result<Outcome> {
    let done = |r: Result<()>| r.map(|()| Outcome::Done);
    let Some(command) = &args.command else {
        bail!("no command: the console is started by main, not by cli::commands::run");
    };
    match command {
        Command::Demo => bail!("demo is started by main, not by cli::commands::run"),
        // The journal is the user's, across projects: no project needs to be found for it.
        Command::Journal { revision, sql } => {
            let journal = crate::engine::journal::Journal::default_location()?;
            let entries = crate::engine::journal::select(
                journal.read_all()?,
                revision.as_deref(),
                args.profile.as_deref(),
            );
            return done(output::journal(out, &entries, *sql, args.json));
        }
        _ => {}
    }
    let ws = load_workspace(args, cwd, warn)?;
    match command {
        Command::Demo | Command::Journal { .. } => Ok(Outcome::Done),
        Command::Heads => {
            let heads = ws.map.heads();
            done(output::revisions(
                out,
                &ws,
                &heads,
                output::Detail::Summary,
                args.json,
            ))
        }
        Command::Show { revision } => {
            let ids = ws.map.resolve_revisions(revision)?;
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            done(output::revisions(
                out,
                &ws,
                &ids,
                output::Detail::Full,
                args.json,
            ))
        }
        Command::History { range } => done(history(args, &ws, range.as_deref(), out)),
        Command::Current => {
            let rows = read_current(args, &ws)?;
            for unknown in
                crate::db::version_table::diagnose_rows(&rows, |r| ws.map.get(r).is_some())
            {
                let _ = writeln!(warn, "warning: {unknown}");
            }
            done(output::current(out, &ws, &rows, args.json))
        }
        Command::Status { check } => {
            let (settings, url) = settings(args, &ws)?;
            let database = state::read(&settings, &url)?;
            let rows = database.rows;
            let steps = prepare::plan(&ws, &rows, Direction::Upgrade, "heads")?;
            let running = database.in_progress.as_ref();
            output::status(out, &ws, &rows, &steps, running, args.json)?;
            Ok(if *check && !steps.is_empty() {
                Outcome::Attention
            } else {
                Outcome::Done
            })
        }
        Command::Lint { .. } => crate::cli::lint::run(args, &ws, cwd, out, warn),
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
            done(output::plan(out, &steps, args.json))
        }
        Command::Upgrade(m) => done(crate::cli::migrate::run(
            args,
            &ws,
            Direction::Upgrade,
            m,
            out,
            warn,
        )),
        Command::Downgrade(m) => done(crate::cli::migrate::run(
            args,
            &ws,
            Direction::Downgrade,
            m,
            out,
            warn,
        )),
        Command::Drift => crate::cli::verify::drift(args, &ws, out, warn),
        Command::Verify { range } => {
            crate::cli::verify::verify(args, &ws, range.as_deref(), out, warn)
        }
    }
}

/// `history [-r START:END]`, with `current` on either side read from the database.
fn history(args: &Args, ws: &Workspace, range: Option<&str>, out: &mut dyn Write) -> Result<()> {
    let (lower, upper) = match range {
        None => (None, None),
        Some(range) => parse_range(range)?,
    };
    // `current` on either side is the database's revision, as in `alembic history`: all rows
    // (none: base / heads), as alembic passes the tuple of its heads.
    let current = if lower == Some("current") || upper == Some("current") {
        Some(read_current(args, ws)?)
    } else {
        None
    };
    let lower = current_side(lower, &current);
    let upper = current_side(upper, &current);
    let rows = ws.map.history_between(lower.as_deref(), upper.as_deref())?;
    let ids: Vec<&str> = rows.iter().map(|n| n.id()).collect();
    output::history(out, ws, &ids, args.json)
}

/// The settings and target URL of the global options (an error when no source names a URL).
pub fn settings(args: &Args, ws: &Workspace) -> Result<(Settings, ResolvedUrl)> {
    let ctx = context(args, ws)?;
    let url = ctx.url().map_err(|e| anyhow::anyhow!("{e}"))?.clone();
    Ok((ctx.settings, url))
}

/// Connects as the profile says and reads the version table's rows.
fn read_current(args: &Args, ws: &Workspace) -> Result<Vec<String>> {
    let (settings, url) = settings(args, ws)?;
    Ok(state::read(&settings, &url)?.rows)
}

/// One side of a history range with `current` replaced by the database's rows (all of them, as
/// alembic passes the tuple of its heads).
fn current_side(side: Option<&str>, current: &Option<Vec<String>>) -> Option<Vec<String>> {
    match (side, current) {
        (Some("current"), Some(rows)) => Some(rows.clone()),
        (other, _) => other.map(|s| vec![s.to_owned()]),
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
