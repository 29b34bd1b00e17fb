//! One revision file as alembic-tui understands it: header variables, docstring, and bodies.

use std::path::{Path, PathBuf};

use crate::project::names::{self, ModuleFinder};
use crate::project::ops::{OpCall, Value};
use crate::project::pyparse;
use crate::project::LoadProblem;

/// A revision script read statically from disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Revision {
    /// The `revision` variable.
    pub id: String,
    /// `down_revision`, normalised: None/()/[] → empty; a str → one element; tuple order kept.
    pub down_revisions: Vec<String>,
    /// `branch_labels` as declared in the file (inherited labels are the graph's business).
    pub branch_labels: Vec<String>,
    /// `depends_on` as declared (ids, prefixes or branch labels; the graph resolves them).
    pub depends_on: Vec<String>,
    /// alembic's `Script.doc`: the first paragraph of the stripped module docstring.
    pub doc: String,
    /// alembic's `Script.longdoc`: the whole stripped module docstring.
    pub longdoc: String,
    /// The `Create Date:` line of the docstring, when present.
    pub create_date: Option<String>,
    /// The file the revision was read from.
    pub path: PathBuf,
    /// `def upgrade()`, when the file defines it.
    pub upgrade: Option<Body>,
    /// `def downgrade()`, when the file defines it.
    pub downgrade: Option<Body>,
    /// Comments addressed to alembic-tui anywhere in the file (lint suppressions).
    pub tool_comments: Vec<pyparse::ToolComment>,
}

/// A function body (`upgrade` or `downgrade`) with where it lives and the `op.*` calls inside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Body {
    /// 1-based line of the `def` statement.
    pub def_line: usize,
    /// 1-based last line of the function.
    pub end_line: usize,
    /// The source text of the whole function, `def` line included.
    pub source: String,
    /// True when the body does nothing (only `pass`, a docstring, `...` and comments).
    pub is_empty: bool,
    /// Every `op.<name>(...)` call in the body, in source order (nested blocks included).
    pub ops: Vec<OpCall>,
}

/// Reads one revision file: parse, evaluate the header variables, take the docstring and bodies.
pub fn read(path: &Path, finder: &ModuleFinder) -> Result<Revision, LoadProblem> {
    let problem = |line: Option<usize>, message: String| LoadProblem {
        path: path.to_path_buf(),
        line,
        message,
    };
    let source = std::fs::read_to_string(path)
        .map_err(|err| problem(None, format!("cannot read: {err}")))?;
    from_source(path, &source, finder)
}

/// Reads a revision from its source text, as if it were the file at `path` (tests and tools that
/// hold the text already).
pub fn from_source(
    path: &Path,
    source: &str,
    finder: &ModuleFinder,
) -> Result<Revision, LoadProblem> {
    read_source(path, source, finder).0
}

/// The header variables alembic reads from a revision module.
const HEADER_NAMES: [&str; 4] = ["revision", "down_revision", "branch_labels", "depends_on"];

/// `from_source`, and whether the answer depends on this text alone (true unless a header value
/// is a name, which may come from another module): what the header cache may keep.
pub fn read_source(
    path: &Path,
    source: &str,
    finder: &ModuleFinder,
) -> (Result<Revision, LoadProblem>, bool) {
    let module = match pyparse::parse(source) {
        Ok(module) => module,
        Err(err) => {
            let problem = LoadProblem {
                path: path.to_path_buf(),
                line: Some(err.line),
                message: err.to_string(),
            };
            return (Err(problem), true);
        }
    };
    let self_contained = !module
        .assignments
        .iter()
        .any(|a| HEADER_NAMES.contains(&a.name.as_str()) && mentions_a_name(&a.value));
    (from_module(path, &module, finder), self_contained)
}

fn mentions_a_name(value: &Value) -> bool {
    match value {
        Value::Expr(_) | Value::Call { .. } => true,
        Value::Tuple(items) | Value::List(items) => items.iter().any(mentions_a_name),
        _ => false,
    }
}

