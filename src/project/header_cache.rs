//! The parse cache of revision headers: what reading a file gave (its header values and docstring,
//! or the problem it has — a syntax error anywhere in it included), keyed by the file's path and
//! content, so that commands that need no bodies skip parsing unchanged files.
//!
//! One file per project in the data dir, in a compact binary layout (length-prefixed fields) that
//! is indexed on open and decoded only for the files asked about. Only files whose header values
//! are literals are cached: a value taken from an imported module depends on another file. The
//! file's name carries a hash of the parsing code itself, so a changed parser never reads old
//! answers.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use crate::project::revision::{create_date_of, doc_of};
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

/// The first bytes of a cache file.
const MAGIC: &[u8] = b"alembic-tui headers 1\n";

/// A file changed within this long before its entry was stored could have changed again
/// without its timestamps moving (coarse file-system clocks): its content is checked instead.
const RACY_NS: i128 = 2_000_000_000;

/// What any write to a file changes: its change time (which no tool sets back), modification
/// time, inode and length, as git's index keeps them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    ctime_ns: i128,
    mtime_ns: i128,
    ino: u64,
    len: u64,
}

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

/// One file as a load read it, for `HeaderCache::save`.
pub struct Read {
    pub path: PathBuf,
    pub key: (u64, u64),
    pub stamp: Option<Stamp>,
    /// When its stamp was taken (before its content was read).
    pub stored_ns: i128,
    pub result: Result<Revision, LoadProblem>,
}

/// The cache of one project: read once, looked up from many threads, saved when it changed.
#[derive(Debug, Default)]
pub struct HeaderCache {
    file: Option<PathBuf>,
    bytes: Vec<u8>,
    /// Path → offset of its entry's fields (after the path) in `bytes`.
    index: HashMap<String, usize>,
}

impl HeaderCache {
    /// The cache for the project configured by `config_file`/`section`, in `dir` (none: no cache).
    pub fn open(dir: Option<&Path>, config_file: &Path, section: &str) -> HeaderCache {
        let Some(dir) = dir else {
            return HeaderCache::default();
        };
        let parser = hash_of(PARSER_SOURCES);
        let project = hash_of(&[&config_file.to_string_lossy(), section]);
        let file = dir.join(format!("headers-{parser:016x}-{project:016x}.bin"));
        // A missing, unreadable or damaged cache is an empty one: it only ever saves work.
        let bytes = std::fs::read(&file).unwrap_or_default();
        let index = index(&bytes).unwrap_or_default();
        HeaderCache {
            file: Some(file),
            bytes,
            index,
        }
    }

    fn entry(&self, path: &Path) -> Option<Entry<'_>> {
        let at = *self.index.get(path.to_str()?)?;
        Entry::decode(&mut Reader::at(&self.bytes, at))
    }

    /// What reading `path` gave last time, without reading it: its stamp is the one stored, and
    /// the file had not changed shortly before it was stored. Returns the content key too.
    pub fn get_unchanged(
        &self,
        path: &Path,
        stamp: Option<Stamp>,
    ) -> Option<((u64, u64), Result<Revision, LoadProblem>)> {
        let stamp = stamp?;
        let entry = self.entry(path)?;
        let settled = stamp.ctime_ns.max(stamp.mtime_ns) + RACY_NS < entry.stored_ns;
        (entry.stamp == Some(stamp) && settled).then(|| (entry.key, entry.revision(path)))
    }

    /// What reading `path` with this content gave last time, as a revision without bodies.
    pub fn get(&self, path: &Path, key: (u64, u64)) -> Option<Result<Revision, LoadProblem>> {
        let entry = self.entry(path)?;
        (entry.key == key).then(|| entry.revision(path))
    }

    /// Replaces the entries with what this load read (files gone from the project drop out) and
    /// writes the file if anything changed. Best effort: a cache that cannot be written is none.
    pub fn save(mut self, read: Vec<&Read>, unchanged: usize) {
        let Some(file) = self.file.take() else {
            return;
        };
        if unchanged == read.len() && unchanged == self.index.len() {
            return;
        }
        let mut out = Vec::with_capacity(self.bytes.len().max(4096));
        out.extend_from_slice(MAGIC);
        for r in read {
            let Some(path) = r.path.to_str() else {
                continue;
            };
            encode(&mut out, path, r);
        }
        let Some(dir) = file.parent() else { return };
        // Owner-only, like every file of ours in the data dir: it names the project's files.
        if crate::paths::create_private_dir(dir).is_err() {
            return;
        }
        // Written aside and renamed: a reader never sees half a file.
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        if crate::paths::write_private(&tmp, &out).is_ok() && std::fs::rename(&tmp, &file).is_err()
        {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// One entry, its strings borrowed from the cache's bytes.
struct Entry<'a> {
    key: (u64, u64),
    stamp: Option<Stamp>,
    stored_ns: i128,
    outcome: Outcome<'a>,
}

enum Outcome<'a> {
    Header {
        id: &'a str,
        down_revisions: Vec<&'a str>,
        branch_labels: Vec<&'a str>,
        depends_on: Vec<&'a str>,
        longdoc: &'a str,
    },
    Problem {
        line: Option<usize>,
        message: &'a str,
    },
}

