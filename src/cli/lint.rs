//! `lint [RANGE] [--pending] [--format text|json|github]`: the review rules over the chosen
//! revisions, printed for people, scripts or GitHub annotations; `edited-after-apply` from the
//! journal of executed steps (`journal::Journal`) when one exists.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use clap::ValueEnum;

use crate::analysis::{self, Finding, LintOptions, Severity};
use crate::cli::args::{Args, Command};
use crate::cli::commands::{self, Outcome};
use crate::engine::journal::{edited_since_applied, Journal};
use crate::engine::state::{self, DatabaseState};
use crate::project::Revision;
use crate::workspace::Workspace;

/// How `lint` prints its findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LintFormat {
    /// `path:line: severity rule: message`, one per line, and a summary.
    Text,
    /// The list of findings as JSON (also `--json`).
    Json,
    /// GitHub Actions workflow commands (`::error file=…,line=…::…`), annotating the diff.
    Github,
}

/// Runs `lint` (`args.command` is `Command::Lint`): exit 1 (Attention) when an unsuppressed
/// error-level finding remains.
pub fn run(
    args: &Args,
    ws: &Workspace,
    cwd: &Path,
    out: &mut dyn Write,
    warn: &mut dyn Write,
) -> Result<Outcome> {
    let Some(Command::Lint {
        range,
        pending,
        format,
    }) = &args.command
    else {
        anyhow::bail!("lint::run called for another command");
    };
    let (range, pending, format) = (range.as_deref(), *pending, *format);
    let mut opts = commands::context(args, ws)?.lint;
    let database = if pending {
        Some(read_database(args, ws)?)
    } else {
        None
    };
    // A connected server's version beats the configured one.
    if let Some(major) = database.as_ref().and_then(|d| d.major) {
        opts.pg_version = major;
    }
    let ids = chosen(ws, range, database.as_ref().map(|d| d.rows.as_slice()))?;
    let by_id: HashMap<&str, &Revision> = ws
        .project
        .revisions
        .iter()
        .map(|r| (r.id.as_str(), r))
        .collect();
    let revs: Vec<&Revision> = ids
        .iter()
        .filter_map(|id| by_id.get(id.as_str()).copied())
        .collect();
    let mut findings = analysis::lint_revisions(&revs, &opts);
    findings.extend(edited_after_apply(args, ws, &revs, &opts, warn));
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    for f in &mut findings {
        f.path = relative(&f.path, &cwd);
    }
    let format = if args.json { LintFormat::Json } else { format };
    print(out, &findings, format)?;
    Ok(if findings.iter().any(Finding::is_blocking) {
        Outcome::Attention
    } else {
        Outcome::Done
    })
}

/// What `--pending` reads from the database, over one connection: the version table's rows and
/// `server_version_num`.
fn read_database(args: &Args, ws: &Workspace) -> Result<DatabaseState> {
    let (settings, url) = commands::settings(args, ws)?;
    Ok(state::read(&settings, &url)?)
}

/// The revisions to lint, newest first: all, a `start:end` range as `history -r`, or the
/// revisions one identifier names; with `pending_from` (the version table's rows), only those
/// `upgrade heads` would run.
fn chosen(
    ws: &Workspace,
    range: Option<&str>,
    pending_from: Option<&[String]>,
) -> Result<Vec<String>> {
    let mut ids: Vec<String> = match range {
        None => ws
            .map
            .history(None, None)?
            .iter()
            .map(|n| n.id().to_owned())
            .collect(),
        Some(range) => match range.split_once(':') {
            Some((lower, upper)) => {
                let side = |s: &str| Some(s.trim()).filter(|s| !s.is_empty()).map(str::to_owned);
                let (lower, upper) = (side(lower), side(upper));
                ws.map
                    .history(lower.as_deref(), upper.as_deref())
                    .with_context(|| format!("lint range {range:?}"))?
                    .iter()
                    .map(|n| n.id().to_owned())
                    .collect()
            }
            None => ws
                .map
                .resolve(range)
                .with_context(|| format!("lint revision {range:?}"))?,
        },
    };
    if let Some(rows) = pending_from {
        let steps =
            crate::engine::prepare::plan(ws, rows, crate::graph::Direction::Upgrade, "heads")?;
        let pending: Vec<&str> = steps.iter().map(|s| s.revision.as_str()).collect();
        ids.retain(|id| pending.contains(&id.as_str()));
    }
    Ok(ids)
}

/// `edited-after-apply` for `revs`, when a journal exists and a database URL resolves (no
/// connection is made). Without either there is nothing to compare with.
fn edited_after_apply(
    args: &Args,
    ws: &Workspace,
    revs: &[&Revision],
    opts: &LintOptions,
    warn: &mut dyn Write,
) -> Vec<Finding> {
    let Ok((_, url)) = commands::settings(args, ws) else {
        return Vec::new();
    };
    let journal = match Journal::default_location() {
        Ok(j) => j,
        Err(err) => {
            let _ = writeln!(warn, "warning: edited-after-apply skipped: {err:#}");
            return Vec::new();
        }
    };
    edited_since_applied(&journal, &url, revs, opts, &mut |w| {
        let _ = writeln!(warn, "warning: {w}");
    })
}

/// `path` relative to `cwd` when it lies below it (what CI annotations and editors expect).
fn relative(path: &str, cwd: &Path) -> String {
    Path::new(path)
        .strip_prefix(cwd)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| path.to_owned())
}

fn print(out: &mut dyn Write, findings: &[Finding], format: LintFormat) -> Result<()> {
    match format {
        LintFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, findings)?;
            writeln!(out)?;
        }
        LintFormat::Text => {
            for f in findings {
                write!(
                    out,
                    "{}:{}: {} {} [{} {}] {}",
                    f.path,
                    f.line,
                    f.severity.as_str(),
                    f.rule,
                    short(&f.revision),
                    f.direction.as_str(),
                    f.message
                )?;
                match &f.suppressed {
                    Some(reason) => writeln!(out, " (suppressed: {reason})")?,
                    None => writeln!(out)?,
                }
            }
            let count = |s: Severity| {
                findings
                    .iter()
                    .filter(|f| f.severity == s && f.suppressed.is_none())
                    .count()
            };
            let suppressed = findings.iter().filter(|f| f.suppressed.is_some()).count();
            writeln!(
                out,
                "{} finding(s): {} error(s), {} warning(s), {} info, {} suppressed",
                findings.len(),
                count(Severity::Error),
                count(Severity::Warning),
                count(Severity::Info),
                suppressed
            )?;
        }
        LintFormat::Github => {
            for f in findings {
                let level = match (f.severity, &f.suppressed) {
                    (_, Some(_)) | (Severity::Info, _) => "notice",
                    (Severity::Warning, _) => "warning",
                    (Severity::Error, _) => "error",
                };
                let mut message = format!(
                    "{} ({} {})",
                    f.message,
                    short(&f.revision),
                    f.direction.as_str()
                );
                if let Some(reason) = &f.suppressed {
                    message.push_str(&format!(" [suppressed: {reason}]"));
                }
                writeln!(
                    out,
                    "::{level} file={},line={},title={}::{}",
                    github_property(&f.path),
                    f.line,
                    github_property(f.rule.id()),
                    github_data(&message)
                )?;
            }
        }
    }
    Ok(())
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// GitHub's escaping for a workflow command's message.
fn github_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// GitHub's escaping for a workflow command's property values.
fn github_property(text: &str) -> String {
    github_data(text).replace(':', "%3A").replace(',', "%2C")
}
