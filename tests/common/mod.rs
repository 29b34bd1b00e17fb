//! Shared test helpers: the binary under test, the reference alembic in the test venv, and
//! generated projects (`gen`).

#![allow(dead_code)]

pub mod gen;
pub mod pg;
pub mod vectors;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The alembic-tui binary built for this test run.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_alembic-tui"))
}

/// The venv's Python, where alembic is installed. Missing means the suite was not started through
/// scripts/test.sh: fail loudly rather than skip what compares us with alembic.
pub fn python() -> PathBuf {
    let path = std::env::var_os("ALEMBIC_TUI_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"));
    assert!(
        path.exists(),
        "no Python with alembic at {} — run scripts/test.sh first (it creates .venv)",
        path.display()
    );
    path
}

/// Runs `python -m alembic ARGS` in `project`, with a clean Python environment.
pub fn alembic(project: &Path, args: &[&str]) -> Output {
    Command::new(python())
        .arg("-m")
        .arg("alembic")
        .args(args)
        .current_dir(project)
        .env_remove("PYTHONPATH")
        .env_remove("PYTHONHOME")
        .env("PYTHONHASHSEED", "0")
        .output()
        .expect("run python -m alembic")
}
