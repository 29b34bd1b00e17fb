//! Discovering an Alembic project (alembic.ini, script_location, version_locations) and loading its
//! revision files into `Revision` values in alembic's load order, without executing any Python.

pub mod ini;
pub mod names;
pub mod ops;
pub mod pyparse;
pub mod revision;

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use revision::{Body, Revision};

use crate::project::ini::{Ini, IniError};
use crate::project::names::ModuleFinder;

/// What stops a project from loading at all. Problems with single files are `LoadProblem`s.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("no alembic.ini in {start} or any directory above it (pass -c PATH)")]
    NotFound { start: String },
    #[error("{path}: cannot read: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Ini(#[from] IniError),
    #[error("{path}: no section [{section}]")]
    NoSection { path: String, section: String },
    #[error("{path}: no 'script_location' key in section [{section}]")]
    NoScriptLocation { path: String, section: String },
    #[error("{path}: [{section}] script_location: {location} does not exist")]
    MissingScriptLocation {
        path: String,
        section: String,
        location: String,
    },
    #[error("{path}: [{section}] {key}: {message}")]
    BadValue {
        path: String,
        section: String,
        key: String,
        message: String,
    },
}

/// One file that could not be read as a revision; the others still load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadProblem {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for LoadProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

/// The project's alembic options, resolved from the ini file.
#[derive(Debug, Clone)]
pub struct ProjectConfig {
    ini_path: PathBuf,
    pub section: String,
    pub script_location: PathBuf,
    pub version_locations: Vec<PathBuf>,
    pub recursive_version_locations: bool,
    pub sourceless: bool,
    pub prepend_sys_path: Vec<PathBuf>,
    pub file_template: String,
    pub truncate_slug_length: usize,
    pub sqlalchemy_url: Option<String>,
}

/// A loaded project: its options, its revisions in load order, and the files that failed.
#[derive(Debug, Clone)]
pub struct Project {
    pub config: ProjectConfig,
    pub revisions: Vec<Revision>,
    pub problems: Vec<LoadProblem>,
}

/// Finds the ini file (`explicit`, else alembic.ini from `start_dir` upward) and reads the
/// options of `section`.
pub fn discover(
    start_dir: &Path,
    explicit_ini: Option<&Path>,
    section: &str,
) -> Result<ProjectConfig, ProjectError> {
    let ini_path = match explicit_ini {
        Some(path) => absolute(start_dir, path),
        None => start_dir
            .ancestors()
            .map(|d| d.join("alembic.ini"))
            .find(|p| p.is_file())
            .ok_or_else(|| ProjectError::NotFound {
                start: start_dir.display().to_string(),
            })?,
    };
    let text = std::fs::read_to_string(&ini_path).map_err(|source| ProjectError::Unreadable {
        path: ini_path.display().to_string(),
        source,
    })?;
    let ini = Ini::parse(&ini_path, &text)?;
    ProjectConfig::from_ini(&ini, section)
}

fn absolute(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        base.join(path)
    }
}

impl ProjectConfig {
    pub fn ini_path(&self) -> &Path {
        &self.ini_path
    }

    /// The directory holding the ini file: relative paths in it are taken from here.
    pub fn ini_dir(&self) -> &Path {
        self.ini_path.parent().unwrap_or(Path::new("."))
    }

