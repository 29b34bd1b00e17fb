//! Discovering an Alembic project (alembic.ini, script_location, version_locations) and loading its
//! revision files into `Revision` values in alembic's load order, without executing any Python.

pub mod header_cache;
pub mod ini;
pub mod names;
pub mod ops;
mod options;
pub mod pyparse;
pub mod pyproject;
pub mod revision;
pub mod walk;

use std::fmt;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use revision::{Body, Revision};

use crate::project::header_cache::HeaderCache;
use crate::project::ini::{Ini, IniError};
use crate::project::names::ModuleFinder;
use crate::project::options::{Resolved, Sources};
use crate::project::pyproject::{TomlError, ToolAlembic};

pub use options::Base;

/// What stops a project from loading at all. Problems with single files are `LoadProblem`s.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("no alembic.ini (nor a pyproject.toml with [tool.alembic]) in {start} or any directory above it (pass -c PATH)")]
    NotFound { start: String },
    #[error("{path}: cannot read: {source}")]
    Unreadable {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Ini(#[from] IniError),
    #[error(transparent)]
    Toml(#[from] TomlError),
    #[error("{path}: no section [{section}]")]
    NoSection { path: String, section: String },
    #[error("{path}: no 'script_location' key in section [{section}]")]
    NoScriptLocation { path: String, section: String },
    /// alembic warns and then answers from whichever object its maps hold (a phantom head, a
    /// history that fails or picks one file): we name both files instead of guessing.
    #[error("revision {revision} is declared by two files, {first} and {second}: give one of them a new revision id (alembic warns \"present more than once\" and answers from a mix of both)")]
    DuplicateRevision {
        revision: String,
        first: String,
        second: String,
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

/// The project's alembic options, resolved from alembic.ini and pyproject.toml as alembic does.
#[derive(Debug, Clone)]
pub struct ProjectConfig {
    ini_path: PathBuf,
    /// pyproject.toml, when alembic would read one.
    toml_path: Option<PathBuf>,
    /// Where alembic runs for this config; relative paths in it are taken from here.
    base: Base,
    /// The `-c` arguments that make alembic, run in `base`, read the same files.
    config_args: Vec<PathBuf>,
    pub section: String,
    pub script_location: PathBuf,
    pub version_locations: Vec<PathBuf>,
    pub recursive_version_locations: bool,
    pub sourceless: bool,
    pub prepend_sys_path: Vec<PathBuf>,
    pub file_template: String,
    pub truncate_slug_length: usize,
    pub sqlalchemy_url: Option<String>,
    /// Problems with the options that do not stop loading (a version location that is missing).
    pub warnings: Vec<LoadProblem>,
}

/// A loaded project: its options, its revisions in load order, and the files that failed.
#[derive(Debug, Clone)]
pub struct Project {
    pub config: ProjectConfig,
    pub revisions: Vec<Revision>,
    pub problems: Vec<LoadProblem>,
}

/// The config files alembic would read, and where it would run.
struct ConfigFiles {
    ini: Option<PathBuf>,
    toml: Option<PathBuf>,
    base: Base,
    config_args: Vec<PathBuf>,
}

/// Finds the config (`explicit`, else alembic.ini — or a pyproject.toml with `[tool.alembic]` —
/// from `start_dir` upward) and reads the options of `section`. `start_dir` is the current
/// directory: with `-c`, relative paths in the config are taken from it, as alembic takes them.
pub fn discover(
    start_dir: &Path,
    explicit_ini: Option<&Path>,
    section: &str,
) -> Result<ProjectConfig, ProjectError> {
    let files = locate(start_dir, explicit_ini)?;
    let ini = match &files.ini {
        Some(path) => Some(Ini::parse(path, &read_text(path)?)?),
        None => None,
    };
    let toml = match &files.toml {
        Some(path) => Some(ToolAlembic::parse(path, &read_text(path)?)?),
        None => None,
    };
    ProjectConfig::from_sources(&files, ini.as_ref(), toml.as_ref(), section)
}

fn read_text(path: &Path) -> Result<String, ProjectError> {
    std::fs::read_to_string(path).map_err(|source| ProjectError::Unreadable {
        path: path.display().to_string(),
        source,
    })
}

/// alembic reads `-c FILE` (a file named pyproject.toml is the TOML config) and, for the other
/// kind, the default name in the current directory. Without `-c` we search upward for the
/// directory alembic would be run from.
fn locate(start_dir: &Path, explicit: Option<&Path>) -> Result<ConfigFiles, ProjectError> {
    let file_in = |dir: &Path, name: &str| Some(dir.join(name)).filter(|p| p.is_file());
    if let Some(given) = explicit {
        let path = absolute(start_dir, given);
        let is_toml = path.file_name().is_some_and(|n| n == "pyproject.toml");
        let (ini, toml) = if is_toml {
            (file_in(start_dir, "alembic.ini"), Some(path))
        } else {
            (Some(path), file_in(start_dir, "pyproject.toml"))
        };
        return Ok(ConfigFiles {
            ini,
            toml,
            base: Base::CurrentDir(start_dir.to_path_buf()),
            config_args: vec![given.to_path_buf()],
        });
    }
    for dir in start_dir.ancestors() {
        let toml = file_in(dir, "pyproject.toml");
        if let Some(ini) = file_in(dir, "alembic.ini") {
            return Ok(ConfigFiles {
                ini: Some(ini),
                toml,
                base: Base::FoundDir(dir.to_path_buf()),
                config_args: vec![PathBuf::from("alembic.ini")],
            });
        }
        if let Some(toml) = toml.filter(|t| has_tool_alembic(t)) {
            return Ok(ConfigFiles {
                ini: None,
                toml: Some(toml),
                base: Base::FoundDir(dir.to_path_buf()),
                config_args: Vec::new(),
            });
        }
    }
    Err(ProjectError::NotFound {
        start: start_dir.display().to_string(),
    })
}

/// Whether a pyproject.toml found while searching configures alembic (a broken one counts, so
/// its error is reported rather than passed over).
fn has_tool_alembic(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    ToolAlembic::parse(path, &text).map_or(true, |t| !t.is_empty())
}

/// `base/path` without the `.` components, as Python's `Path(...).absolute()` gives it.
fn absolute(base: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.components().collect()
    } else {
        base.join(path).components().collect()
    }
}

impl ProjectConfig {
    /// The config file: alembic.ini, or pyproject.toml when there is no ini.
    pub fn ini_path(&self) -> &Path {
        &self.ini_path
    }

    /// The directory holding the config file (alembic-tui.yaml lives beside it).
    pub fn ini_dir(&self) -> &Path {
        self.ini_path.parent().unwrap_or(Path::new("."))
    }

    /// pyproject.toml, when alembic reads one for this project.
    pub fn toml_path(&self) -> Option<&Path> {
        self.toml_path.as_deref()
    }

    /// The directory alembic runs in for this config (the current directory with `-c`, else
    /// where the config was found); env.py's imports and relative paths resolve from here.
    pub fn alembic_dir(&self) -> &Path {
        self.base.dir()
    }

    /// The `-c` arguments for running alembic in `alembic_dir()` on the same files.
    pub fn alembic_config_args(&self) -> &[PathBuf] {
        &self.config_args
    }

    fn from_sources(
        files: &ConfigFiles,
        ini: Option<&Ini>,
        toml: Option<&ToolAlembic>,
        section: &str,
    ) -> Result<ProjectConfig, ProjectError> {
        let sources = Sources { ini, section, toml };
        let base = &files.base;
        let config_path = files
            .ini
            .clone()
            .or_else(|| files.toml.clone())
            .unwrap_or_default();
        let location = match sources.option("script_location")? {
            Some(location) => location,
            None => {
                let path = config_path.display().to_string();
                return Err(match ini {
                    Some(ini) if !ini.has_section(section) => ProjectError::NoSection {
                        path,
                        section: section.to_owned(),
                    },
                    _ => ProjectError::NoScriptLocation {
                        path,
                        section: section.to_owned(),
                    },
                });
            }
        };

        // The order of from_config: which error comes first is alembic's.
        let truncate_slug_length = match sources.option("truncate_slug_length")? {
            Some(v) => v.trim().parse().map_err(|_| {
                sources.bad(
                    "truncate_slug_length",
                    format!("{v:?} is not a whole number"),
                )
            })?,
            None => 40,
        };
        let prepend_sys_path: Vec<PathBuf> = sources
            .prepend_sys_path()?
            .unwrap_or_default()
            .iter()
            .map(|p| base.dir().join(p))
            .collect();
        let mut search = prepend_sys_path.clone();
        search.push(base.dir().to_path_buf());
        let recursive_version_locations = sources.boolean("recursive_version_locations")?;
        let file_template = sources
            .option("file_template")?
            .unwrap_or_else(|| "%(rev)s_%(slug)s".to_owned());
        let sourceless = sources.boolean("sourceless")?;
        let configured = sources.version_locations()?.filter(|l| !l.is_empty());

        let script_location = match options::resolve(&location, base.dir(), &search) {
            Resolved::Dir(dir) if dir.exists() => dir,
            Resolved::Dir(dir) => {
                return Err(sources.bad(
                    "script_location",
                    options::missing_detail(&sources, "script_location", &location, &dir, base),
                ))
            }
            Resolved::NoPackage { package } => {
                return Err(sources.bad(
                    "script_location",
                    format!(
                        "no package {package:?} in prepend_sys_path or {}",
                        base.dir().display()
                    ),
                ))
            }
        };
        let mut warnings = Vec::new();
        let version_locations = match configured {
            Some(entries) => {
                let mut dirs = Vec::with_capacity(entries.len());
                for entry in entries {
                    match options::resolve(&entry, base.dir(), &search) {
                        Resolved::Dir(dir) => {
                            if !dir.exists() {
                                warnings.push(options::missing_location_problem(
                                    &sources, &entry, &dir, base,
                                ));
                            }
                            dirs.push(dir);
                        }
                        Resolved::NoPackage { package } => warnings.push(LoadProblem {
                            path: PathBuf::from(entry.clone()),
                            line: None,
                            message: format!(
                                "version location skipped: no package {package:?} in prepend_sys_path or {}",
                                base.dir().display()
                            ),
                        }),
                    }
                }
                dirs
            }
            None => {
                let default = script_location.join("versions");
                if !default.exists() {
                    warnings.push(LoadProblem {
                        path: default.clone(),
                        line: None,
                        message: "the default version location (<script_location>/versions) does not exist: no revisions".to_owned(),
                    });
                }
                vec![default]
            }
        };
        Ok(ProjectConfig {
            ini_path: config_path,
            toml_path: files.toml.clone(),
            base: base.clone(),
            config_args: files.config_args.clone(),
            section: section.to_owned(),
            script_location,
            version_locations,
            recursive_version_locations,
            sourceless,
            prepend_sys_path,
            file_template,
            truncate_slug_length,
            // Read by env.py through get_main_option: the ini only.
            sqlalchemy_url: match ini {
                Some(ini) if ini.has_option(section, "sqlalchemy.url") => {
                    ini.get(section, "sqlalchemy.url")?
                }
                _ => None,
            },
            warnings,
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

/// Loads every revision file of the project, in load order, using both cores.
pub fn load(config: &ProjectConfig) -> Result<Project, ProjectError> {
    let listing = walk::list(
        &config.version_locations,
        config.recursive_version_locations,
    );
    let finder = finder(config);
    let results: Vec<Result<Revision, LoadProblem>> = listing
        .files
        .par_iter()
        .map(|path| revision::read(path, &finder))
        .collect();
    assemble(config, listing.problems, results)
}

/// Loads the project's revisions without their bodies (`upgrade`/`downgrade` are None): what
/// heads, history, show and plans need. Every file is still read, and a file is parsed unless
/// `cache_dir` holds what parsing this very content gave (a syntax error anywhere in the file
/// included), so every problem is reported as by `load`.
pub fn load_headers(
    config: &ProjectConfig,
    cache_dir: Option<&Path>,
) -> Result<Project, ProjectError> {
    let listing = walk::list(
        &config.version_locations,
        config.recursive_version_locations,
    );
    let finder = finder(config);
    let cache = HeaderCache::open(cache_dir, config.ini_path(), &config.section);
    /// One file's answer, whether the cache may keep it, and whether it was unchanged.
    struct Loaded {
        read: header_cache::Read,
        cacheable: bool,
        unchanged: bool,
    }
    // Unchanged files first, on this thread: a stat each, no reading, no worker threads.
    let mut loaded: Vec<Option<Loaded>> = listing
        .files
        .iter()
        .map(|path| {
            let stored_ns = header_cache::now_ns();
            let stamp = header_cache::Stamp::of(path);
            let (key, result) = cache.get_unchanged(path, stamp)?;
            Some(Loaded {
                read: header_cache::Read {
                    path: path.clone(),
                    key,
                    stamp,
                    stored_ns,
                    result,
                },
                cacheable: true,
                unchanged: true,
            })
        })
        .collect();
    // Changed or new files: read, and parsed unless their content is in the cache.
    let read_one = |path: &PathBuf| -> Loaded {
        let stored_ns = header_cache::now_ns();
        let stamp = header_cache::Stamp::of(path);
        let done = |key, result, cacheable, unchanged| Loaded {
            read: header_cache::Read {
                path: path.clone(),
                key,
                stamp,
                stored_ns,
                result,
            },
            cacheable,
            unchanged,
        };
        let problem = |message: String| LoadProblem {
            path: path.clone(),
            line: None,
            message,
        };
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(err) => {
                return done(
                    (0, 0),
                    Err(problem(format!("cannot read: {err}"))),
                    false,
                    false,
                )
            }
        };
        let key = header_cache::content_key(&bytes);
        if let Some(hit) = cache.get(path, key) {
            return done(key, hit, true, false);
        }
        let source = match String::from_utf8(bytes) {
            Ok(source) => source,
            Err(err) => {
                return done(
                    key,
                    Err(problem(format!("cannot read: {err}"))),
                    false,
                    false,
                )
            }
        };
        let (mut result, cacheable) = revision::read_source(path, &source, &finder);
        // Bodies are not kept: the answer is the same whether it came from the cache or not.
        if let Ok(rev) = &mut result {
            rev.upgrade = None;
            rev.downgrade = None;
            rev.tool_comments.clear();
        }
        done(key, result, cacheable, false)
    };
    // Both cores only when there is parsing to do (starting the pool is not free).
    if loaded.iter().any(Option::is_none) {
        let misses: Vec<(usize, Loaded)> = listing
            .files
            .par_iter()
            .enumerate()
            .filter(|(i, _)| loaded[*i].is_none())
            .map(|(i, path)| (i, read_one(path)))
            .collect();
        for (i, miss) in misses {
            loaded[i] = Some(miss);
        }
    }
    let loaded: Vec<Loaded> = loaded.into_iter().flatten().collect();
    let unchanged = loaded.iter().filter(|l| l.unchanged).count();
    cache.save(
        loaded
            .iter()
            .filter(|l| l.cacheable)
            .map(|l| &l.read)
            .collect(),
        unchanged,
    );
    let results = loaded.into_iter().map(|l| l.read.result).collect();
    assemble(config, listing.problems, results)
}

fn finder(config: &ProjectConfig) -> ModuleFinder {
    let mut search = config.prepend_sys_path.clone();
    search.push(config.alembic_dir().to_path_buf());
    ModuleFinder::new(search)
}

/// Revisions in load order and every problem, or the duplicate id that stops the project.
fn assemble(
    config: &ProjectConfig,
    listing_problems: Vec<LoadProblem>,
    results: Vec<Result<Revision, LoadProblem>>,
) -> Result<Project, ProjectError> {
    let mut revisions = Vec::with_capacity(results.len());
    let mut problems = config.warnings.clone();
    problems.extend(listing_problems);
    for result in results {
        match result {
            Ok(revision) => revisions.push(revision),
            Err(problem) => problems.push(problem),
        }
    }
    let mut declared: std::collections::HashMap<&str, &Path> =
        std::collections::HashMap::with_capacity(revisions.len());
    for revision in &revisions {
        if let Some(first) = declared.insert(&revision.id, &revision.path) {
            return Err(ProjectError::DuplicateRevision {
                revision: revision.id.clone(),
                first: first.display().to_string(),
                second: revision.path.display().to_string(),
            });
        }
    }
    Ok(Project {
        config: config.clone(),
        revisions,
        problems,
    })
}
