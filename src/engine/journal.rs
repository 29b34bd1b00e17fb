//! The journal: one JSON line per executed step (who, where, what, how long, how it ended),
//! appended and fsynced before the next step starts, so the record survives a crash.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::analysis::{self, AppliedHash, Finding, LintOptions};
use crate::config::{self, ResolvedUrl};
use crate::engine::render::sha256_hex;
use crate::engine::script::{direction_word, StepBody, StepScript};
use crate::engine::EngineError;
use crate::project::Revision;

/// One executed step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// UTC, RFC 3339 with milliseconds.
    pub ts: String,
    pub os_user: String,
    pub profile: Option<String>,
    /// The database URL, redacted.
    pub target: String,
    pub direction: String,
    pub revision: String,
    pub file_sha256: String,
    /// The statements as sent (for online-only steps: the alembic command).
    pub statements: Vec<String>,
    pub duration_ms: u64,
    /// `started` (the intent line written before the step begins: a step with no later line
    /// was interrupted — a killed run — and the version table says whether it committed),
    /// then one of `applied` (committed), `failed` / `cancelled` (rolled back), `rolled-back`
    /// (with `transaction: plan`: it ran, but a later step failed before the plan's COMMIT) or
    /// `partial` (statements run outside a transaction had committed when the step failed:
    /// `error` says which).
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Entry {
    pub fn for_step(
        profile: Option<&str>,
        redacted_target: &str,
        script: &StepScript,
        elapsed: Duration,
        outcome: &str,
        error: Option<String>,
    ) -> Entry {
        let statements = match &script.body {
            StepBody::Sql(statements) => statements.iter().map(|s| s.text.clone()).collect(),
            StepBody::OnlineOnly { target, .. } => vec![format!(
                "alembic {} {}",
                direction_word(script.step.direction),
                target.as_deref().unwrap_or("?")
            )],
        };
        Entry {
            ts: utc_now(),
            os_user: os_user(),
            profile: profile.map(str::to_owned),
            target: redacted_target.to_owned(),
            direction: direction_word(script.step.direction).to_owned(),
            revision: script.step.revision.clone(),
            file_sha256: script.file_sha256.clone(),
            statements,
            duration_ms: u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX),
            outcome: outcome.to_owned(),
            error,
        }
    }
}

impl Entry {
    /// A `stamp`: the version table set to `revision` without running a migration.
    pub fn for_stamp(
        profile: Option<&str>,
        redacted_target: &str,
        revision: &str,
        outcome: &str,
        error: Option<String>,
    ) -> Entry {
        Entry {
            ts: utc_now(),
            os_user: os_user(),
            profile: profile.map(str::to_owned),
            target: redacted_target.to_owned(),
            direction: "stamp".to_owned(),
            revision: revision.to_owned(),
            file_sha256: String::new(),
            statements: vec![format!("alembic stamp {revision}")],
            duration_ms: 0,
            outcome: outcome.to_owned(),
            error,
        }
    }
}

/// The OS user: `$USER`/`$LOGNAME`, else what `id -un` says (service shells often set neither).
fn os_user() -> String {
    static USER: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    USER.get_or_init(|| {
        std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .ok()
            .filter(|u| !u.is_empty())
            .or_else(|| {
                let out = std::process::Command::new("id").arg("-un").output().ok()?;
                let name = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                (!name.is_empty()).then_some(name)
            })
            .unwrap_or_else(|| "unknown".to_owned())
    })
    .clone()
}

/// Now as `YYYY-MM-DDTHH:MM:SS.mmmZ` (the calendar arithmetic revision file names use too).
pub fn utc_now() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = crate::project::revision::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        now.subsec_millis()
    )
}

/// The entries of revisions starting with `revision` and of `profile`, oldest first.
pub fn select(entries: Vec<Entry>, revision: Option<&str>, profile: Option<&str>) -> Vec<Entry> {
    entries
        .into_iter()
        .filter(|e| revision.is_none_or(|r| e.revision.starts_with(r)))
        .filter(|e| profile.is_none_or(|p| e.profile.as_deref() == Some(p)))
        .collect()
}