fn from_module(
    path: &Path,
    module: &pyparse::PyModule,
    finder: &ModuleFinder,
) -> Result<Revision, LoadProblem> {
    let problem = |line: Option<usize>, message: String| LoadProblem {
        path: path.to_path_buf(),
        line,
        message,
    };

    // The last top-level assignment wins, as when Python runs the module.
    let header = |name: &str| -> Result<Option<(usize, Value)>, LoadProblem> {
        let Some(assign) = module.assignments.iter().rev().find(|a| a.name == name) else {
            return Ok(None);
        };
        names::evaluate(&assign.value, module, assign.line, finder)
            .map(|v| Some((assign.line, v)))
            .map_err(|e| problem(Some(assign.line), format!("{name}: {e}")))
    };

    let id = match header("revision")? {
        Some((line, Value::Str(id))) => {
            check_name("revision", &id).map_err(|m| problem(Some(line), m))?;
            id
        }
        Some((line, other)) => {
            return Err(problem(
                Some(line),
                format!("revision: expected a string, found {}", describe(&other)),
            ))
        }
        // alembic's legacy fallback: a file named entirely by a hex id.
        None => legacy_id(path).ok_or_else(|| {
            problem(
                None,
                "no `revision = '…'` variable and the file name is not a revision id; \
                 not a revision file (alembic would refuse to load this directory)"
                    .to_owned(),
            )
        })?,
    };
    let down_revisions = match header("down_revision")? {
        Some((line, value)) => {
            let ids =
                id_list(&value).map_err(|e| problem(Some(line), format!("down_revision: {e}")))?;
            for id in &ids {
                check_name("down_revision", id).map_err(|m| problem(Some(line), m))?;
            }
            ids
        }
        None => {
            return Err(problem(
                None,
                format!("revision {id} has no `down_revision` variable (use None for a base)"),
            ))
        }
    };
    let optional_list = |name: &str| -> Result<Vec<String>, LoadProblem> {
        match header(name)? {
            Some((line, value)) => {
                let names =
                    id_list(&value).map_err(|e| problem(Some(line), format!("{name}: {e}")))?;
                for each in &names {
                    check_name(name, each).map_err(|m| problem(Some(line), m))?;
                }
                Ok(names)
            }
            None => Ok(Vec::new()),
        }
    };
    let branch_labels = optional_list("branch_labels")?;
    let depends_on = optional_list("depends_on")?;

    let longdoc = module
        .docstring
        .as_deref()
        .map(|d| d.trim().to_owned())
        .unwrap_or_default();
    let doc = doc_of(&longdoc);
    let create_date = create_date_of(&longdoc);
    let body = |name: &str| {
        module
            .functions
            .iter()
            .rev()
            .find(|f| f.name == name)
            .map(|f| Body {
                def_line: f.def_line,
                end_line: f.end_line,
                source: f.source.clone(),
                is_empty: f.is_empty,
                ops: f.ops.clone(),
            })
    };
    Ok(Revision {
        id,
        down_revisions,
        branch_labels,
        depends_on,
        doc,
        longdoc,
        create_date,
        path: path.to_path_buf(),
        upgrade: body("upgrade"),
        downgrade: body("downgrade"),
        tool_comments: module.tool_comments.clone(),
    })
}

/// Whether `c` may appear in a revision id or branch label: what alembic generates (hex) and
/// hand-written ids use (`add_users_table`, `2026_02_09_1500`, `v1.2`, `größe_2`: letters and
/// digits of any script, as alembic accepts them), plus `@ - + :`, which alembic itself refuses
/// in ids (the graph then says so in alembic's words). Everything else — quotes, backslashes,
/// blank space, control and format characters (a bidi override reorders what the terminal
/// shows) — could break out of the SQL these names are quoted into, or mislead or drive the
/// terminal they are printed on.
fn is_safe_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '+' | ':' | '@')
}

/// Refuses a revision id or label that is not safe to quote in SQL or print on a terminal.
fn check_name(what: &str, name: &str) -> Result<(), String> {
    let mut bad: Vec<char> = name.chars().filter(|c| !is_safe_name_char(*c)).collect();
    if bad.is_empty() {
        return Ok(());
    }
    bad.sort_unstable();
    bad.dedup();
    let shown: Vec<String> = bad.iter().map(|c| format!("{:?}", c)).collect();
    Err(format!(
        "{what} \"{}\" is not safe to use: it holds {} (letters, digits, `_`, `.` and `-` are \
         accepted)",
        name.escape_debug(),
        shown.join(", ")
    ))
}

/// alembic's `Script.doc`: the first paragraph of the stripped docstring.
pub(crate) fn doc_of(longdoc: &str) -> String {
    longdoc.split("\n\n").next().unwrap_or_default().to_owned()
}

