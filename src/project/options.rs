//! alembic's options as `Config` and `ScriptDirectory.from_config` read them: alembic.ini's
//! section first, `[tool.alembic]` of pyproject.toml for what the ini lacks, path lists split
//! only where alembic splits them, relative paths taken from the directory alembic runs in.

use std::path::{Path, PathBuf};

use crate::project::ini::Ini;
use crate::project::pyproject::ToolAlembic;
use crate::project::{LoadProblem, ProjectError};

/// What the options come from: at most one ini file and one pyproject.toml.
pub(crate) struct Sources<'a> {
    pub ini: Option<&'a Ini>,
    pub section: &'a str,
    pub toml: Option<&'a ToolAlembic>,
}

/// Where relative paths are taken from, and why (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// `-c` was given: alembic resolves against the current directory.
    CurrentDir(PathBuf),
    /// The config was found by searching upward: alembic would be run where it was found.
    FoundDir(PathBuf),
}

impl Base {
    pub fn dir(&self) -> &Path {
        match self {
            Base::CurrentDir(d) | Base::FoundDir(d) => d,
        }
    }

    fn describe(&self) -> String {
        match self {
            Base::CurrentDir(d) => format!(
                "relative paths are taken from the current directory, {}, as alembic takes them",
                d.display()
            ),
            Base::FoundDir(d) => format!(
                "relative paths are taken from {}, where the config was found and alembic runs",
                d.display()
            ),
        }
    }
}

/// A separator named by `path_separator` / `version_path_separator`.
type Separator = char;

impl Sources<'_> {
    /// Where a key's value comes from, for messages: `alembic.ini: [alembic]` or the toml table.
    fn origin(&self, key: &str) -> (String, String) {
        match self.ini {
            Some(ini) if ini.has_option(self.section, key) => {
                (ini.path().display().to_string(), self.section.to_owned())
            }
            _ => match self.toml {
                Some(toml) => (toml.path().display().to_string(), "tool.alembic".to_owned()),
                None => (String::new(), self.section.to_owned()),
            },
        }
    }

    /// The folder `%(here)s` stands for where `key` is written.
    fn here(&self, key: &str) -> Option<PathBuf> {
        let file = match self.ini {
            Some(ini) if ini.has_option(self.section, key) => ini.path(),
            _ => self.toml?.path(),
        };
        file.parent().map(Path::to_path_buf)
    }

    pub(crate) fn bad(&self, key: &str, message: String) -> ProjectError {
        let (path, section) = self.origin(key);
        ProjectError::BadValue {
            path,
            section,
            key: key.to_owned(),
            message,
        }
    }

    /// The ini's value only (alembic's `get_main_option`).
    fn ini_value(&self, key: &str) -> Result<Option<String>, ProjectError> {
        match self.ini {
            Some(ini) if ini.has_option(self.section, key) => Ok(ini.get(self.section, key)?),
            _ => Ok(None),
        }
    }

    /// alembic's `get_alembic_option` for a string: the ini first, then `[tool.alembic]`.
    pub(crate) fn option(&self, key: &str) -> Result<Option<String>, ProjectError> {
        if let Some(value) = self.ini_value(key)? {
            return Ok(Some(value));
        }
        match self.toml {
            Some(toml) => Ok(toml.string(key)?),
            None => Ok(None),
        }
    }

    /// alembic's `get_alembic_boolean_option`: in the ini only the exact string `true`.
    pub(crate) fn boolean(&self, key: &str) -> Result<bool, ProjectError> {
        if let Some(value) = self.ini_value(key)? {
            return Ok(value == "true");
        }
        match self.toml {
            Some(toml) => Ok(toml.boolean(key)?),
            None => Ok(false),
        }
    }

    /// alembic's `_get_file_separator_char`: the first of `names` present in the ini, which must
    /// be a known value. configparser keeps inline comments, so `os  # …` is not `os`.
    fn separator(&self, names: &[&str]) -> Result<Option<Separator>, ProjectError> {
        for name in names {
            let Some(value) = self.ini_value(name)? else {
                continue;
            };
            let sep = match value.as_str() {
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
                _ => {
                    let mut message = format!(
                        "{value:?} is not a valid value; expected 'space', 'newline', 'os', ':' or ';' (alembic raises ValueError here)"
                    );
                    if value.contains(['#', ';']) {
                        message.push_str(
                            "; configparser keeps a comment written after the value as part of it: put the comment on a line of its own",
                        );
                    }
                    return Err(self.bad(name, message));
                }
            };
            return Ok(Some(sep));
        }
        Ok(None)
    }

    /// alembic's `get_version_locations_list` / `get_prepend_sys_paths_list`: a non-empty ini
    /// value is split (by the separator, else the legacy pattern), else the TOML list.
    fn path_list(
        &self,
        key: &str,
        separators: &[&str],
        legacy_colon: bool,
    ) -> Result<Option<Vec<String>>, ProjectError> {
        let ini_value = match self.ini {
            Some(ini) if ini.has_section(self.section) => ini.get(self.section, key)?,
            _ => None,
        };
        match ini_value.filter(|v| !v.is_empty()) {
            Some(value) => Ok(Some(match self.separator(separators)? {
                Some(sep) => split_on(&value, sep),
                None => split_legacy(&value, legacy_colon),
            })),
            None => match self.toml {
                Some(toml) => Ok(toml.list(key)?),
                None => Ok(None),
            },
        }
    }

    /// `version_locations` as alembic lists them (`path_separator`, then the deprecated
    /// `version_path_separator`, else commas/spaces).
    pub(crate) fn version_locations(&self) -> Result<Option<Vec<String>>, ProjectError> {
        self.path_list(
            "version_locations",
            &["path_separator", "version_path_separator"],
            false,
        )
    }

    /// `prepend_sys_path` as alembic lists it (`path_separator` only, else commas, spaces and
    /// colons).
    pub(crate) fn prepend_sys_path(&self) -> Result<Option<Vec<String>>, ProjectError> {
        self.path_list("prepend_sys_path", &["path_separator"], true)
    }
}

