//! Shared test helpers: the binary under test, the reference alembic in the test venv, and
//! generated projects (`gen`).

#![allow(dead_code)]

pub mod gen;
pub mod lint_cases;
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

/// `python -m alembic` in `project` with a plain environment: nothing from the caller's Python
/// setup (PYTHONPATH, PYTHONHOME, a virtualenv, ALEMBIC_CONFIG) can change what alembic loads.
pub fn alembic_cmd(project: &Path) -> Command {
    let mut cmd = Command::new(python());
    cmd.arg("-m").arg("alembic");
    plain_env(&mut cmd, project);
    cmd
}

fn plain_env(cmd: &mut Command, project: &Path) {
    cmd.current_dir(project)
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LANG", "C.UTF-8")
        .env("PYTHONHASHSEED", "0")
        .env("PYTHONDONTWRITEBYTECODE", "1");
    if let Some(home) = std::env::var_os("HOME") {
        cmd.env("HOME", home);
    }
}

/// Runs `python -m alembic ARGS` online in `project` against `url` (the env.py of the demo and of
/// the tests' projects reads `DATABASE_URL`); panics with alembic's stderr when it fails, returns
/// its stdout.
pub fn alembic_online(project: &Path, url: &str, args: &[&str]) -> String {
    let out = alembic_cmd(project)
        .args(args)
        .env("DATABASE_URL", url)
        .output()
        .expect("run python -m alembic");
    assert!(
        out.status.success(),
        "alembic {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `python -m alembic ARGS` in `project` (plain environment, see [`alembic_cmd`]).
pub fn alembic(project: &Path, args: &[&str]) -> Output {
    alembic_cmd(project)
        .args(args)
        .output()
        .expect("run python -m alembic")
}

/// What one alembic command line did: its exit code (0–255, as a process's would be) and output.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct AlembicRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs several alembic command lines in `project` in ONE Python process (`alembic_batch.py`:
/// alembic's own console entry point per line). Python start-up and imports are most of an
/// alembic process's cost, so this is what keeps comparisons with alembic fast.
/// `differential_alembic.rs` checks that it answers exactly as separate processes do.
pub fn alembic_batch(project: &Path, commands: &[Vec<String>]) -> Vec<AlembicRun> {
    use std::io::Write as _;
    use std::process::Stdio;
    let mut cmd = Command::new(python());
    cmd.arg("-c").arg(include_str!("alembic_batch.py"));
    plain_env(&mut cmd, project);
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python (alembic_batch.py)");
    let input = serde_json::to_vec(commands).expect("commands as JSON");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("write commands to alembic_batch.py");
    let out = child.wait_with_output().expect("alembic_batch.py");
    assert!(
        out.status.success(),
        "alembic_batch.py failed in {}: {}",
        project.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let runs: Vec<AlembicRun> =
        serde_json::from_slice(&out.stdout).expect("alembic_batch.py answers JSON");
    assert_eq!(runs.len(), commands.len(), "one answer per command line");
    runs
}

/// Copies a directory tree (without Python's `__pycache__`).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy's directory");
    for entry in std::fs::read_dir(from).expect("read the directory to copy") {
        let entry = entry.expect("a directory entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("its file type").is_dir() {
            if entry.file_name() != "__pycache__" {
                copy_dir(&entry.path(), &target);
            }
        } else {
            std::fs::copy(entry.path(), target).expect("copy a file");
        }
    }
}

/// A copy of the bundled demo project in a temp dir (tests may add config files beside it; its
/// env.py runs online against DATABASE_URL): the dir and its alembic.ini.
pub fn demo_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/demo"),
        dir.path(),
    );
    let ini = dir.path().join("alembic.ini");
    (dir, ini)
}
