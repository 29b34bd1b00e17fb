//! `upgrade TARGET` / `downgrade TARGET`: read where the database is, plan, render the exact SQL,
//! show it, ask (or take `--yes`), and run it through the guarded executor, printing its events.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::analysis::{Flag, LintOptions, Severity, StepReview};
use crate::cli::args::{Args, PlanDirection};
use crate::cli::commands::{read_database, settings, Workspace};
use crate::config::{redact, Executor, ResolvedUrl, Settings};
use crate::db::exec::{self, Cancel, Event, Target};
use crate::graph::Step;
use crate::journal::Journal;
use crate::render::{
    direction_word, online_target, AlembicCommand, Renderer, StatementKind, StepBody, StepScript,
};

/// What the user asked for on the command line.
pub struct MigrateRequest<'a> {
    pub direction: PlanDirection,
    pub target: &'a str,
    pub yes: bool,
    pub sql_only: bool,
    pub confirm_database: Option<&'a str>,
}

/// Where a URL points, for confirmation: host and database (never the password).
pub struct Identity {
    pub host: String,
    pub database: String,
}

pub fn identity(url: &ResolvedUrl) -> Identity {
    let parsed = crate::db::tls::split_tls_options(&url.url)
        .ok()
        .and_then(|o| o.url.parse::<tokio_postgres::Config>().ok());
    let Some(config) = parsed else {
        return Identity {
            host: "?".to_owned(),
            database: "?".to_owned(),
        };
    };
    let host = config
        .get_hosts()
        .first()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .unwrap_or_else(|| "localhost".to_owned());
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let database = config
        .get_dbname()
        .or_else(|| config.get_user())
        .unwrap_or("?")
        .to_owned();
    Identity {
        host: format!("{host}:{port}"),
        database,
    }
}

/// The render cache in the data dir (None when there is no data dir: memory only).
pub fn default_render_cache() -> Option<std::path::PathBuf> {
    crate::paths::data_dir()
        .ok()
        .map(|d| d.join("render-cache"))
}

/// Plans and renders a migration from the database's current rows: the scripts the executor
/// will run, exactly.
pub fn prepare(
    ws: &Workspace,
    settings: &Settings,
    url: &ResolvedUrl,
    rows: &[String],
    (direction, target): (PlanDirection, &str),
    render_cache: Option<std::path::PathBuf>,
) -> Result<Vec<StepScript>> {
    let steps = plan(ws, rows, direction, target)?;
    render_for_profile(ws, settings, url, &steps, render_cache)
}

/// The scripts the executor runs for `steps` under this profile: rendered offline, or every
/// step online-only when the profile sets `executor: alembic`.
pub fn render_for_profile(
    ws: &Workspace,
    settings: &Settings,
    url: &ResolvedUrl,
    steps: &[Step],
    render_cache: Option<std::path::PathBuf>,
) -> Result<Vec<StepScript>> {
    let renderer = Renderer::new(ws, settings, url, render_cache);
    let mut scripts = renderer.render(&ws.map, steps)?;
    if settings.executor == Executor::Alembic {
        for script in &mut scripts {
            script.body = StepBody::OnlineOnly {
                reason: "the profile sets `executor: alembic`".to_owned(),
                target: online_target(&ws.map, &script.step),
            };
        }
    }
    Ok(scripts)
}

fn plan(
    ws: &Workspace,
    rows: &[String],
    direction: PlanDirection,
    target: &str,
) -> Result<Vec<Step>> {
    let steps = match direction {
        PlanDirection::Upgrade => ws.map.plan_upgrade(rows, target),
        PlanDirection::Downgrade => ws.map.plan_downgrade(rows, target),
    };
    steps.with_context(|| {
        format!(
            "planning {} {target} from the version table's rows [{}]",
            match direction {
                PlanDirection::Upgrade => "upgrade",
                PlanDirection::Downgrade => "downgrade",
            },
            rows.join(", ")
        )
    })
}

#[derive(Serialize)]
struct ScriptJson<'a> {
    direction: &'static str,
    revision: &'a str,
    heads_before: &'a [String],
    heads_after: &'a [String],
    /// `sql` (exactly these statements) or `online-only` (alembic runs it).
    mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
    statements: Vec<StatementJson<'a>>,
}

