//! `[tool.alembic]` in pyproject.toml (alembic ≥ 1.16): its values as alembic's
//! `Config._get_toml_config_value` returns them, strings formatted with `%(here)s`.

use std::path::{Path, PathBuf};

/// A problem in pyproject.toml, naming the file and key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TomlError {
    #[error("{path}: {message}")]
    Syntax { path: String, message: String },
    #[error("{path}: [tool.alembic] {key}: {message}")]
    Value {
        path: String,
        key: String,
        message: String,
    },
}

/// One `[tool.alembic]` value after `%(here)s` substitution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TomlValue {
    Str(String),
    List(Vec<String>),
    Int(i64),
    Bool(bool),
    /// Tables and lists of tables (post_write_hooks): present, but nothing we read.
    Other,
}

/// The `[tool.alembic]` table of one pyproject.toml; empty when the file has none.
#[derive(Debug, Clone)]
pub struct ToolAlembic {
    path: PathBuf,
    here: String,
    table: toml::Table,
}

impl ToolAlembic {
    /// Parses `text` read from `path` (absolute); `%(here)s` is the file's directory.
    pub fn parse(path: &Path, text: &str) -> Result<ToolAlembic, TomlError> {
        let syntax = |message: String| TomlError::Syntax {
            path: path.display().to_string(),
            message,
        };
        let doc: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| syntax(e.message().to_owned()))?;
        let table = match doc.get("tool").and_then(|t| t.get("alembic")) {
            None => toml::Table::new(),
            Some(toml::Value::Table(t)) => t.clone(),
            // alembic: "Incorrect TOML format".
            Some(_) => return Err(syntax("[tool.alembic] is not a table".to_owned())),
        };
        Ok(ToolAlembic {
            path: path.to_path_buf(),
            here: path
                .parent()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default(),
            table,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file has a `[tool.alembic]` table at all.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    fn error(&self, key: &str, message: String) -> TomlError {
        TomlError::Value {
            path: self.path.display().to_string(),
            key: key.to_owned(),
            message,
        }
    }

    /// The value of `key`, strings (alone or in a list) formatted as alembic does.
    pub fn get(&self, key: &str) -> Result<Option<TomlValue>, TomlError> {
        let Some(value) = self.table.get(key) else {
            return Ok(None);
        };
        let format = |s: &str| percent_format(s, &self.here).map_err(|m| self.error(key, m));
        Ok(Some(match value {
            toml::Value::String(s) => TomlValue::Str(format(s)?),
            toml::Value::Integer(i) => TomlValue::Int(*i),
            toml::Value::Boolean(b) => TomlValue::Bool(*b),
            toml::Value::Array(items) if items.iter().all(|i| i.is_str()) => TomlValue::List(
                items
                    .iter()
                    .filter_map(toml::Value::as_str)
                    .map(format)
                    .collect::<Result<_, _>>()?,
            ),
            toml::Value::Table(_) | toml::Value::Array(_) => TomlValue::Other,
            other => {
                return Err(self.error(
                    key,
                    format!("unsupported TOML value type ({})", other.type_str()),
                ))
            }
        }))
    }

    /// A string option (`script_location`, `file_template`, …).
    pub fn string(&self, key: &str) -> Result<Option<String>, TomlError> {
        match self.get(key)? {
            None => Ok(None),
            Some(TomlValue::Str(s)) => Ok(Some(s)),
            Some(TomlValue::Int(i)) => Ok(Some(i.to_string())),
            Some(_) => Err(self.error(key, "expected a string".to_owned())),
        }
    }

    /// A list of paths (`version_locations`, `prepend_sys_path`): alembic takes the TOML list as
    /// is; a plain string would be read one character per path, so it is refused.
    pub fn list(&self, key: &str) -> Result<Option<Vec<String>>, TomlError> {
        match self.get(key)? {
            None => Ok(None),
            Some(TomlValue::List(items)) => Ok(Some(items)),
            Some(_) => Err(self.error(key, "expected a list of strings".to_owned())),
        }
    }

    /// alembic's `get_alembic_boolean_option` for TOML: a real boolean, absent is false.
    pub fn boolean(&self, key: &str) -> Result<bool, TomlError> {
        match self.get(key)? {
            None => Ok(false),
            Some(TomlValue::Bool(b)) => Ok(b),
            Some(_) => Err(self.error(key, "boolean value expected".to_owned())),
        }
    }
}

/// Python's `value % {"here": here}`: `%%` is a percent sign, `%(here)s` the directory; any other
/// conversion fails as it fails in alembic.
fn percent_format(value: &str, here: &str) -> Result<String, String> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("%%") {
            out.push('%');
            rest = after;
        } else if let Some(after) = rest.strip_prefix("%(here)s") {
            out.push_str(here);
            rest = after;
        } else if let Some(after) = rest.strip_prefix("%(") {
            let name = after.split(')').next().unwrap_or(after);
            return Err(format!(
                "%({name}) is not a key alembic substitutes in pyproject.toml (only %(here)s; write %% for a literal %)"
            ));
        } else {
            return Err(format!(
                "'%' must be followed by '%' or '(here)s' in {value:?} (write %% for a literal %)"
            ));
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(text: &str) -> ToolAlembic {
        ToolAlembic::parse(Path::new("/proj/pyproject.toml"), text).unwrap()
    }

    #[test]
    fn strings_and_lists_are_formatted_with_here() {
        let t = tool(
            "[tool.alembic]\nscript_location = \"%(here)s/migrations\"\n\
             version_locations = [\"%(here)s/a\", \"b\"]\n\
             file_template = \"%%(rev)s_%%(slug)s\"\nrecursive_version_locations = true\n",
        );
        assert_eq!(
            t.string("script_location").unwrap().as_deref(),
            Some("/proj/migrations")
        );
        assert_eq!(
            t.list("version_locations").unwrap().unwrap(),
            ["/proj/a", "b"]
        );
        assert_eq!(
            t.string("file_template").unwrap().as_deref(),
            Some("%(rev)s_%(slug)s")
        );
        assert!(t.boolean("recursive_version_locations").unwrap());
        assert!(!t.boolean("sourceless").unwrap());
    }

    #[test]
    fn wrong_types_and_bad_percents_name_the_key() {
        let t = tool("[tool.alembic]\nsourceless = \"true\"\nfile_template = \"%(rev)s\"\n");
        let err = t.boolean("sourceless").unwrap_err().to_string();
        assert!(err.contains("[tool.alembic] sourceless: boolean"), "{err}");
        let err = t.string("file_template").unwrap_err().to_string();
        assert!(
            err.contains("file_template") && err.contains("%(rev)"),
            "{err}"
        );
        let err = ToolAlembic::parse(Path::new("p.toml"), "[tool]\nalembic = 1\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a table"), "{err}");
        assert!(tool("[project]\nname = \"x\"\n").is_empty());
    }
}
