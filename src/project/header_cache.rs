//! The parse cache of revision headers: what reading a file gave (its header values and docstring,
//! or the problem it has — a syntax error anywhere in it included), keyed by the file's path and
//! content, so that commands that need no bodies skip parsing unchanged files.
//!
//! One JSON file per project in the data dir. Only files whose header values are literals are
//! cached: a value taken from an imported module depends on another file. The cache file's name
//! carries a hash of the parsing code itself, so a changed parser never reads old answers.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::project::{LoadProblem, Revision};

/// The code whose output is cached: any change to it starts a new cache.
const PARSER_SOURCES: &[&str] = &[
    include_str!("header_cache.rs"),
    include_str!("revision.rs"),
    include_str!("pyparse.rs"),
    include_str!("names.rs"),
    include_str!("ops.rs"),
    // The parser crate is pinned; its version is part of what the answers depend on.
    "ruff_python_parser =0.0.10",
];

/// What reading one file gave, minus the bodies.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Outcome {
    Header {
        id: String,
        down_revisions: Vec<String>,
        branch_labels: Vec<String>,
        depends_on: Vec<String>,
        doc: String,
        longdoc: String,
        create_date: Option<String>,
    },
    Problem {
        line: Option<usize>,
        message: String,
    },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    len: u64,
    hash: u64,
    /// The file's status when it was read, and when that was: an unchanged status lets the
    /// content go unread (below).
    stamp: Option<Stamp>,
    stored_ns: i128,
    outcome: Outcome,
}

/// What any write to a file changes: its change time (which no tool sets back), modification
/// time, inode and length, as git's index keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    ctime_ns: i128,
    mtime_ns: i128,
    ino: u64,
    len: u64,
}

/// A file changed within this long before its entry was stored could have changed again
/// without its timestamps moving (coarse file-system clocks): its content is checked instead.
const RACY_NS: i128 = 2_000_000_000;

impl Stamp {
    /// The stamp of `path`, on systems that have one.
    pub fn of(path: &Path) -> Option<Stamp> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let meta = std::fs::metadata(path).ok()?;
            let ns = |secs: i64, nanos: i64| i128::from(secs) * 1_000_000_000 + i128::from(nanos);
            Some(Stamp {
                ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
                mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
                ino: meta.ino(),
                len: meta.len(),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = path;
            None
        }
    }
}

/// Now, in nanoseconds since the epoch (what an entry's `stored_ns` is compared with).
pub fn now_ns() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i128)
        .unwrap_or_default()
}

/// The cache of one project: loaded once, looked up from many threads, saved when it changed.
#[derive(Debug, Default)]
pub struct HeaderCache {
    file: Option<PathBuf>,
    entries: HashMap<PathBuf, Entry>,
}

/// The content key of a file: its length and a 64-bit hash of its bytes (the path is the map's
/// key, so a false hit needs the same file, the same length and a hash collision).
pub fn content_key(bytes: &[u8]) -> (u64, u64) {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut hasher);
    (bytes.len() as u64, hasher.finish())
}

fn hash_of(parts: &[&str]) -> u64 {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    parts.hash(&mut hasher);
    hasher.finish()
}

impl HeaderCache {
    /// The cache for the project configured by `config_file`/`section`, in `dir` (none: no cache).
    pub fn open(dir: Option<&Path>, config_file: &Path, section: &str) -> HeaderCache {
        let Some(dir) = dir else {
            return HeaderCache::default();
        };
        let parser = hash_of(PARSER_SOURCES);
        let project = hash_of(&[&config_file.to_string_lossy(), section]);
        let file = dir.join(format!("headers-{parser:016x}-{project:016x}.json"));
        // A missing or unreadable cache is an empty one: it only ever saves work.
        let entries = std::fs::read(&file)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        HeaderCache {
            file: Some(file),
            entries,
        }
    }

    /// What reading `path` gave last time, without reading it: its stamp is the one stored, and
    /// the file had not changed shortly before it was stored. Returns the content key too.
    pub fn get_unchanged(
        &self,
        path: &Path,
        stamp: Option<Stamp>,
    ) -> Option<((u64, u64), Result<Revision, LoadProblem>)> {
        let entry = self.entries.get(path)?;
        let stamp = stamp?;
        let settled = stamp.ctime_ns.max(stamp.mtime_ns) + RACY_NS < entry.stored_ns;
        (entry.stamp == Some(stamp) && settled)
            .then(|| ((entry.len, entry.hash), entry.revision(path)))
    }

    /// What reading `path` with this content gave last time, as a revision without bodies.
    pub fn get(&self, path: &Path, key: (u64, u64)) -> Option<Result<Revision, LoadProblem>> {
        let entry = self.entries.get(path)?;
        ((entry.len, entry.hash) == key).then(|| entry.revision(path))
    }
}

impl Entry {
    fn revision(&self, path: &Path) -> Result<Revision, LoadProblem> {
        match &self.outcome {
            Outcome::Header {
                id,
                down_revisions,
                branch_labels,
                depends_on,
                doc,
                longdoc,
                create_date,
            } => Ok(Revision {
                id: id.clone(),
                down_revisions: down_revisions.clone(),
                branch_labels: branch_labels.clone(),
                depends_on: depends_on.clone(),
                doc: doc.clone(),
                longdoc: longdoc.clone(),
                create_date: create_date.clone(),
                path: path.to_path_buf(),
                upgrade: None,
                downgrade: None,
                tool_comments: Vec::new(),
            }),
            Outcome::Problem { line, message } => Err(LoadProblem {
                path: path.to_path_buf(),
                line: *line,
                message: message.clone(),
            }),
        }
    }
}

/// One file as this load read it, for `HeaderCache::save`.
pub struct Read {
    pub path: PathBuf,
    pub key: (u64, u64),
    pub stamp: Option<Stamp>,
    /// When its stamp was taken (before its content was read).
    pub stored_ns: i128,
    pub result: Result<Revision, LoadProblem>,
}

impl HeaderCache {
    /// Replaces the entries with what this load read (files gone from the project drop out) and
    /// writes the file if anything changed. Best effort: a cache that cannot be written is none.
    pub fn save(mut self, read: Vec<&Read>, unchanged: usize) {
        let Some(file) = self.file.take() else {
            return;
        };
        if unchanged == read.len() && unchanged == self.entries.len() {
            return;
        }
        let entries: HashMap<PathBuf, Entry> = read
            .into_iter()
            .map(|r| {
                let (len, hash) = r.key;
                let outcome = match r.result.clone() {
                    Ok(r) => Outcome::Header {
                        id: r.id,
                        down_revisions: r.down_revisions,
                        branch_labels: r.branch_labels,
                        depends_on: r.depends_on,
                        doc: r.doc,
                        longdoc: r.longdoc,
                        create_date: r.create_date,
                    },
                    Err(p) => Outcome::Problem {
                        line: p.line,
                        message: p.message,
                    },
                };
                let entry = Entry {
                    len,
                    hash,
                    stamp: r.stamp,
                    stored_ns: r.stored_ns,
                    outcome,
                };
                (r.path.clone(), entry)
            })
            .collect();
        let Ok(json) = serde_json::to_vec(&entries) else {
            return;
        };
        let Some(dir) = file.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        // Written aside and renamed: a reader never sees half a file.
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, json).is_ok() && std::fs::rename(&tmp, &file).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}
