//! Schema checks from the console (issue 7): drift of the target database against its history,
//! and the up/down round trip of the selected revision, both run by `crate::engine::checks` on a shadow
//! database in the background. This module turns their reports into what the screen shows: a
//! report window, grouped by table, and a verdict per revision for the graph's badges.

use crate::db::diff::{Change, ObjectKind, SchemaDiff};
use crate::engine::checks::{DriftReport, VerifyReport};

/// Which check is running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CheckKind {
    Drift,
    Verify { revision: String },
}

impl CheckKind {
    pub fn label(&self) -> String {
        match self {
            CheckKind::Drift => "drift check".to_owned(),
            CheckKind::Verify { revision } => format!("verify {}", short(revision)),
        }
    }
}

/// A check running in the background.
#[derive(Debug, Clone)]
pub struct Check {
    pub kind: CheckKind,
    /// The tick it started at (elapsed time is counted in ticks, never read from a clock).
    pub started: u64,
    /// Its latest progress line.
    pub last: Option<String>,
    pub cancelling: bool,
}

/// What verify found for one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The downgrade undoes the upgrade and the upgrade repeats.
    Clean,
    /// How many objects the round trip left different (the report window lists them).
    Problems(usize),
    /// A step failed to run, or the check could not start.
    Failed(String),
}

impl Verdict {
    /// The one-line form for the detail pane.
    pub fn summary(&self) -> String {
        match self {
            Verdict::Clean => "✓ downgrade undoes upgrade, upgrade repeats".to_owned(),
            Verdict::Problems(n) => format!(
                "✗ round trip leaves {n} difference{}",
                if *n == 1 { "" } else { "s" }
            ),
            Verdict::Failed(reason) => format!("✗ could not verify: {reason}"),
        }
    }
}

/// How a report window marks a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Heading,
    Good,
    Bad,
    Plain,
}

/// A report window's title and lines.
#[derive(Debug, Clone)]
pub struct Report {
    pub title: String,
    pub lines: Vec<(Tone, String)>,
}

fn short(rev: &str) -> &str {
    rev.get(..12).unwrap_or(rev)
}

/// The differences grouped by table (objects that belong to no table come first, under their
/// own kind), one line per difference with both definitions where a definition changed.
fn diff_lines(diff: &SchemaDiff, expected: &str, actual: &str) -> Vec<(Tone, String)> {
    let mut groups: std::collections::BTreeMap<String, Vec<(Tone, String)>> =
        std::collections::BTreeMap::new();
    for d in &diff.differences {
        // A table's own difference and those of its columns, indexes, … share one heading.
        let group = match (&d.relation, d.kind) {
            (Some(rel), _) => rel.clone(),
            (None, ObjectKind::Relation) => d.name.clone(),
            (None, kind) => format!("({})", kind.label()),
        };
        let entry = groups.entry(group).or_default();
        let what = format!("{} {}", d.kind.label(), d.name);
        match &d.change {
            Change::Missing { expected: def } => {
                entry.push((
                    Tone::Bad,
                    format!("  missing {what}  (in the {expected} only)"),
                ));
                entry.push((Tone::Plain, format!("      {def}")));
            }
            Change::Extra { actual: def } => {
                entry.push((
                    Tone::Bad,
                    format!("  extra   {what}  (in the {actual} only)"),
                ));
                entry.push((Tone::Plain, format!("      {def}")));
            }
            Change::Changed {
                fields,
                expected: want,
                actual: got,
            } => {
                entry.push((
                    Tone::Bad,
                    format!("  changed {what}: {}", fields.join(", ")),
                ));
                entry.push((Tone::Plain, format!("      {expected}: {want}")));
                entry.push((Tone::Plain, format!("      {actual}: {got}")));
            }
        }
    }
    let mut lines = Vec::new();
    for (group, entries) in groups {
        lines.push((Tone::Heading, group));
        lines.extend(entries);
    }
    lines
}

/// The drift window: where the database is, and what differs from the history, by table.
pub fn drift_report(report: &DriftReport) -> Report {
    let at = if report.revisions.is_empty() {
        "base".to_owned()
    } else {
        report
            .revisions
            .iter()
            .map(|r| short(r))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut lines = vec![(
        Tone::Plain,
        format!(
            "the history replayed to [{at}] ({} step(s)) on a shadow database, compared with the database",
            report.steps
        ),
    )];
    if report.differences.is_empty() {
        lines.push((
            Tone::Good,
            "no drift: the database is what its history builds".to_owned(),
        ));
    } else {
        lines.push((
            Tone::Bad,
            format!(
                "{} difference(s) (history: what the migrations build; database: what is there)",
                report.differences.len()
            ),
        ));
        lines.push((Tone::Plain, String::new()));
        lines.extend(diff_lines(&report.differences, "history", "database"));
    }
    Report {
        title: "drift".to_owned(),
        lines,
    }
}

/// The verdict for `revision` in a verify report.
pub fn verdict(report: &VerifyReport, revision: &str) -> Verdict {
    let Some(check) = report.revisions.iter().find(|c| c.revision == revision) else {
        return Verdict::Failed(format!("{} was not checked", short(revision)));
    };
    if let Some(error) = &check.error {
        return Verdict::Failed(error.clone());
    }
    match check.not_undone.len() + check.not_repeatable.len() {
        0 => Verdict::Clean,
        n => Verdict::Problems(n),
    }
}

/// The verify window for one revision.
pub fn verify_report(report: &VerifyReport, revision: &str) -> Report {
    let check = report.revisions.iter().find(|c| c.revision == revision);
    let mut lines = vec![(
        Tone::Plain,
        format!(
            "on a shadow database: upgrade {r}, downgrade, upgrade again; snapshots compared",
            r = short(revision)
        ),
    )];
    match (verdict(report, revision), check) {
        (Verdict::Clean, _) => lines.push((Tone::Good, Verdict::Clean.summary())),
        (Verdict::Failed(reason), _) => lines.push((Tone::Bad, format!("✗ {reason}"))),
        (Verdict::Problems(_), Some(check)) => {
            if !check.not_undone.is_empty() {
                lines.push((
                    Tone::Bad,
                    "✗ the downgrade does not undo the upgrade:".to_owned(),
                ));
                lines.extend(diff_lines(
                    &check.not_undone,
                    "before upgrade",
                    "after downgrade",
                ));
            }
            if !check.not_repeatable.is_empty() {
                lines.push((
                    Tone::Bad,
                    "✗ upgrading again does not rebuild the same schema:".to_owned(),
                ));
                lines.extend(diff_lines(
                    &check.not_repeatable,
                    "first upgrade",
                    "second upgrade",
                ));
            }
        }
        (Verdict::Problems(_), None) => {}
    }
    Report {
        title: format!("verify {}", short(revision)),
        lines,
    }
}
