//! `drift` and `verify`: run the shadow-database checks of `crate::engine::checks`, print what they
//! found (text or `--json`), and answer `Attention` (exit 1) when there is something to see.
//! Progress goes to stderr so that stdout stays the answer.

use std::io::Write;

use anyhow::Result;

use crate::cli::args::Args;
use crate::cli::commands::{settings, Outcome};
use crate::engine::checks::{self, DriftReport, VerifyReport};
use crate::engine::exec::Cancel;
use crate::workspace::Workspace;

/// Ctrl-C cancels the running step (rolled back) so the shadow database is still dropped.
fn cancel_on_ctrl_c() -> Cancel {
    let cancel = Cancel::new();
    let handle = cancel.clone();
    let _ = std::thread::Builder::new()
        .name("ctrl-c".to_owned())
        .spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                rt.block_on(async {
                    if tokio::signal::ctrl_c().await.is_ok() {
                        handle.cancel();
                    }
                });
            }
        });
    cancel
}

pub fn drift(
    args: &Args,
    ws: &Workspace,
    out: &mut dyn Write,
    warn: &mut dyn Write,
) -> Result<Outcome> {
    let (settings, url) = settings(args, ws)?;
    let cancel = cancel_on_ctrl_c();
    let report = checks::drift(ws, &settings, &url, &cancel, &mut |line| {
        let _ = writeln!(warn, "{line}");
    })?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        print_drift(out, &report)?;
    }
    Ok(if report.differences.is_empty() {
        Outcome::Done
    } else {
        Outcome::Attention
    })
}

fn print_drift(out: &mut dyn Write, report: &DriftReport) -> Result<()> {
    let at = if report.revisions.is_empty() {
        "base".to_owned()
    } else {
        report.revisions.join(", ")
    };
    if report.differences.is_empty() {
        writeln!(
            out,
            "no drift: {} matches its history at [{at}] ({} step(s) replayed)",
            report.target, report.steps
        )?;
        return Ok(());
    }
    writeln!(
        out,
        "drift: {} differs from its history at [{at}] (expected: the history, actual: the database)",
        report.target
    )?;
    write!(out, "{}", report.differences)?;
    Ok(())
}

pub fn verify(
    args: &Args,
    ws: &Workspace,
    range: Option<&str>,
    out: &mut dyn Write,
    warn: &mut dyn Write,
) -> Result<Outcome> {
    let (settings, url) = settings(args, ws)?;
    let cancel = cancel_on_ctrl_c();
    let report = checks::verify(ws, &settings, &url, range, &cancel, &mut |line| {
        let _ = writeln!(warn, "{line}");
    })?;
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &report)?;
        writeln!(out)?;
    } else {
        print_verify(out, &report)?;
    }
    Ok(if report.clean() {
        Outcome::Done
    } else {
        Outcome::Attention
    })
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}

fn print_verify(out: &mut dyn Write, report: &VerifyReport) -> Result<()> {
    for check in &report.revisions {
        if check.clean() {
            writeln!(out, "{}: ok", check.revision)?;
            continue;
        }
        writeln!(out, "{}: PROBLEM", check.revision)?;
        if !check.not_undone.is_empty() {
            writeln!(
                out,
                "  the downgrade did not undo the upgrade (expected: before the upgrade, actual: after the downgrade):"
            )?;
            write!(out, "{}", indent(&check.not_undone.to_string()))?;
        }
        if !check.not_repeatable.is_empty() {
            writeln!(
                out,
                "  upgrading again built something else (expected: the first upgrade, actual: the second):"
            )?;
            write!(out, "{}", indent(&check.not_repeatable.to_string()))?;
        }
        if let Some(error) = &check.error {
            writeln!(out, "  {error}")?;
        }
    }
    if !report.not_verified.is_empty() {
        writeln!(
            out,
            "stopped: {} revision(s) not verified: {}",
            report.not_verified.len(),
            report.not_verified.join(", ")
        )?;
    }
    let bad = report.revisions.iter().filter(|c| !c.clean()).count();
    writeln!(
        out,
        "{} revision(s) verified, {bad} with problems",
        report.revisions.len()
    )?;
    Ok(())
}