#[derive(Serialize)]
struct StatementJson<'a> {
    sql: &'a str,
    autocommit: bool,
    version_table: bool,
    /// What the review rules say about this statement (destructive, lock-heavy, …).
    flags: Vec<FlagJson<'a>>,
}

#[derive(Serialize)]
struct FlagJson<'a> {
    rule: &'static str,
    severity: &'static str,
    reason: &'a str,
}

/// The review rules' flags for every statement of every step, in the same shape as the scripts
/// (version-table statements are ours and never flagged).
pub fn review(scripts: &[StepScript], opts: &LintOptions) -> Vec<Vec<Vec<Flag>>> {
    scripts
        .iter()
        .map(|s| {
            let mut step = StepReview::new(opts);
            s.statements()
                .iter()
                .map(|st| match st.kind {
                    StatementKind::Body => step.statement(&st.text, st.autocommit),
                    StatementKind::VersionTable { .. } => Vec::new(),
                })
                .collect()
        })
        .collect()
}

fn script_json<'a>(s: &'a StepScript, flags: &'a [Vec<Flag>]) -> ScriptJson<'a> {
    let (mode, reason) = match &s.body {
        StepBody::Sql(_) => ("sql", None),
        StepBody::OnlineOnly { reason, .. } => ("online-only", Some(reason.as_str())),
    };
    ScriptJson {
        direction: direction_word(s.step.direction),
        revision: &s.step.revision,
        heads_before: &s.step.heads_before,
        heads_after: &s.step.heads_after,
        mode,
        reason,
        statements: s
            .statements()
            .iter()
            .zip(flags)
            .map(|(st, flags)| StatementJson {
                sql: &st.text,
                autocommit: st.autocommit,
                version_table: matches!(st.kind, StatementKind::VersionTable { .. }),
                flags: flags
                    .iter()
                    .map(|f| FlagJson {
                        rule: f.rule.id(),
                        severity: f.severity.as_str(),
                        reason: &f.reason,
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The plan as a commented SQL script: what the confirmation is about, with each statement's
/// review flags above it.
pub fn print_scripts(
    out: &mut dyn Write,
    scripts: &[StepScript],
    flags: &[Vec<Vec<Flag>>],
) -> Result<()> {
    for (i, s) in scripts.iter().enumerate() {
        writeln!(
            out,
            "-- step {}/{}: {} {}  [{}] -> [{}]",
            i + 1,
            scripts.len(),
            direction_word(s.step.direction),
            s.step.revision,
            s.step.heads_before.join(", "),
            s.step.heads_after.join(", ")
        )?;
        match &s.body {
            StepBody::Sql(statements) => {
                let none = Vec::new();
                let step_flags = flags.get(i).unwrap_or(&none);
                for (j, st) in statements.iter().enumerate() {
                    for f in step_flags.get(j).into_iter().flatten() {
                        let mark = match f.severity {
                            Severity::Error => "!!",
                            Severity::Warning => "! ",
                            Severity::Info => "  ",
                        };
                        writeln!(
                            out,
                            "-- {mark} {} {}: {}",
                            f.severity.as_str(),
                            f.rule.id(),
                            f.reason
                        )?;
                    }
                    if st.autocommit {
                        writeln!(out, "-- (runs alone, outside a transaction)")?;
                    }
                    writeln!(out, "{};", st.text)?;
                }
            }
            StepBody::OnlineOnly { reason, target } => {
                writeln!(out, "-- online-only: offline rendering failed: {reason}")?;
                match target {
                    Some(t) => writeln!(
                        out,
                        "-- runs as: alembic {} {t}",
                        direction_word(s.step.direction)
                    )?,
                    None => writeln!(out, "-- no single alembic command runs just this step")?,
                }
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

fn ask(question: &str) -> Result<String> {
    let mut err = std::io::stderr();
    write!(err, "{question}")?;
    err.flush()?;
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the answer")?;
    Ok(line.trim().to_owned())
}

pub fn run(
    args: &Args,
    ws: &Workspace,
    req: &MigrateRequest<'_>,
    out: &mut dyn Write,
    warn: &mut dyn Write,
) -> Result<()> {
    let (settings, url) = settings(args, ws)?;
    let state = read_database(&settings, &url)?;
    let rows = state.rows;
    let scripts = prepare(
        ws,
        &settings,
        &url,
        &rows,
        (req.direction, req.target),
        default_render_cache(),
    )?;
    let who = identity(&url);
    let mut lint = crate::cli::lint::lint_options(ws)?;
    // Verdicts that depend on the server version use the connected server's.
    if let Some(major) = state.major {
        lint.pg_version = major;
    }
    let flags = review(&scripts, &lint);
    if scripts.is_empty() {
        if args.json {
            writeln!(out, "{}", serde_json::json!({ "steps": [] }))?;
        } else {
            writeln!(
                out,
                "nothing to do: {} is already at [{}]",
                who.database,
                rows.join(", ")
            )?;
        }
        return Ok(());
    }
    if req.sql_only {
        if args.json {
            let steps: Vec<ScriptJson<'_>> = scripts
                .iter()
                .zip(&flags)
                .map(|(s, f)| script_json(s, f))
                .collect();
            serde_json::to_writer_pretty(&mut *out, &serde_json::json!({ "steps": steps }))?;
            writeln!(out)?;
        } else {
            print_scripts(out, &scripts, &flags)?;
        }
        return Ok(());
    }
    if !args.json {
        writeln!(
            out,
            "target: {} (database {} on {}{}) · lock_timeout {:?} · statement_timeout {}",
            redact(&url.url),
            who.database,
            who.host,
            settings
                .profile
                .as_ref()
                .map(|p| format!(", profile {p}"))
                .unwrap_or_default(),
            settings.lock_timeout,
            settings
                .statement_timeout
                .map_or_else(|| "none".to_owned(), |t| format!("{t:?}"))
        )?;
        print_scripts(out, &scripts, &flags)?;
        let errors = flags
            .iter()
            .flatten()
            .flatten()
            .filter(|f| f.severity == Severity::Error)
            .count();
        if errors > 0 {
            writeln!(out, "!! {errors} statement flag(s) at error level (destructive or failing): read them above")?;
        }
        out.flush()?;
    }
    confirm(&settings, &who, req, scripts.len())?;
    let journal = Journal::default_location()?;
    let target = Target {
        alembic: AlembicCommand::new(ws, &settings, &url),
        url,
        settings,
        journal: Some(journal),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let cancel = Cancel::new();
        let ctrl_c = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                ctrl_c.cancel();
            }
        });
        let run = exec::execute(&target, &scripts, &tx, &cancel);
        tokio::pin!(run);
        let mut result = None;
        loop {
            tokio::select! {
                r = &mut run, if result.is_none() => {
                    result = Some(r);
                }
                event = rx.recv() => match event {
                    Some(event) => print_event(out, warn, &event, &scripts, args.json)?,
                    None => break,
                },
                else => break,
            }
            if result.is_some() {
                while let Ok(event) = rx.try_recv() {
                    print_event(out, warn, &event, &scripts, args.json)?;
                }
                break;
            }
        }
        anyhow::Ok(result)
    })?;
    match result {
        Some(Ok(())) => Ok(()),
        Some(Err(failure)) => Err(anyhow::Error::new(failure)),
        None => bail!("the executor stopped without an outcome"),
    }
}

/// `y` on a terminal, or `--yes`; protected profiles also want the database's name.
fn confirm(
    settings: &Settings,
    who: &Identity,
    req: &MigrateRequest<'_>,
    steps: usize,
) -> Result<()> {
    if settings.protected {
        let typed = match (req.yes, req.confirm_database) {
            (_, Some(name)) => name.to_owned(),
            (true, None) => bail!(
                "profile {} is protected: pass --confirm-database {} with --yes",
                settings.profile.as_deref().unwrap_or("(none)"),
                who.database
            ),
            (false, None) => {
                if !std::io::stdin().is_terminal() {
                    bail!("profile is protected and stdin is not a terminal: pass --yes --confirm-database NAME");
                }
                ask(&format!(
                    "protected profile: type the database name ({}) to run {steps} step(s): ",
                    who.database
                ))?
            }
        };
        if typed != who.database {
            bail!(
                "the database is {}, not {typed:?}: nothing was run",
                who.database
            );
        }
        return Ok(());
    }
    if req.yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!("stdin is not a terminal: pass --yes to run without asking (or --sql to only print)");
    }
    let answer = ask(&format!("run {steps} step(s) on {}? [y/N] ", who.database))?;
    if answer.eq_ignore_ascii_case("y") || answer.eq_ignore_ascii_case("yes") {
        Ok(())
    } else {
        bail!("not confirmed: nothing was run")
    }
}

fn print_event(
    out: &mut dyn Write,
    warn: &mut dyn Write,
    event: &Event,
    scripts: &[StepScript],
    json: bool,
) -> Result<()> {
    if json {
        writeln!(out, "{}", event_json(event))?;
        return Ok(out.flush()?);
    }
    match event {
        Event::PlanStarted { steps } => writeln!(out, "running {steps} step(s)")?,
        Event::StepStarted { index, of, step } => writeln!(
            out,
            "[{}/{of}] {} {}",
            index + 1,
            direction_word(step.direction),
            step.revision
        )?,
        Event::Statement {
            index,
            of,
            text,
            autocommit,
            ..
        } => writeln!(
            out,
            "  {}/{of}{} {}",
            index + 1,
            if *autocommit { " (autocommit)" } else { "" },
            first_line(text)
        )?,
        Event::StatementDone { .. } => {}
        Event::Notice { severity, message } => writeln!(warn, "{severity}: {message}")?,
        Event::Output { line } => writeln!(out, "  | {line}")?,
        Event::StepDone { index, elapsed } => writeln!(
            out,
            "[{}/{}] done in {} ms",
            index + 1,
            scripts.len(),
            elapsed.as_millis()
        )?,
        Event::Failed(_) => {}
        Event::Cancelled { step } => writeln!(
            out,
            "cancelled{}: rolled back",
            step.map(|s| format!(" during step {}", s + 1))
                .unwrap_or_default()
        )?,
        Event::PlanDone { elapsed } => writeln!(out, "done in {} ms", elapsed.as_millis())?,
    }
    Ok(out.flush()?)
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    if text.lines().nth(1).is_some() {
        format!("{line} …")
    } else {
        line.to_owned()
    }
}

/// Events as JSON Lines (`--json`): one object per event with an `event` field.
fn event_json(event: &Event) -> serde_json::Value {
    use serde_json::json;
    match event {
        Event::PlanStarted { steps } => json!({"event": "plan_started", "steps": steps}),
        Event::StepStarted { index, of, step } => json!({
            "event": "step_started", "index": index, "of": of,
            "direction": direction_word(step.direction), "revision": step.revision,
            "heads_before": step.heads_before, "heads_after": step.heads_after,
        }),
        Event::Statement {
            step,
            index,
            of,
            text,
            autocommit,
        } => json!({
            "event": "statement", "step": step, "index": index, "of": of,
            "sql": text, "autocommit": autocommit,
        }),
        Event::StatementDone {
            step,
            index,
            elapsed,
        } => json!({
            "event": "statement_done", "step": step, "index": index,
            "elapsed_ms": elapsed.as_secs_f64() * 1000.0,
        }),
        Event::Notice { severity, message } => {
            json!({"event": "notice", "severity": severity, "message": message})
        }
        Event::Output { line } => json!({"event": "output", "line": line}),
        Event::StepDone { index, elapsed } => json!({
            "event": "step_done", "index": index, "elapsed_ms": elapsed.as_secs_f64() * 1000.0,
        }),
        Event::Failed(f) => json!({
            "event": "failed", "step": f.step, "revision": f.revision, "sqlstate": f.sqlstate,
            "message": f.message, "detail": f.detail, "hint": f.hint, "statement": f.statement,
        }),
        Event::Cancelled { step } => json!({"event": "cancelled", "step": step}),
        Event::PlanDone { elapsed } => json!({
            "event": "plan_done", "elapsed_ms": elapsed.as_secs_f64() * 1000.0,
        }),
    }
}
