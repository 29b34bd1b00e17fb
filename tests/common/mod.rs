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

/// Runs `alembic-tui -c INI --json ARGS` without a DATABASE_URL from the environment:
/// (exit code, stdout as JSON or Null, stderr).
pub fn json_cli(ini: &Path, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = bin()
        .arg("-c")
        .arg(ini)
        .arg("--json")
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run alembic-tui");
    (
        out.status.code().unwrap_or(-1),
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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
