//! `upgrade TARGET` / `downgrade TARGET`: read where the database is, plan, render the exact SQL,
//! show it, ask (or take `--yes`), and run it through the guarded executor, printing its events.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{bail, Context, Result};
use serde::Serialize;

use crate::analysis::Severity;
use crate::cli::args::{Args, MigrateArgs};
use crate::cli::commands;
use crate::config::{redact, ResolvedUrl, Settings};
use crate::engine::alembic::AlembicCommand;
use crate::engine::exec::{self, Cancel, Event, Target};
use crate::engine::journal::Journal;
use crate::engine::prepare::{self, Gate, Prepared, PreparedStep};
use crate::engine::render::{render_cache, Renderer};
use crate::engine::script::{direction_word, DecidedBy, StatementKind, StepBody, StepScript};
use crate::engine::state;
use crate::graph::Direction;
use crate::workspace::Workspace;

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

#[derive(Serialize)]
struct ScriptJson<'a> {
    direction: &'static str,
    revision: &'a str,
    heads_before: &'a [String],
    heads_after: &'a [String],
    /// `sql` (exactly these statements) or `online-only` (alembic runs it).
    mode: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// For online-only steps: `policy` (the profile chose alembic) or `alembic` (it could not
    /// render the step offline).
    #[serde(skip_serializing_if = "Option::is_none")]
    decided_by: Option<&'static str>,
    statements: Vec<StatementJson<'a>>,
    /// The revision's own findings for this direction (downgrade-mismatch, irreversible, …;
    /// for online-only steps also the drops its `op.*` calls make).
    findings: Vec<FindingJson<'a>>,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    rule: &'static str,
    severity: &'static str,
    line: usize,
    message: &'a str,
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

fn script_json(step: &PreparedStep) -> ScriptJson<'_> {
    let s = &step.script;
    let (mode, decided_by) = match &s.body {
        StepBody::Sql(_) => ("sql", None),
        StepBody::OnlineOnly { by, .. } => (
            "online-only",
            Some(match by {
                DecidedBy::Policy => "policy",
                DecidedBy::Alembic => "alembic",
            }),
        ),
    };
    ScriptJson {
        direction: direction_word(s.step.direction),
        revision: &s.step.revision,
        heads_before: &s.step.heads_before,
        heads_after: &s.step.heads_after,
        mode,
        reason: s.body.online_reason(),
        decided_by,
        statements: s
            .statements()
            .iter()
            .zip(&step.flags)
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
        findings: step
            .findings
            .iter()
            .map(|f| FindingJson {
                rule: f.rule.id(),
                severity: f.severity.as_str(),
                line: f.line,
                message: &f.message,
            })
            .collect(),
    }
}

fn mark(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "!!",
        Severity::Warning => "! ",
        Severity::Info => "  ",
    }
}

/// The plan as a commented SQL script: what the confirmation is about, with each step's revision
/// findings under its header and each statement's review flags above it.
pub fn print_prepared(out: &mut dyn Write, prepared: &Prepared) -> Result<()> {
    for note in &prepared.notes {
        writeln!(out, "-- NOTE: {note}")?;
    }
    if !prepared.notes.is_empty() {
        writeln!(out)?;
    }
    let of = prepared.steps.len();
    for (i, step) in prepared.steps.iter().enumerate() {
        let s = &step.script;
        writeln!(
            out,
            "-- step {}/{of}: {} {}  [{}] -> [{}]",
            i + 1,
            direction_word(s.step.direction),
            s.step.revision,
            s.step.heads_before.join(", "),
            s.step.heads_after.join(", ")
        )?;
        for f in &step.findings {
            writeln!(
                out,
                "-- {} revision {} {} (line {}): {}",
                mark(f.severity),
                f.severity.as_str(),
                f.rule.id(),
                f.line,
                f.message
            )?;
        }
        match &s.body {
            StepBody::Sql(statements) => {
                for (st, flags) in statements.iter().zip(&step.flags) {
                    for f in flags {
                        writeln!(
                            out,
                            "-- {} {} {}: {}",
                            mark(f.severity),
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
            StepBody::OnlineOnly { target, .. } => {
                writeln!(
                    out,
                    "-- online-only, UNREVIEWABLE: {}",
                    s.body.online_reason().unwrap_or_default()
                )?;
                writeln!(
                    out,
                    "-- its statements are unknown until alembic runs them; the revision's \
                     findings above are all there is to review"
                )?;
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

/// `upgrade|downgrade TARGET`: prepare, print, confirm, run.
pub fn run(
    args: &Args,
    ws: &Workspace,
    direction: Direction,
    req: &MigrateArgs,
    out: &mut dyn Write,
    warn: &mut dyn Write,
) -> Result<()> {
    let ctx = commands::context(args, ws)?;
    let url = ctx.url().map_err(|e| anyhow::anyhow!("{e}"))?.clone();
    let settings = &ctx.settings;
    let database = state::read(settings, &url)?;
    let steps = prepare::plan(ws, &database.rows, direction, &req.target)?;
    let renderer = Renderer::new(ws, settings, &url, render_cache());
    let lint = ctx.lint_for(database.major);
    let prepared = prepare::prepare(ws, settings, &lint, &renderer, &steps)?;
    let who = identity(&url);
    if prepared.is_empty() {
        if args.json {
            writeln!(out, "{}", serde_json::json!({ "steps": [] }))?;
        } else {
            writeln!(
                out,
                "nothing to do: {} is already at [{}]",
                who.database,
                database.rows.join(", ")
            )?;
        }
        return Ok(());
    }
    if req.sql {
        if args.json {
            let steps: Vec<ScriptJson<'_>> = prepared.steps.iter().map(script_json).collect();
            serde_json::to_writer_pretty(
                &mut *out,
                &serde_json::json!({ "steps": steps, "notes": prepared.notes }),
            )?;
            writeln!(out)?;
        } else {
            print_prepared(out, &prepared)?;
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
        print_prepared(out, &prepared)?;
        let errors = prepared.error_flags();
        if errors > 0 {
            writeln!(out, "!! {errors} statement flag(s) at error level (destructive or failing): read them above")?;
        }
        out.flush()?;
    }
    confirm(settings, &who, req, &prepared)?;
    let journal = Journal::default_location()?;
    let scripts = prepared.scripts();
    let target = Target {
        alembic: AlembicCommand::new(ws, settings, &url),
        url,
        settings: settings.clone(),
        journal: Some(journal),
    };
    let runtime = crate::engine::runtime()?;
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

/// `--yes`, or on a terminal: y/N for a plain plan, the word the gate names for a destructive
/// or unreviewable one; protected profiles want the database's name instead.
fn confirm(
    settings: &Settings,
    who: &Identity,
    req: &MigrateArgs,
    prepared: &Prepared,
) -> Result<()> {
    let steps = prepared.steps.len();
    if settings.protected {
        let typed = match (req.yes, req.confirm_database.as_deref()) {
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
    match &prepared.gate {
        Gate::Plain => {
            let answer = ask(&format!("run {steps} step(s) on {}? [y/N] ", who.database))?;
            if answer.eq_ignore_ascii_case("y") || answer.eq_ignore_ascii_case("yes") {
                Ok(())
            } else {
                bail!("not confirmed: nothing was run")
            }
        }
        Gate::Deliberate { word, why } => {
            let answer = ask(&format!(
                "{why}: type `{word}` to run {steps} step(s) on {}: ",
                who.database
            ))?;
            if answer == *word {
                Ok(())
            } else {
                bail!("not confirmed (the answer was not `{word}`): nothing was run")
            }
        }
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
            "cancelled{}",
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
