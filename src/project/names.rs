//! Header values written as names (`branch_labels = (cli.EXPAND_BRANCH,)`): resolved through
//! constants assigned earlier in the same file, or through modules of the project found on
//! `prepend_sys_path`, by parsing those modules — never by running them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::project::ops::Value;
use crate::project::pyparse::{self, PyModule};

/// How many names may lead to one another before we give up (a loop, or a maze).
const MAX_DEPTH: usize = 16;

/// Finds and parses project modules by dotted name, each at most once.
pub struct ModuleFinder {
    search: Vec<PathBuf>,
    cache: Mutex<HashMap<String, Option<Arc<PyModule>>>>,
}

impl ModuleFinder {
    pub fn new(search: Vec<PathBuf>) -> ModuleFinder {
        ModuleFinder {
            search,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The module `a.b.c` as `<dir>/a/b/c.py` or `<dir>/a/b/c/__init__.py` on the search path.
    fn find(&self, dotted: &str) -> Option<Arc<PyModule>> {
        if let Ok(cache) = self.cache.lock() {
            if let Some(hit) = cache.get(dotted) {
                return hit.clone();
            }
        }
        let rel: PathBuf = dotted.split('.').collect();
        let found = self.search.iter().find_map(|dir| {
            let base = dir.join(&rel);
            [base.with_extension("py"), base.join("__init__.py")]
                .into_iter()
                .find_map(|path| std::fs::read_to_string(path).ok())
                .and_then(|text| pyparse::parse(&text).ok())
                .map(Arc::new)
        });
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(dotted.to_owned(), found.clone());
        }
        found
    }

    fn search_description(&self) -> String {
        if self.search.is_empty() {
            "no prepend_sys_path directories".to_owned()
        } else {
            self.search
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

/// A dotted name such as `cli.EXPAND_BRANCH`, if `text` is one.
fn dotted_name(text: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = text.split('.').map(str::trim).collect();
    let ident = |p: &&str| {
        let mut chars = p.chars();
        chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
            && chars.all(|c| c.is_alphanumeric() || c == '_')
    };
    parts.iter().all(ident).then_some(parts)
}

/// Evaluates a header value: literals as they are, names through the module and its imports.
/// `line` is the statement's line: only assignments above it count, as when Python runs the file.
pub fn evaluate(
    value: &Value,
    module: &PyModule,
    line: usize,
    finder: &ModuleFinder,
) -> Result<Value, String> {
    evaluate_at(value, module, line, finder, 0)
}

fn evaluate_at(
    value: &Value,
    module: &PyModule,
    line: usize,
    finder: &ModuleFinder,
    depth: usize,
) -> Result<Value, String> {
    match value {
        Value::Tuple(items) => Ok(Value::Tuple(
            items
                .iter()
                .map(|v| evaluate_at(v, module, line, finder, depth))
                .collect::<Result<_, _>>()?,
        )),
        Value::List(items) => Ok(Value::List(
            items
                .iter()
                .map(|v| evaluate_at(v, module, line, finder, depth))
                .collect::<Result<_, _>>()?,
        )),
        Value::Expr(text) => match dotted_name(text) {
            Some(parts) => resolve_name(&parts, module, line, finder, depth),
            None => Err(format!("{text} is neither a literal nor a name")),
        },
        Value::Call { func, .. } => Err(format!(
            "{func}(…) is a call; alembic-tui reads header values without running code"
        )),
        literal => Ok(literal.clone()),
    }
}

fn resolve_name(
    parts: &[&str],
    module: &PyModule,
    line: usize,
    finder: &ModuleFinder,
    depth: usize,
) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "{} refers through too many names (a loop?)",
            parts.join(".")
        ));
    }
    let Some((first, rest)) = parts.split_first() else {
        return Err("an empty name".to_owned());
    };
    if let Some(assign) = module
        .assignments
        .iter()
        .rev()
        .find(|a| a.name == *first && a.line < line)
    {
        if !rest.is_empty() {
            return Err(format!(
                "{} reads an attribute of a constant",
                parts.join(".")
            ));
        }
        return evaluate_at(&assign.value, module, assign.line, finder, depth + 1);
    }
    let Some(import) = module.imports.iter().rev().find(|i| i.local == *first) else {
        return Err(format!(
            "cannot resolve name '{first}' (not assigned above this line, not imported)"
        ));
    };
    if import.module.starts_with('.') {
        return Err(format!(
            "'{first}' comes from a relative import ({}), which alembic-tui does not follow",
            import.module
        ));
    }
    // `from m import x`: x is a submodule, or a name inside m.
    let (start, attrs): (String, Vec<&str>) = match &import.name {
        Some(name) if finder.find(&format!("{}.{name}", import.module)).is_some() => {
            (format!("{}.{name}", import.module), rest.to_vec())
        }
        Some(name) => (
            import.module.clone(),
            std::iter::once(name.as_str())
                .chain(rest.iter().copied())
                .collect(),
        ),
        None => (import.module.clone(), rest.to_vec()),
    };
    resolve_in_module(&start, &attrs, finder, depth + 1)
}

/// `attrs` looked up inside module `dotted`, descending into submodules where they exist.
fn resolve_in_module(
    dotted: &str,
    attrs: &[&str],
    finder: &ModuleFinder,
    depth: usize,
) -> Result<Value, String> {
    let Some(module) = finder.find(dotted) else {
        return Err(format!(
            "no module '{dotted}' under prepend_sys_path ({})",
            finder.search_description()
        ));
    };
    match attrs {
        [] => Err(format!("'{dotted}' is a module, not a value")),
        [first, rest @ ..] => {
            let sub = format!("{dotted}.{first}");
            if !rest.is_empty() && finder.find(&sub).is_some() {
                return resolve_in_module(&sub, rest, finder, depth + 1);
            }
            resolve_name(attrs, &module, usize::MAX, finder, depth + 1)
                .map_err(|e| format!("in module '{dotted}': {e}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_through_constants_and_imported_modules() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("pkg")).unwrap();
        std::fs::write(dir.path().join("pkg/__init__.py"), "").unwrap();
        std::fs::write(
            dir.path().join("pkg/cli.py"),
            "BASE = 'expand'\nEXPAND_BRANCH = BASE\n",
        )
        .unwrap();
        let finder = ModuleFinder::new(vec![dir.path().to_path_buf()]);
        let m = pyparse::parse(
            "from pkg import cli\nimport pkg.cli as c2\nX = 'x'\nlabels = (cli.EXPAND_BRANCH, c2.BASE, X)\nbad = (cli.NOPE,)\n",
        )
        .unwrap();
        let labels = &m.assignments[1];
        assert_eq!(
            evaluate(&labels.value, &m, labels.line, &finder).unwrap(),
            Value::Tuple(vec![
                Value::Str("expand".into()),
                Value::Str("expand".into()),
                Value::Str("x".into())
            ])
        );
        let bad = &m.assignments[2];
        let err = evaluate(&bad.value, &m, bad.line, &finder).unwrap_err();
        assert!(err.contains("NOPE"), "{err}");
    }
}