    fn from_ini(ini: &Ini, section: &str) -> Result<ProjectConfig, ProjectError> {
        let path = ini.path().display().to_string();
        if !ini.has_section(section) {
            return Err(ProjectError::NoSection {
                path,
                section: section.to_owned(),
            });
        }
        let dir = ini.path().parent().unwrap_or(Path::new(".")).to_path_buf();
        let get = |key: &str| ini.get(section, key);
        let bad = |key: &str, message: String| ProjectError::BadValue {
            path: path.clone(),
            section: section.to_owned(),
            key: key.to_owned(),
            message,
        };

        let separator = match get("path_separator")? {
            Some(sep) => Some(sep),
            None => get("version_path_separator")?,
        };
        let split = |value: &str, key: &str| -> Result<Vec<String>, ProjectError> {
            split_paths(value, separator.as_deref()).map_err(|m| bad(key, m))
        };
        let prepend_sys_path: Vec<PathBuf> = match get("prepend_sys_path")? {
            Some(value) => split(&value, "prepend_sys_path")?
                .into_iter()
                .map(|p| absolute(&dir, Path::new(&p)))
                .collect(),
            None => Vec::new(),
        };

        let location = get("script_location")?.ok_or_else(|| ProjectError::NoScriptLocation {
            path: path.clone(),
            section: section.to_owned(),
        })?;
        let script_location = resolve_script_location(&location, &dir, &prepend_sys_path)
            .ok_or_else(|| ProjectError::MissingScriptLocation {
                path: path.clone(),
                section: section.to_owned(),
                location: location.clone(),
            })?;
        let version_locations = match get("version_locations")? {
            Some(value) => split(&value, "version_locations")?
                .into_iter()
                .map(|p| absolute(&dir, Path::new(&p)))
                .collect(),
            None => vec![script_location.join("versions")],
        };
        let truncate_slug_length = match get("truncate_slug_length")? {
            Some(v) => v.trim().parse().map_err(|_| {
                bad(
                    "truncate_slug_length",
                    format!("{v:?} is not a whole number"),
                )
            })?,
            None => 40,
        };
        Ok(ProjectConfig {
            ini_path: ini.path().to_path_buf(),
            section: section.to_owned(),
            script_location,
            version_locations,
            // alembic counts only the exact string "true".
            recursive_version_locations: get("recursive_version_locations")?.as_deref()
                == Some("true"),
            sourceless: get("sourceless")?.as_deref() == Some("true"),
            prepend_sys_path,
            file_template: get("file_template")?.unwrap_or_else(|| "%(rev)s_%(slug)s".to_owned()),
            truncate_slug_length,
            sqlalchemy_url: get("sqlalchemy.url")?,
        })
    }

