//! The read-only commands: load the project and its graph once, answer, print.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::cli::args::{Args, Command, PlanDirection};
use crate::cli::output;
use crate::config::{self, Layers, ResolvedUrl, Settings};
use crate::db::{self, version_table::VersionTable};
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
        // Commands that never look inside upgrade()/downgrade() load headers only (cached).
        let project = match &args.command {
            Some(
                Command::Heads
                | Command::History { .. }
                | Command::Show { .. }
                | Command::Current
                | Command::Status { .. }
                | Command::Plan { .. },
            ) => {
                let cache = crate::paths::data_dir().ok().map(|d| d.join("parse-cache"));
                project::load_headers(&config, cache.as_deref())?
            }
            _ => project::load(&config)?,
        };
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

/// How a command that succeeded came out: scripts gate on `Attention` (exit code 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Done,
    /// The command found what it was asked to look for (e.g. `status --check` with pending steps).
    Attention,
}

/// Runs one command, writing its answer to `out`.
pub fn run(args: &Args, cwd: &Path, out: &mut dyn Write, warn: &mut dyn Write) -> Result<Outcome> {
    let ws = Workspace::load(args, cwd, warn)?;
    if let Some(Command::Status { check }) = &args.command {
        let rows = read_current(args, &ws)?;
        let steps = ws.map.plan_upgrade(&rows, "heads").with_context(|| {
            format!(
                "planning upgrade heads from the version table's rows [{}]",
                rows.join(", ")
            )
        })?;
        output::status(out, &ws, &rows, &steps, args.json)?;
        return Ok(if *check && !steps.is_empty() {
            Outcome::Attention
        } else {
            Outcome::Done
        });
    }
    if let Some(Command::Lint { .. }) = &args.command {
        return crate::cli::lint::run(args, &ws, cwd, out, warn);
    }
    if let Some(Command::Upgrade(m) | Command::Downgrade(m)) = &args.command {
        let direction = match &args.command {
            Some(Command::Upgrade(_)) => PlanDirection::Upgrade,
            _ => PlanDirection::Downgrade,
        };
        let request = crate::cli::migrate::MigrateRequest {
            direction,
            target: &m.target,
            yes: m.yes,
            sql_only: m.sql,
            confirm_database: m.confirm_database.as_deref(),
        };
        crate::cli::migrate::run(args, &ws, &request, out, warn)?;
        return Ok(Outcome::Done);
    }
    match &args.command {
        Some(Command::Drift) => return crate::cli::verify::drift(args, &ws, out, warn),
        Some(Command::Verify { range }) => {
            return crate::cli::verify::verify(args, &ws, range.as_deref(), out, warn)
        }
        _ => {}
    }
    run_simple(args, &ws, out, warn)?;
    Ok(Outcome::Done)
}

fn run_simple(
    args: &Args,
    ws: &Workspace,
    out: &mut dyn Write,
    warn: &mut dyn Write,
) -> Result<()> {
    let Some(command) = &args.command else {
        anyhow::bail!("no command: the console is started by main, not by cli::commands::run");
    };
    match command {
        Command::Status { .. }
        | Command::Lint { .. }
        | Command::Upgrade(_)
        | Command::Downgrade(_)
        | Command::Drift
        | Command::Verify { .. } => Ok(()),
        Command::Demo => anyhow::bail!("demo is started by main, not by cli::commands::run"),
        Command::Heads => {
            let heads = ws.map.heads();
            output::revisions(out, ws, &heads, output::Detail::Summary, args.json)
        }
        Command::Show { revision } => {
            let ids = ws.map.resolve_revisions(revision)?;
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            output::revisions(out, ws, &ids, output::Detail::Full, args.json)
        }
        Command::History { range } => {
            let (lower, upper) = match range {
                None => (None, None),
                Some(range) => parse_range(range)?,
            };
            // `current` on either side is the database's revision, as in `alembic history`.
            let current = if lower == Some("current") || upper == Some("current") {
                // All rows (none: base / heads), as alembic passes the tuple of its heads.
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
        Command::Current => {
            let rows = read_current(args, ws)?;
            for unknown in
                crate::db::version_table::diagnose_rows(&rows, |r| ws.map.get(r).is_some())
            {
                let _ = writeln!(warn, "warning: {unknown}");
            }
            output::current(out, ws, &rows, args.json)
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

/// The settings that apply: the user's config file, then alembic-tui.yaml beside alembic.ini.
pub fn settings(args: &Args, ws: &Workspace) -> Result<(Settings, ResolvedUrl)> {
    let mut paths: Vec<PathBuf> = config::user_config_path().into_iter().collect();
    paths.push(config::project_config_path(ws.project.config.ini_dir()));
    let layers = Layers::read(&paths)?;
    let profile = layers.profile(args.profile.as_deref())?;
    let origin = paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(" + ");
    let settings = match &profile {
        Some((name, p)) => Settings::from_profile(Some(name), p, &origin)?,
        None => Settings::from_profile(None, &Default::default(), &origin)?,
    };
    let url = config::resolve_url(
        args.url.as_deref(),
        profile.as_ref().map(|(n, p)| (n.as_str(), p)),
        |var| std::env::var(var).ok(),
        ws.project.config.sqlalchemy_url.as_deref(),
    )?;
    Ok((settings, url))
}

/// Connects as the profile says and reads the version table's rows.
fn read_current(args: &Args, ws: &Workspace) -> Result<Vec<String>> {
    let (settings, url) = settings(args, ws)?;
    read_rows(&settings, &url)
}

/// Reads the version table's rows at `url` with the profile's table location.
pub fn read_rows(settings: &Settings, url: &ResolvedUrl) -> Result<Vec<String>> {
    Ok(read_database(settings, url)?.rows)
}

/// What one connection tells about the database: the version table's rows and the server's
/// major version (None when it will not say: the configured `pg_version` stays in force).
pub struct DatabaseState {
    pub rows: Vec<String>,
    pub major: Option<u32>,
}

/// Reads the version table's rows and `server_version_num` over one connection.
pub fn read_database(settings: &Settings, url: &ResolvedUrl) -> Result<DatabaseState> {
    let table = VersionTable::of(settings);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let pool = db::pool::read_pool(
            url,
            db::ConnectOptions {
                read_only: settings.read_only,
            },
            1,
        )?;
        let client = db::pool::get(&pool, url).await?;
        let rows = table.read(&client, &url.url).await?;
        // 150004 → 15.
        let major = match client.query_one("SHOW server_version_num", &[]).await {
            Ok(row) => row
                .try_get::<_, String>(0)
                .ok()
                .and_then(|v| v.trim().parse::<u32>().ok())
                .map(|n| n / 10_000),
            Err(_) => None,
        };
        Ok(DatabaseState { rows, major })
    })
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