/// The template's `Create Date:` line of the docstring, when present.
pub(crate) fn create_date_of(longdoc: &str) -> Option<String> {
    longdoc.lines().find_map(|l| {
        l.trim()
            .strip_prefix("Create Date:")
            .map(|d| d.trim().to_owned())
    })
}

/// alembic's `_legacy_rev`: `([a-f0-9]+)\.py$` matched from the start of the file name.
fn legacy_id(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(".py")?;
    (!stem.is_empty() && stem.chars().all(|c| matches!(c, 'a'..='f' | '0'..='9')))
        .then(|| stem.to_owned())
}

/// None, a string, or a tuple/list of strings, as alembic's `to_tuple` takes them.
fn id_list(value: &Value) -> Result<Vec<String>, String> {
    match value {
        Value::None => Ok(Vec::new()),
        Value::Str(s) => Ok(vec![s.clone()]),
        Value::Tuple(items) | Value::List(items) => items
            .iter()
            .map(|item| match item {
                Value::Str(s) => Ok(s.clone()),
                other => Err(format!("expected strings, found {}", describe(other))),
            })
            .collect(),
        other => Err(format!(
            "expected None, a string, or a tuple of strings, found {}",
            describe(other)
        )),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Str(s) => format!("{s:?}"),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Bool(b) => if *b { "True" } else { "False" }.to_owned(),
        Value::None => "None".to_owned(),
        Value::List(_) => "a list".to_owned(),
        Value::Tuple(_) => "a tuple".to_owned(),
        Value::Call { func, .. } => format!("a call to {func}"),
        Value::Expr(text) => text.clone(),
    }
}

/// Applies alembic's `file_template` (Python %-formatting over rev, slug and the date parts).
pub fn format_template(template: &str, rev: &str, slug: &str, unix_seconds: u64) -> String {
    let (year, month, day) = civil_from_days((unix_seconds / 86_400) as i64);
    let secs = unix_seconds % 86_400;
    let numbers = |name: &str| -> Option<i64> {
        Some(match name {
            "epoch" => unix_seconds as i64,
            "year" => year,
            "month" => month,
            "day" => day,
            "hour" => (secs / 3600) as i64,
            "minute" => (secs / 60 % 60) as i64,
            "second" => (secs % 60) as i64,
            _ => return None,
        })
    };
    let mut out = String::new();
    let mut rest = template;
    while let Some(at) = rest.find("%(") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        let Some(close) = after.find(')') else {
            out.push_str(&rest[at..]);
            return out;
        };
        let name = &after[..close];
        let spec_end = after[close + 1..]
            .find(|c: char| c.is_ascii_alphabetic())
            .map(|i| close + 1 + i);
        let Some(conv_at) = spec_end else {
            out.push_str(&rest[at..]);
            return out;
        };
        let spec = &after[close + 1..conv_at];
        let text = match name {
            "rev" => rev.to_owned(),
            "slug" => slug.to_owned(),
            other => numbers(other).map(|n| n.to_string()).unwrap_or_default(),
        };
        // `.2d` / `02d`: zero-pad numbers to the precision or width.
        let digits: String = spec.chars().filter(|c| c.is_ascii_digit()).collect();
        let width: usize = digits.parse().unwrap_or(0);
        if numbers(name).is_some() && width > 0 {
            out.push_str(&format!("{text:0>width$}"));
        } else {
            out.push_str(&text);
        }
        rest = &after[conv_at + 1..];
    }
    out.push_str(rest);
    out
}

/// Days since 1970-01-01 to a (year, month, day) in the proleptic Gregorian calendar.
pub fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_format_like_python() {
        // 2026-02-09 15:00:00 UTC
        let t = 1_770_649_200;
        assert_eq!(
            format_template("%(rev)s_%(slug)s", "ab12", "add_t", t),
            "ab12_add_t"
        );
        assert_eq!(
            format_template(
                "%(year)d_%(month).2d_%(day).2d_%(hour).2d%(minute).2d_%(rev)s",
                "x",
                "",
                t
            ),
            "2026_02_09_1500_x"
        );
    }

    #[test]
    fn id_lists_accept_what_alembic_accepts() {
        assert_eq!(id_list(&Value::None).unwrap(), Vec::<String>::new());
        assert_eq!(
            id_list(&Value::Tuple(vec![])).unwrap(),
            Vec::<String>::new()
        );
        assert_eq!(id_list(&Value::Str("a".into())).unwrap(), ["a"]);
        assert!(id_list(&Value::Int(1)).is_err());
    }
}