    /// Where `alembic revision -m MESSAGE --rev-id REV` would write the new file (first version
    /// location; alembic's slug rules; date tokens in UTC).
    pub fn new_revision_path(&self, rev_id: &str, message: &str) -> PathBuf {
        let mut slug = message
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join("_")
            .to_lowercase();
        if slug.chars().count() > self.truncate_slug_length {
            let cut: String = slug.chars().take(self.truncate_slug_length).collect();
            slug = match cut.rsplit_once('_') {
                Some((head, _)) => format!("{head}_"),
                None => format!("{cut}_"),
            };
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let name = revision::format_template(&self.file_template, rev_id, &slug, now);
        let dir = self
            .version_locations
            .first()
            .cloned()
            .unwrap_or_else(|| self.script_location.join("versions"));
        dir.join(format!("{name}.py"))
    }
}

/// Splits a path list as alembic does for `path_separator` / `version_path_separator`.
fn split_paths(value: &str, separator: Option<&str>) -> Result<Vec<String>, String> {
    let pieces: Vec<String> = match separator {
        // Legacy: commas and/or spaces.
        None => value.split([',', ' ', '\n']).map(str::to_owned).collect(),
        Some(sep) => {
            let ch = match sep {
                "space" => ' ',
                "newline" => '\n',
                "os" => {
                    if cfg!(windows) {
                        ';'
                    } else {
                        ':'
                    }
                }
                ":" => ':',
                ";" => ';',
                other => {
                    return Err(format!(
                        "{other:?} is not a valid separator; expected 'space', 'newline', 'os', ':' or ';'"
                    ))
                }
            };
            value.split(ch).map(str::to_owned).collect()
        }
    };
    Ok(pieces
        .into_iter()
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect())
}

/// A plain directory (relative to the ini file), or `package:dir` found on the search path.
fn resolve_script_location(location: &str, dir: &Path, search: &[PathBuf]) -> Option<PathBuf> {
    let plain = absolute(dir, Path::new(location));
    if plain.is_dir() {
        return Some(plain);
    }
    let (package, resource) = location.split_once(':')?;
    let package: PathBuf = package.split('.').collect();
    search
        .iter()
        .chain(std::iter::once(&dir.to_path_buf()))
        .map(|base| base.join(&package).join(resource))
        .find(|p| p.is_dir())
}

/// Revision file candidates in alembic's load order: each location in order; per directory its
/// files sorted by code point, then (when recursive) its subdirectories, sorted, depth first.
pub fn list_revision_files(config: &ProjectConfig) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut seen_files = HashSet::new();
    let mut seen_dirs = HashSet::new();
    for location in &config.version_locations {
        let mut stack = vec![location.clone()];
        while let Some(dir) = stack.pop() {
            // The same directory reached twice (overlapping locations, a symlink) is read once;
            // canonicalising directories rather than every file keeps listing cheap.
            let real_dir = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
            if !seen_dirs.insert(real_dir.clone()) {
                continue;
            }
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut names: Vec<(String, bool, bool)> = entries
                .filter_map(Result::ok)
                .map(|e| {
                    let kind = e.file_type().ok();
                    let is_link = kind.is_some_and(|t| t.is_symlink());
                    let is_dir = if is_link {
                        e.path().is_dir()
                    } else {
                        kind.is_some_and(|t| t.is_dir())
                    };
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        is_dir,
                        is_link,
                    )
                })
                .collect();
            names.sort();
            for (name, is_dir, is_link) in &names {
                if *is_dir || !is_revision_file_name(name) {
                    continue;
                }
                let path = dir.join(name);
                // Only a symlinked file can be the same file as another one already listed.
                let real = if *is_link {
                    std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone())
                } else {
                    real_dir.join(name)
                };
                if seen_files.insert(real) {
                    files.push(path);
                }
            }
            if config.recursive_version_locations {
                let subdirs: Vec<PathBuf> = names
                    .iter()
                    .filter(|(n, is_dir, _)| *is_dir && n != "__pycache__")
                    .map(|(n, _, _)| dir.join(n))
                    .collect();
                stack.extend(subdirs.into_iter().rev());
            }
        }
    }
    files
}

/// alembic's `(?!\.\#|__init__)(.*\.py)$`, matched from the start of the name.
fn is_revision_file_name(name: &str) -> bool {
    name.ends_with(".py") && !name.starts_with(".#") && !name.starts_with("__init__")
}

/// Loads every revision file of the project, in load order, using both cores.
pub fn load(config: &ProjectConfig) -> Result<Project, ProjectError> {
    let files = list_revision_files(config);
    let mut search = config.prepend_sys_path.clone();
    search.push(config.ini_dir().to_path_buf());
    let finder = ModuleFinder::new(search);
    let results: Vec<Result<Revision, LoadProblem>> = files
        .par_iter()
        .map(|path| revision::read(path, &finder))
        .collect();
    let mut revisions = Vec::with_capacity(results.len());
    let mut problems = Vec::new();
    for result in results {
        match result {
            Ok(revision) => revisions.push(revision),
            Err(problem) => problems.push(problem),
        }
    }
    Ok(Project {
        config: config.clone(),
        revisions,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_split_as_alembic_does() {
        assert_eq!(split_paths("a, b c", None).unwrap(), ["a", "b", "c"]);
        assert_eq!(split_paths("a b;c", Some(";")).unwrap(), ["a b", "c"]);
        assert_eq!(split_paths("a\n b\n", Some("newline")).unwrap(), ["a", "b"]);
        assert_eq!(split_paths("a b", Some("space")).unwrap(), ["a", "b"]);
        assert!(split_paths("a", Some("comma")).is_err());
    }

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
