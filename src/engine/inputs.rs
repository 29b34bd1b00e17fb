//! What a Python file's rendered SQL can depend on besides its own text: the project modules it
//! imports (and they import), found on the project's search path the way the header-name resolver
//! finds them. A revision that reads a table name from `myapp.constants` renders differently when
//! that constant changes, so the render cache key must change with it.
//!
//! Imports are read from the text, never executed; modules outside the search path (alembic,
//! SQLAlchemy, the standard library) are not the project's and are not followed.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::engine::render::sha256_hex;

/// How many project modules one file may pull in before we stop following (a maze).
const MAX_MODULES: usize = 256;

/// Resolves dotted module names to files, each once.
pub struct ImportHasher {
    search: Vec<PathBuf>,
    found: HashMap<String, Option<PathBuf>>,
    hashes: HashMap<PathBuf, (String, Vec<String>)>,
}

impl ImportHasher {
    pub fn new(search: Vec<PathBuf>) -> ImportHasher {
        ImportHasher {
            search,
            found: HashMap::new(),
            hashes: HashMap::new(),
        }
    }

    /// sha256 over the project modules `text` (the file at `path`) imports, transitively, each
    /// named by its path and content hash; the same for the same inputs, in any order.
    pub fn imports_sha256(&mut self, path: &Path, text: &str) -> String {
        let mut seen: BTreeMap<PathBuf, String> = BTreeMap::new();
        let mut todo: Vec<(PathBuf, Vec<String>)> = vec![(path.to_path_buf(), imports(text))];
        while let Some((from, names)) = todo.pop() {
            for name in names {
                let Some(module) = self.resolve(&from, &name) else {
                    continue;
                };
                if seen.contains_key(&module) || seen.len() >= MAX_MODULES {
                    continue;
                }
                let (sha, more) = self.module(&module);
                seen.insert(module.clone(), sha);
                todo.push((module, more));
            }
        }
        let listing: String = seen
            .iter()
            .map(|(p, sha)| format!("{}={sha}\n", p.display()))
            .collect();
        sha256_hex(listing.as_bytes())
    }

    /// A module file's hash and the names it imports (read once).
    fn module(&mut self, path: &Path) -> (String, Vec<String>) {
        if let Some(hit) = self.hashes.get(path) {
            return hit.clone();
        }
        let entry = match std::fs::read(path) {
            Ok(bytes) => (
                sha256_hex(&bytes),
                imports(&String::from_utf8_lossy(&bytes)),
            ),
            Err(e) => (format!("unreadable:{e}"), Vec::new()),
        };
        self.hashes.insert(path.to_path_buf(), entry.clone());
        entry
    }

    /// `a.b` → `<dir>/a/b.py` or `<dir>/a/b/__init__.py` on the search path; `.x` / `..x`
    /// relative to the importing file's package.
    fn resolve(&mut self, from: &Path, name: &str) -> Option<PathBuf> {
        let dots = name.chars().take_while(|c| *c == '.').count();
        if dots > 0 {
            let mut dir = from.parent()?.to_path_buf();
            for _ in 1..dots {
                dir = dir.parent()?.to_path_buf();
            }
            return module_file(&dir, &name[dots..]);
        }
        if let Some(hit) = self.found.get(name) {
            return hit.clone();
        }
        let found = self.search.iter().find_map(|dir| module_file(dir, name));
        self.found.insert(name.to_owned(), found.clone());
        found
    }
}

fn module_file(dir: &Path, dotted: &str) -> Option<PathBuf> {
    if dotted.is_empty() {
        let init = dir.join("__init__.py");
        return init.is_file().then_some(init);
    }
    let rel: PathBuf = dotted.split('.').collect();
    let base = dir.join(rel);
    [base.with_extension("py"), base.join("__init__.py")]
        .into_iter()
        .find(|p| p.is_file())
}

/// The module names a file imports: `import a.b, c as d` → a.b, c; `from a.b import x, y` →
/// a.b, a.b.x, a.b.y (a name imported from a package may be a submodule); `from . import m` →
/// `.`, `.m`. Statements anywhere count (an import inside `upgrade()` changes what it renders).
pub fn imports(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(rest) = line.strip_prefix("import ") {
            for part in rest.split(',') {
                if let Some(name) = part.split_whitespace().next() {
                    out.push(name.to_owned());
                }
            }
        } else if let Some(rest) = line.strip_prefix("from ") {
            let Some((module, names)) = rest.split_once(" import ") else {
                continue;
            };
            let module = module.trim();
            out.push(module.to_owned());
            let names = names.trim().trim_start_matches('(').trim_end_matches(')');
            for part in names.split(',') {
                let Some(name) = part.split_whitespace().next() else {
                    continue;
                };
                if name == "*" {
                    continue;
                }
                if module.chars().all(|c| c == '.') {
                    out.push(format!("{module}{name}"));
                } else {
                    out.push(format!("{module}.{name}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_statements_name_their_modules() {
        let text = "import sqlalchemy as sa\nfrom alembic import op\n\
                    from myapp.constants import TABLE, OTHER  # why\n\
                    import a.b, c as d\nfrom . import sibling\nfrom ..pkg import (x,\n";
        assert_eq!(
            imports(text),
            [
                "sqlalchemy",
                "alembic",
                "alembic.op",
                "myapp.constants",
                "myapp.constants.TABLE",
                "myapp.constants.OTHER",
                "a.b",
                "c",
                ".",
                ".sibling",
                "..pkg",
                "..pkg.x"
            ]
        );
    }

    #[test]
    fn a_changed_project_module_changes_the_hash_and_outside_modules_do_not_count() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("myapp");
        std::fs::create_dir_all(&pkg).unwrap();
        std::fs::write(pkg.join("__init__.py"), "").unwrap();
        std::fs::write(pkg.join("constants.py"), "from .names import T\n").unwrap();
        std::fs::write(pkg.join("names.py"), "T = 'alpha'\n").unwrap();
        let rev = dir.path().join("versions/r.py");
        let text = "import sqlalchemy as sa\nfrom myapp.constants import T\n";
        let sha =
            |dir: &Path| ImportHasher::new(vec![dir.to_path_buf()]).imports_sha256(&rev, text);
        let before = sha(dir.path());
        assert_eq!(before, sha(dir.path()));
        // A module two imports away changes: so does the hash.
        std::fs::write(pkg.join("names.py"), "T = 'beta'\n").unwrap();
        assert_ne!(before, sha(dir.path()));
    }
}
