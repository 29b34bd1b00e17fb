//! squawk beside alembic-tui on the same statements: rendered steps written as SQL files the way
//! the executor runs them (the step's transaction, autocommit statements outside it), squawk's
//! JSON findings mapped back to the statement they are on, and the squawk → alembic-tui rule
//! table of docs/rules.md. Shared by tests/squawk_parity.rs and benches/squawk.rs.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The squawk binary: `ALEMBIC_TUI_SQUAWK`, else beside the venv's python (scripts/test.sh
/// installs squawk-cli there). Missing fails loudly: a skipped comparison proves nothing.
pub fn squawk(python: &Path) -> PathBuf {
    if let Some(path) = std::env::var_os("ALEMBIC_TUI_SQUAWK") {
        return PathBuf::from(path);
    }
    let beside = python.with_file_name("squawk");
    assert!(
        beside.exists(),
        "no squawk at {} (install squawk-cli into the venv: scripts/test.sh does)",
        beside.display()
    );
    beside
}

/// One statement of a step file: its text, whether it runs outside the step's transaction, and
/// its 0-based first and last line in the file.
#[derive(Debug, Clone)]
pub struct FileStatement {
    pub text: String,
    pub autocommit: bool,
    pub lines: (usize, usize),
}

/// A step written as a SQL file.
#[derive(Debug, Clone)]
pub struct StepFile {
    pub path: PathBuf,
    pub statements: Vec<FileStatement>,
}

/// Writes `statements` (text, autocommit) as the executor runs them: inside `BEGIN;` …
/// `COMMIT;`, leaving the transaction around autocommit statements.
pub fn write_step(path: &Path, statements: &[(String, bool)]) -> StepFile {
    let mut text = String::new();
    let mut line = 0usize;
    let mut push = |text: &mut String, chunk: &str| -> (usize, usize) {
        let start = line;
        text.push_str(chunk);
        text.push('\n');
        line += chunk.lines().count().max(1);
        (start, line - 1)
    };
    let mut out = Vec::new();
    let mut in_transaction = false;
    for (sql, autocommit) in statements {
        if *autocommit && in_transaction {
            push(&mut text, "COMMIT;");
            in_transaction = false;
        }
        if !*autocommit && !in_transaction {
            push(&mut text, "BEGIN;");
            in_transaction = true;
        }
        let lines = push(&mut text, &format!("{};", sql.trim().trim_end_matches(';')));
        out.push(FileStatement {
            text: sql.clone(),
            autocommit: *autocommit,
            lines,
        });
    }
    if in_transaction {
        push(&mut text, "COMMIT;");
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    StepFile {
        path: path.to_path_buf(),
        statements: out,
    }
}

/// One squawk finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SquawkFinding {
    pub file: PathBuf,
    /// 0-based.
    pub line: usize,
    pub rule: String,
    pub message: String,
}

/// squawk over `files` with its default rules minus `exclude`, at PostgreSQL `pg_version`.
pub fn run_squawk(
    squawk: &Path,
    files: &[PathBuf],
    exclude: &[String],
    pg_version: u32,
) -> Vec<SquawkFinding> {
    let mut cmd = Command::new(squawk);
    cmd.args([
        "--reporter",
        "json",
        &format!("--pg-version={pg_version}.0"),
    ]);
    if !exclude.is_empty() {
        cmd.arg(format!("--exclude={}", exclude.join(",")));
    }
    let out = cmd
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", squawk.display()));
    // Exit 1 means findings; anything else is squawk failing.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "squawk failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "squawk's JSON: {e}: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    list.as_array()
        .unwrap_or_else(|| panic!("squawk's JSON is not a list: {list}"))
        .iter()
        .map(|f| SquawkFinding {
            file: PathBuf::from(f["file"].as_str().unwrap_or_default()),
            line: f["line"].as_u64().unwrap_or_default() as usize,
            rule: f["rule_name"].as_str().unwrap_or_default().to_owned(),
            message: f["message"].as_str().unwrap_or_default().to_owned(),
        })
        .collect()
}

/// docs/rules.md's squawk table: squawk rule id → the alembic-tui rule ids given as its
/// counterpart (empty when the row gives a reason instead).
pub fn counterparts(docs: &str) -> BTreeMap<String, Vec<String>> {
    let Some(at) = docs.find("## squawk rules") else {
        panic!("docs/rules.md has no '## squawk rules' section")
    };
    let mut map = BTreeMap::new();
    for line in docs[at..].lines() {
        let Some(row) = line.strip_prefix("| `") else {
            continue;
        };
        let Some((id, rest)) = row.split_once('`') else {
            continue;
        };
        let ours: Vec<String> = rest
            .split("[`")
            .skip(1)
            .filter_map(|p| p.split_once("`]").map(|(id, _)| id.to_owned()))
            .collect();
        map.insert(id.to_owned(), ours);
    }
    map
}