/// An append-only journal file.
#[derive(Debug, Clone)]
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    pub fn at(path: PathBuf) -> Journal {
        Journal { path }
    }

    /// The journal in the data dir (`journal.jsonl`).
    pub fn default_location() -> Result<Journal, EngineError> {
        let dir = crate::paths::data_dir().map_err(|e| EngineError::Check(format!("{e:#}")))?;
        Ok(Journal::at(dir.join("journal.jsonl")))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one line and fsyncs it.
    pub fn append(&self, entry: &Entry) -> Result<(), EngineError> {
        if let Some(dir) = self.path.parent() {
            crate::paths::create_private_dir(dir)
                .map_err(|e| EngineError::io(format!("creating {}", dir.display()), e))?;
        }
        // An Entry is plain strings and numbers: encoding cannot fail.
        let mut line = serde_json::to_vec(entry).unwrap_or_default();
        line.push(b'\n');
        // 0600: the journal names users, databases and every statement run.
        let mut file = crate::paths::open_private_append(&self.path)
            .map_err(|e| EngineError::io(format!("opening {}", self.path.display()), e))?;
        file.write_all(&line)
            .and_then(|()| file.sync_all())
            .map_err(|e| EngineError::io(format!("writing {}", self.path.display()), e))
    }

    /// Every readable entry, oldest first; lines that do not parse (a torn last line after a
    /// crash) are skipped. A missing journal is empty.
    pub fn read_all(&self) -> Result<Vec<Entry>, EngineError> {
        let reading = |e| EngineError::io(format!("reading {}", self.path.display()), e);
        let file = match std::fs::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(reading(e)),
        };
        let mut entries = Vec::new();
        for line in std::io::BufReader::new(file).lines() {
            let line = line.map_err(reading)?;
            if let Ok(entry) = serde_json::from_str::<Entry>(&line) {
                entries.push(entry);
            }
        }
        Ok(entries)
    }
}

/// The upgrades the journal recorded as applied to the database this run points at (matched
/// by the redacted URL, as the journal stores it), oldest first.
pub fn applied_hashes(entries: &[Entry], target: &str) -> Vec<AppliedHash> {
    entries
        .iter()
        .filter(|e| e.target == target && e.direction == "upgrade" && e.outcome == "applied")
        .filter(|e| !e.file_sha256.is_empty())
        .map(|e| AppliedHash {
            revision: e.revision.clone(),
            file_sha256: e.file_sha256.clone(),
        })
        .collect()
}

/// `edited-after-apply` against `journal` for the database at `url`: each revision whose file
/// no longer hashes to what was applied there. Problems (an unreadable journal or file) go to
/// `warn` and skip what they concern.
pub fn edited_since_applied(
    journal: &Journal,
    url: &ResolvedUrl,
    revs: &[&Revision],
    opts: &LintOptions,
    warn: &mut dyn FnMut(String),
) -> Vec<Finding> {
    let journal = match journal.read_all() {
        Ok(entries) if !entries.is_empty() => entries,
        Ok(_) => return Vec::new(),
        Err(err) => {
            warn(format!("edited-after-apply skipped: {err:#}"));
            return Vec::new();
        }
    };
    let applied = applied_hashes(&journal, &config::redact(&url.url));
    let mut found = Vec::new();
    for rev in revs {
        if !applied.iter().any(|a| a.revision == rev.id) {
            continue;
        }
        match std::fs::read(&rev.path) {
            Ok(bytes) => found.extend(analysis::edited_after_apply(
                rev,
                &sha256_hex(&bytes),
                &applied,
                opts,
            )),
            Err(err) => warn(format!("{}: cannot read: {err}", rev.path.display())),
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let ts = utc_now();
        assert_eq!(ts.len(), 24, "{ts}");
        assert!(ts.ends_with('Z') && ts.as_bytes()[10] == b'T', "{ts}");
        assert!(ts.as_str() > "2024-01-01");
    }

    #[test]
    fn entries_round_trip_and_torn_lines_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::at(dir.path().join("j/journal.jsonl"));
        let entry = Entry {
            ts: utc_now(),
            os_user: "me".into(),
            profile: None,
            target: "postgresql://u:***@h/db".into(),
            direction: "upgrade".into(),
            revision: "abc".into(),
            file_sha256: "00".into(),
            statements: vec!["CREATE TABLE t (id int)".into()],
            duration_ms: 3,
            outcome: "applied".into(),
            error: None,
        };
        journal.append(&entry).unwrap();
        journal.append(&entry).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(journal.path())
            .unwrap();
        f.write_all(b"{\"ts\": \"torn").unwrap();
        assert_eq!(journal.read_all().unwrap(), vec![entry.clone(), entry]);
    }
}