/// `[x.strip() for x in value.split(sep) if x]`: pieces of only spaces survive as empty paths.
pub(crate) fn split_on(value: &str, sep: char) -> Vec<String> {
    value
        .split(sep)
        .filter(|x| !x.is_empty())
        .map(|x| x.trim().to_owned())
        .collect()
}

/// The legacy split, `re.split(r", *|(?: +)", value)` (with `|\:` for prepend_sys_path): pieces
/// are neither stripped nor dropped when empty.
pub(crate) fn split_legacy(value: &str, colon: bool) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ',' | ' ' => {
                while chars.peek() == Some(&' ') {
                    chars.next();
                }
                pieces.push(std::mem::take(&mut piece));
            }
            ':' if colon => pieces.push(std::mem::take(&mut piece)),
            _ => piece.push(c),
        }
    }
    pieces.push(piece);
    pieces
}

/// A path from the config as alembic turns it into a directory: absolute as is, `package:dir`
/// through the import path, anything else relative to the directory alembic runs in (an empty
/// entry is that directory itself, as `Path("")` is).
pub(crate) enum Resolved {
    Dir(PathBuf),
    /// `package:resource` whose package was not found on `search`.
    NoPackage {
        package: String,
    },
}

pub(crate) fn resolve(entry: &str, base: &Path, search: &[PathBuf]) -> Resolved {
    let path = Path::new(entry);
    if path.is_absolute() {
        return Resolved::Dir(path.to_path_buf());
    }
    // alembic's coerce_resource_to_filename: a relative name with a colon is a package resource.
    if entry.contains(':') {
        let mut tokens = entry.split(':');
        let package = tokens.next().unwrap_or_default();
        let package_dir: PathBuf = package.split('.').collect();
        let found = search
            .iter()
            .map(|root| root.join(&package_dir))
            .find(|p| p.is_dir());
        return match found {
            Some(mut dir) => {
                for token in tokens {
                    dir.push(token);
                }
                Resolved::Dir(dir)
            }
            None => Resolved::NoPackage {
                package: package.to_owned(),
            },
        };
    }
    Resolved::Dir(base.join(path))
}

/// Why a configured directory is missing, naming the base used and, when it exists there, the
/// other base (the config file's folder, `%(here)s`).
pub(crate) fn missing_detail(
    sources: &Sources<'_>,
    key: &str,
    entry: &str,
    resolved: &Path,
    base: &Base,
) -> String {
    let mut detail = format!("{} does not exist", resolved.display());
    if Path::new(entry).is_absolute() || entry.contains(':') {
        return detail;
    }
    detail.push_str(&format!("; {}", base.describe()));
    if let Some(here) = sources.here(key) {
        let other = here.join(entry);
        if here != base.dir() && other.exists() {
            detail.push_str(&format!(
                "; {} exists relative to the config file's folder: write %(here)s/{entry}, or run from {}",
                other.display(),
                here.display()
            ));
        }
    }
    detail
}

/// A missing version location as a warning naming it (alembic skips it silently, which leaves
/// an empty history that lint and `status --check` would pass).
pub(crate) fn missing_location_problem(
    sources: &Sources<'_>,
    entry: &str,
    resolved: &Path,
    base: &Base,
) -> LoadProblem {
    let (path, section) = sources.origin("version_locations");
    let (path, section) = if path.is_empty() {
        (
            "version_locations".to_owned(),
            format!("default <script_location>/versions in [{section}]"),
        )
    } else {
        (path, format!("[{section}] version_locations"))
    };
    LoadProblem {
        path: PathBuf::from(path),
        line: None,
        message: format!(
            "{section}: {entry:?} is skipped ({}); alembic skips it silently, so no revisions are read from it",
            missing_detail(sources, "version_locations", entry, resolved, base)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_split_keeps_alembics_empty_and_unstripped_pieces() {
        assert_eq!(split_legacy("a, b c", false), ["a", "b", "c"]);
        assert_eq!(split_legacy("a ,b", false), ["a", "", "b"]);
        assert_eq!(split_legacy("a\nb", false), ["a\nb"]);
        assert_eq!(split_legacy("a:b c", true), ["a", "b", "c"]);
        assert_eq!(split_legacy("a:b", false), ["a:b"]);
    }

    #[test]
    fn separator_split_strips_but_keeps_blank_pieces() {
        assert_eq!(split_on("a b;c", ';'), ["a b", "c"]);
        assert_eq!(split_on("a\n b\n", '\n'), ["a", "b"]);
        assert_eq!(split_on("a: :b", ':'), ["a", "", "b"]);
        assert_eq!(split_on("a::b", ':'), ["a", "b"]);
    }
}
