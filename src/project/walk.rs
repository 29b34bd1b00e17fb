//! Listing revision files in alembic's load order: each version location in turn, a directory's
//! files sorted by code point, then (recursive) its subdirectories sorted, depth first, never
//! through a symlinked directory; only regular files are offered for reading.

use std::collections::HashSet;
use std::fs::FileType;
use std::path::{Path, PathBuf};

use crate::project::LoadProblem;

/// The candidate files, and what was skipped with a reason worth a warning.
#[derive(Debug, Default)]
pub struct Listing {
    pub files: Vec<PathBuf>,
    pub problems: Vec<LoadProblem>,
}

/// One directory entry: its name and what it is without following a symlink.
struct Entry {
    name: String,
    kind: Option<FileType>,
}

/// Walks `locations` as alembic's `_load_revisions` + `_list_py_dir` do. Locations that do not
/// exist are the caller's business (it names them); here they are skipped.
pub fn list(locations: &[PathBuf], recursive: bool) -> Listing {
    let mut out = Listing::default();
    let mut seen_files = HashSet::new();
    let mut seen_dirs = HashSet::new();
    for location in locations {
        // alembic walks the location itself even when it is a symlink (os.walk follows the top).
        if !location.is_dir() {
            continue;
        }
        let mut stack = vec![location.clone()];
        while let Some(dir) = stack.pop() {
            // The same directory reached twice (overlapping locations) gives files alembic skips
            // as "loaded twice"; canonicalising directories rather than every file keeps it cheap.
            let real_dir = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
            if !seen_dirs.insert(real_dir.clone()) {
                continue;
            }
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(err) => {
                    // alembic's os.walk skips it silently; a missing subtree deserves a word.
                    out.problems.push(LoadProblem {
                        path: dir.clone(),
                        line: None,
                        message: format!("cannot list this version directory: {err}"),
                    });
                    continue;
                }
            };
            let mut names: Vec<Entry> = entries
                .filter_map(Result::ok)
                .map(|e| Entry {
                    name: e.file_name().to_string_lossy().into_owned(),
                    kind: e.file_type().ok(),
                })
                .collect();
            names.sort_by(|a, b| a.name.cmp(&b.name));
            // alembic lists no files of a `…__pycache__` directory (it still walks below it).
            let pycache = dir
                .file_name()
                .is_some_and(|n| n.to_string_lossy().ends_with("__pycache__"));
            for entry in &names {
                if pycache
                    || entry.kind.is_some_and(|k| k.is_dir())
                    || !is_revision_file_name(&entry.name)
                {
                    continue;
                }
                let path = dir.join(&entry.name);
                let is_link = entry.kind.is_some_and(|k| k.is_symlink());
                match readable(&path, entry.kind) {
                    Ok(true) => {}
                    // A symlinked directory: not walked, not a file.
                    Ok(false) => continue,
                    Err(problem) => {
                        out.problems.push(problem);
                        continue;
                    }
                }
                // Only a symlinked file can be the same file as another one already listed.
                let real = if is_link {
                    std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone())
                } else {
                    real_dir.join(&entry.name)
                };
                if seen_files.insert(real) {
                    out.files.push(path);
                }
            }
            if recursive {
                // Real directories only: os.walk / Path.walk do not descend through symlinks.
                let subdirs: Vec<PathBuf> = names
                    .iter()
                    .filter(|e| e.kind.is_some_and(|k| k.is_dir()))
                    .map(|e| dir.join(&e.name))
                    .collect();
                stack.extend(subdirs.into_iter().rev());
            }
        }
    }
    out
}

/// Whether `path` is a regular file to read (a symlink to one is read, as alembic reads it), or a
/// symlinked directory to pass over; anything else is a problem: reading a FIFO or a device never
/// ends, and a dangling link has nothing to read.
fn readable(path: &Path, kind: Option<FileType>) -> Result<bool, LoadProblem> {
    let problem = |message: String| LoadProblem {
        path: path.to_path_buf(),
        line: None,
        message,
    };
    let kind = match kind {
        Some(k) if k.is_symlink() => match std::fs::metadata(path) {
            Ok(meta) => meta.file_type(),
            Err(err) => return Err(problem(format!("not read: a symlink to nothing ({err})"))),
        },
        Some(k) => k,
        None => {
            return Err(problem(
                "not read: cannot tell what kind of file it is".into(),
            ))
        }
    };
    if kind.is_file() || kind.is_dir() {
        return Ok(kind.is_file());
    }
    Err(problem(format!(
        "not read: {} is not a regular file (alembic would try to import it and could hang)",
        describe(kind)
    )))
}

fn describe(kind: FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_char_device() {
            return "a character device";
        }
        if kind.is_block_device() {
            return "a block device";
        }
        if kind.is_socket() {
            return "a socket";
        }
    }
    let _ = kind;
    "it"
}

/// alembic's `(?!\.\#|__init__)(.*\.py)$`, matched from the start of the name.
pub(crate) fn is_revision_file_name(name: &str) -> bool {
    name.ends_with(".py") && !name.starts_with(".#") && !name.starts_with("__init__")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revision_file_names_follow_alembics_pattern() {
        assert!(is_revision_file_name("abc_add.py"));
        assert!(!is_revision_file_name("__init__.py"));
        assert!(!is_revision_file_name("__init__x.py"));
        assert!(!is_revision_file_name(".#abc.py"));
        assert!(!is_revision_file_name("README"));
        assert!(!is_revision_file_name("abc.pyc"));
    }
}
