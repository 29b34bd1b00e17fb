//! alembic.ini as Python's `configparser` reads it: sections, `key = value` / `key: value`,
//! continuation lines, full-line comments, the DEFAULT section and `BasicInterpolation`
//! (`%(name)s`, `%%`), with `here` predefined as alembic does.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A problem in the ini file, naming the file, line or section and key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IniError {
    #[error("{path}:{line}: {message}")]
    Syntax {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}: [{section}] {key}: {message}")]
    Interpolation {
        path: String,
        section: String,
        key: String,
        message: String,
    },
}

/// A parsed ini file: raw values per section (keys lowercased), interpolated on `get`.
#[derive(Debug, Clone)]
pub struct Ini {
    path: PathBuf,
    defaults: HashMap<String, String>,
    sections: HashMap<String, HashMap<String, String>>,
}

/// How many `%(name)s` hops one value may take (configparser's MAX_INTERPOLATION_DEPTH).
const MAX_DEPTH: usize = 10;

/// The longest value interpolation may build: references that each repeat the next ones grow
/// exponentially within `MAX_DEPTH` (ten levels of ten references is 10^10 copies).
const MAX_VALUE_LEN: usize = 1024 * 1024;

impl Ini {
    /// Parses `text` read from `path`; `here` is the absolute directory of the file.
    pub fn parse(path: &Path, text: &str) -> Result<Ini, IniError> {
        let here = path
            .parent()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        let mut defaults = HashMap::new();
        defaults.insert("here".to_owned(), here);
        let mut ini = Ini {
            path: path.to_path_buf(),
            defaults,
            sections: HashMap::new(),
        };
        let syntax = |line: usize, message: &str| IniError::Syntax {
            path: path.display().to_string(),
            line,
            message: message.to_owned(),
        };

        let mut section: Option<String> = None;
        // The key being read and its indentation, for continuation lines.
        let mut current: Option<(String, usize)> = None;
        let mut blank_run = 0usize;
        let mut seen_sections = std::collections::HashSet::new();
        let mut seen_keys = std::collections::HashSet::new();
        for (n, raw) in text.lines().enumerate() {
            let line_no = n + 1;
            let stripped = raw.trim();
            let indent = raw.len() - raw.trim_start().len();
            if stripped.starts_with('#') || stripped.starts_with(';') {
                continue;
            }
            if stripped.is_empty() {
                blank_run += 1;
                continue;
            }
            // An indented line continues the current value (blank lines inside are kept).
            if let (Some((key, key_indent)), Some(sect)) = (&current, &section) {
                if indent > *key_indent {
                    let target = if sect == "DEFAULT" {
                        &mut ini.defaults
                    } else {
                        ini.sections.entry(sect.clone()).or_default()
                    };
                    if let Some(value) = target.get_mut(key) {
                        for _ in 0..blank_run {
                            value.push('\n');
                        }
                        value.push('\n');
                        value.push_str(stripped);
                    }
                    blank_run = 0;
                    continue;
                }
            }
            blank_run = 0;
            // configparser's `\[(?P<header>.+)\]`, matched at the start: the name runs to the
            // last ']' and anything after it (an inline comment) is ignored.
            if let Some(rest) = stripped.strip_prefix('[') {
                let Some(name) = rest
                    .rfind(']')
                    .map(|end| &rest[..end])
                    .filter(|n| !n.is_empty())
                else {
                    return Err(syntax(line_no, "section header without a closing ']'"));
                };
                // configparser is strict: a section (other than DEFAULT) appears once.
                if name != "DEFAULT" && !seen_sections.insert(name.to_owned()) {
                    return Err(syntax(
                        line_no,
                        &format!("section [{name}] appears twice (Python's configparser refuses this file)"),
                    ));
                }
                section = Some(name.to_owned());
                if name != "DEFAULT" {
                    ini.sections.entry(name.to_owned()).or_default();
                }
                current = None;
                continue;
            }
            let Some(sect) = &section else {
                return Err(syntax(line_no, "a value before any [section] header"));
            };
            let split = stripped.find(['=', ':']);
            let Some(at) = split else {
                return Err(syntax(
                    line_no,
                    &format!("{stripped:?} is neither a section, a key = value, nor a comment"),
                ));
            };
            let key = stripped[..at].trim().to_lowercase();
            let value = stripped[at + 1..].trim().to_owned();
            if key.is_empty() {
                return Err(syntax(line_no, "a value without a key"));
            }
            if !seen_keys.insert((sect.clone(), key.clone())) {
                return Err(syntax(
                    line_no,
                    &format!("option {key:?} appears twice in [{sect}] (Python's configparser refuses this file)"),
                ));
            }
            let target = if sect == "DEFAULT" {
                &mut ini.defaults
            } else {
                ini.sections.entry(sect.clone()).or_default()
            };
            target.insert(key.clone(), value);
            current = Some((key, indent));
        }
        Ok(ini)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn has_section(&self, section: &str) -> bool {
        self.sections.contains_key(section)
    }

    /// configparser's `has_option`: the section exists and it or DEFAULT holds the key.
    pub fn has_option(&self, section: &str, key: &str) -> bool {
        self.has_section(section) && self.raw(section, &key.to_lowercase()).is_some()
    }

    /// The raw (not interpolated) value of a key in a section or in DEFAULT.
    fn raw(&self, section: &str, key: &str) -> Option<&String> {
        self.sections
            .get(section)
            .and_then(|s| s.get(key))
            .or_else(|| self.defaults.get(key))
    }

    /// The interpolated value of `key` in `section`, if present.
    pub fn get(&self, section: &str, key: &str) -> Result<Option<String>, IniError> {
        let key = key.to_lowercase();
        let Some(raw) = self.raw(section, &key) else {
            return Ok(None);
        };
        self.interpolate(section, &key, raw, 1).map(Some)
    }

    fn interpolate(
        &self,
        section: &str,
        key: &str,
        raw: &str,
        depth: usize,
    ) -> Result<String, IniError> {
        let error = |message: String| IniError::Interpolation {
            path: self.path.display().to_string(),
            section: section.to_owned(),
            key: key.to_owned(),
            message,
        };
        if depth > MAX_DEPTH {
            return Err(error(format!(
                "more than {MAX_DEPTH} nested %(name)s references (a loop?)"
            )));
        }
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            rest = &rest[at..];
            if let Some(after) = rest.strip_prefix("%%") {
                out.push('%');
                rest = after;
            } else if let Some(after) = rest.strip_prefix("%(") {
                // configparser's `%\(([^)]+)\)s`: the name ends at the first ')', then 's'.
                let Some(close) = after
                    .find(')')
                    .filter(|&c| c > 0 && after[c + 1..].starts_with('s'))
                else {
                    return Err(error(format!("bad interpolation syntax in {raw:?}")));
                };
                let name = after[..close].to_lowercase();
                let Some(value) = self.raw(section, &name) else {
                    return Err(error(format!(
                        "%({name})s refers to no key of [{section}] or [DEFAULT]"
                    )));
                };
                out.push_str(&self.interpolate(section, key, value, depth + 1)?);
                if out.len() > MAX_VALUE_LEN {
                    return Err(error(format!(
                        "the value grows past {MAX_VALUE_LEN} bytes through %(name)s references"
                    )));
                }
                rest = &after[close + 2..];
            } else {
                return Err(error(format!(
                    "'%' must be followed by '%' or '(' in {raw:?} (write %% for a literal %)"
                )));
            }
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ini(text: &str) -> Ini {
        Ini::parse(Path::new("/proj/alembic.ini"), text).unwrap()
    }

    #[test]
    fn here_percent_and_references_interpolate() {
        let ini = ini(
            "[DEFAULT]\nroot = %(here)s/db\n[alembic]\nscript_location = %(root)s/migrations\n\
             file_template = %%(rev)s_%%(slug)s\n",
        );
        assert_eq!(
            ini.get("alembic", "script_location").unwrap().as_deref(),
            Some("/proj/db/migrations")
        );
        assert_eq!(
            ini.get("alembic", "file_template").unwrap().as_deref(),
            Some("%(rev)s_%(slug)s")
        );
    }

    #[test]
    fn continuation_lines_colons_comments_and_case() {
        let ini = ini("# top\n[alembic]\nVersion_Locations: a\n  b\n\n  c\n; note\nother = 1\n");
        assert_eq!(
            ini.get("alembic", "version_locations").unwrap().as_deref(),
            Some("a\nb\n\nc")
        );
        assert_eq!(ini.get("alembic", "other").unwrap().as_deref(), Some("1"));
    }

    #[test]
    fn references_that_multiply_are_stopped() {
        let mut text = "[alembic]\n".to_owned();
        for level in 0..8 {
            text.push_str(&format!(
                "k{level} = {}\n",
                format!("%(k{})s", level + 1).repeat(10)
            ));
        }
        text.push_str("k8 = x\n");
        let err = ini(&text).get("alembic", "k0").unwrap_err().to_string();
        assert!(err.contains("grows past"), "{err}");
    }

    #[test]
    fn inline_comments_stay_in_the_value_as_configparser_keeps_them() {
        let ini = ini("[alembic] ; trailing text after the header is ignored\n\
                       version_path_separator = os  # Use os.pathsep\n");
        assert_eq!(
            ini.get("alembic", "version_path_separator")
                .unwrap()
                .as_deref(),
            Some("os  # Use os.pathsep")
        );
    }

    #[test]
    fn repeated_sections_and_options_are_refused_as_configparser_does() {
        for text in [
            "[alembic]\na = 1\nA = 2\n",
            "[alembic]\na = 1\n[alembic]\nb = 2\n",
        ] {
            let err = Ini::parse(Path::new("a.ini"), text)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("a.ini:3:") && err.contains("twice"),
                "{err}"
            );
        }
        // DEFAULT may be opened again.
        let ini = ini("[DEFAULT]\nx = 1\n[DEFAULT]\ny = 2\n[alembic]\n");
        assert_eq!(ini.get("alembic", "y").unwrap().as_deref(), Some("2"));
    }

    #[test]
    fn errors_name_file_section_and_key() {
        let ini = ini("[alembic]\nx = 50%\ny = %(nope)s\n");
        let err = ini.get("alembic", "x").unwrap_err().to_string();
        assert!(err.contains("/proj/alembic.ini: [alembic] x"), "{err}");
        let err = ini.get("alembic", "y").unwrap_err().to_string();
        assert!(err.contains("nope"), "{err}");
        let err = Ini::parse(Path::new("a.ini"), "key = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("a.ini:1:"), "{err}");
    }
}