impl<'a> Entry<'a> {
    /// The fields after the path.
    fn decode(r: &mut Reader<'a>) -> Option<Entry<'a>> {
        let key = (r.u64()?, r.u64()?);
        let stamp = match r.u8()? {
            0 => None,
            _ => Some(Stamp {
                ctime_ns: r.i128()?,
                mtime_ns: r.i128()?,
                ino: r.u64()?,
                len: r.u64()?,
            }),
        };
        let stored_ns = r.i128()?;
        let outcome = match r.u8()? {
            0 => Outcome::Header {
                id: r.str()?,
                down_revisions: r.strs()?,
                branch_labels: r.strs()?,
                depends_on: r.strs()?,
                longdoc: r.str()?,
            },
            _ => Outcome::Problem {
                line: match r.u8()? {
                    0 => {
                        r.u64()?;
                        None
                    }
                    _ => Some(usize::try_from(r.u64()?).ok()?),
                },
                message: r.str()?,
            },
        };
        Some(Entry {
            key,
            stamp,
            stored_ns,
            outcome,
        })
    }

    fn revision(&self, path: &Path) -> Result<Revision, LoadProblem> {
        let owned = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect();
        match &self.outcome {
            Outcome::Header {
                id,
                down_revisions,
                branch_labels,
                depends_on,
                longdoc,
            } => Ok(Revision {
                id: (*id).to_owned(),
                down_revisions: owned(down_revisions),
                branch_labels: owned(branch_labels),
                depends_on: owned(depends_on),
                doc: doc_of(longdoc),
                longdoc: (*longdoc).to_owned(),
                create_date: create_date_of(longdoc),
                path: path.to_path_buf(),
                upgrade: None,
                downgrade: None,
                tool_comments: Vec::new(),
            }),
            Outcome::Problem { line, message } => Err(LoadProblem {
                path: path.to_path_buf(),
                line: *line,
                message: (*message).to_owned(),
            }),
        }
    }
}

/// Path → offset of every entry; None for a file that is not a cache of this version.
fn index(bytes: &[u8]) -> Option<HashMap<String, usize>> {
    let mut r = Reader::at(bytes, 0);
    if r.take(MAGIC.len())? != MAGIC {
        return None;
    }
    let mut index = HashMap::new();
    while !r.done() {
        let path = r.str()?;
        index.insert(path.to_owned(), r.at);
        Entry::decode(&mut r)?;
    }
    Some(index)
}

fn encode(out: &mut Vec<u8>, path: &str, r: &Read) {
    fn str(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    }
    fn strs(out: &mut Vec<u8>, items: &[String]) {
        out.extend_from_slice(&(items.len() as u32).to_le_bytes());
        for s in items {
            str(out, s);
        }
    }
    str(out, path);
    out.extend_from_slice(&r.key.0.to_le_bytes());
    out.extend_from_slice(&r.key.1.to_le_bytes());
    match r.stamp {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            out.extend_from_slice(&s.ctime_ns.to_le_bytes());
            out.extend_from_slice(&s.mtime_ns.to_le_bytes());
            out.extend_from_slice(&s.ino.to_le_bytes());
            out.extend_from_slice(&s.len.to_le_bytes());
        }
    }
    out.extend_from_slice(&r.stored_ns.to_le_bytes());
    match &r.result {
        Ok(rev) => {
            out.push(0);
            str(out, &rev.id);
            strs(out, &rev.down_revisions);
            strs(out, &rev.branch_labels);
            strs(out, &rev.depends_on);
            str(out, &rev.longdoc);
        }
        Err(problem) => {
            out.push(1);
            out.push(u8::from(problem.line.is_some()));
            out.extend_from_slice(&(problem.line.unwrap_or(0) as u64).to_le_bytes());
            str(out, &problem.message);
        }
    }
}

/// Reads the little-endian, length-prefixed fields `encode` writes; None past the end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn at(bytes: &'a [u8], at: usize) -> Reader<'a> {
        Reader { bytes, at }
    }
    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let out = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(out)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn i128(&mut self) -> Option<i128> {
        Some(i128::from_le_bytes(self.take(16)?.try_into().ok()?))
    }
    fn str(&mut self) -> Option<&'a str> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.take(n)?).ok()
    }
    fn strs(&mut self) -> Option<Vec<&'a str>> {
        let n = self.u32()? as usize;
        (0..n).map(|_| self.str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_damage_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let path = PathBuf::from("/p/versions/a1.py");
        let revision = Revision {
            id: "a1".into(),
            down_revisions: vec!["z0".into(), "y9".into()],
            branch_labels: vec!["lbl".into()],
            depends_on: vec![],
            doc: "add\nthings".into(),
            longdoc: "add\nthings\n\nCreate Date: 2026-01-02".into(),
            create_date: Some("2026-01-02".into()),
            path: path.clone(),
            upgrade: None,
            downgrade: None,
            tool_comments: vec![],
        };
        let broken = PathBuf::from("/p/versions/b2.py");
        let problem = LoadProblem {
            path: broken.clone(),
            line: Some(7),
            message: "syntax error: x".into(),
        };
        let reads = [
            Read {
                path: path.clone(),
                key: (10, 20),
                stamp: None,
                stored_ns: 5,
                result: Ok(revision.clone()),
            },
            Read {
                path: broken.clone(),
                key: (30, 40),
                stamp: None,
                stored_ns: 5,
                result: Err(problem.clone()),
            },
        ];
        let ini = Path::new("/p/alembic.ini");
        HeaderCache::open(Some(dir.path()), ini, "alembic").save(reads.iter().collect(), 0);
        let cache = HeaderCache::open(Some(dir.path()), ini, "alembic");
        assert_eq!(cache.get(&path, (10, 20)), Some(Ok(revision)));
        assert_eq!(cache.get(&broken, (30, 40)), Some(Err(problem)));
        assert_eq!(cache.get(&path, (10, 21)), None);
        // No stamp: never answered unread.
        assert!(cache.get_unchanged(&path, None).is_none());

        let file = std::fs::read_dir(dir.path())
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() - 3]).unwrap();
        let cache = HeaderCache::open(Some(dir.path()), ini, "alembic");
        assert_eq!(cache.get(&path, (10, 20)), None);
    }
}
