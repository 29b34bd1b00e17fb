//! Every project alembic opens opens the same way: each fixture under tests/fixtures/projects is
//! run with real alembic (the test venv) and with alembic-tui, from the same directory with the
//! same `-c`, and `heads` and `history` must name the same revisions in the same order — or both
//! must refuse, ours with a message naming the setting.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/projects")
        .join(rel)
}

/// One command's answer: the revision ids it printed in order, or `None` when it failed.
#[derive(Debug)]
struct Answer {
    ids: Option<Vec<String>>,
    stderr: String,
}

/// alembic's `heads` lines start with the id; `history` lines are `down -> id (…), doc`.
fn alembic_ids(command: &str, stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|line| match command {
            "heads" => line.split_whitespace().next(),
            _ => line
                .split_once(" -> ")
                .and_then(|(_, rest)| rest.split([' ', ',']).next()),
        })
        .map(str::to_owned)
        .collect()
}

/// `alembic ARGS heads` and `alembic ARGS history` in `dir`, in one Python process.
fn alembic(dir: &Path, args: &[&str]) -> [Answer; 2] {
    let argvs: Vec<Vec<String>> = ["heads", "history"]
        .iter()
        .map(|c| {
            args.iter()
                .chain(std::iter::once(c))
                .map(|s| (*s).to_owned())
                .collect()
        })
        .collect();
    let runs = common::alembic_batch(dir, &argvs);
    let answer = |i: usize, command: &str| Answer {
        ids: (runs[i].code == 0).then(|| alembic_ids(command, &runs[i].stdout)),
        stderr: runs[i].stderr.clone(),
    };
    [answer(0, "heads"), answer(1, "history")]
}

fn ours_cmd(dir: &Path) -> Command {
    let mut cmd = common::bin();
    cmd.current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("ALEMBIC_CONFIG");
    cmd
}

/// `alembic-tui ARGS --json heads|history` in `dir`; a failure must be exit 2 with a message.
fn ours(dir: &Path, args: &[&str]) -> [Answer; 2] {
    ["heads", "history"].map(|command| {
        let out = ours_cmd(dir)
            .args(args)
            .args(["--json", command])
            .output()
            .expect("run alembic-tui");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let ids = out.status.success().then(|| {
            let v: Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
            v.as_array()
                .expect("a JSON list")
                .iter()
                .filter_map(|r| r["revision"].as_str().map(str::to_owned))
                .collect()
        });
        if ids.is_none() {
            assert_eq!(out.status.code(), Some(2), "{command}: {stderr}");
            assert!(stderr.starts_with("error: "), "{command}: {stderr}");
        }
        Answer { ids, stderr }
    })
}

/// Both answer `heads` and `history` with the same ids in the same order; returns our stderr of
/// `heads` (the warnings).
fn agree(dir: &Path, args: &[&str]) -> String {
    let theirs = alembic(dir, args);
    let mine = ours(dir, args);
    for (command, (t, m)) in ["heads", "history"].iter().zip(theirs.iter().zip(&mine)) {
        assert!(
            t.ids.is_some(),
            "alembic {args:?} {command} failed in {}: {}",
            dir.display(),
            t.stderr
        );
        assert_eq!(
            m.ids,
            t.ids,
            "{args:?} {command} in {}: ours vs alembic; our stderr: {}",
            dir.display(),
            m.stderr
        );
    }
    mine[0].stderr.clone()
}

/// Both refuse; returns our message.
fn both_refuse(dir: &Path, args: &[&str]) -> String {
    let theirs = alembic(dir, args);
    let mine = ours(dir, args);
    assert!(
        theirs[0].ids.is_none(),
        "alembic {args:?} heads answered in {}",
        dir.display()
    );
    assert!(
        mine[0].ids.is_none(),
        "alembic-tui {args:?} heads answered in {}: {:?}",
        dir.display(),
        mine[0].ids
    );
    mine[0].stderr.clone()
}

#[test]
fn the_1_15_template_separator_line_with_its_inline_comment_opens() {
    // `version_path_separator = os  # Use os.pathsep` is only read to split version_locations.
    let dir = fixture("template_1_15");
    let text = std::fs::read_to_string(dir.join("alembic.ini")).unwrap();
    assert!(text.contains("\nversion_path_separator = os  # Use os.pathsep\n"));
    let warnings = agree(&dir, &[]);
    assert!(warnings.is_empty(), "{warnings}");
    agree(&dir, &["-c", "alembic.ini"]);
}

#[test]
fn the_same_line_with_version_locations_is_refused_naming_the_key() {
    let dir = fixture("template_1_15");
    let theirs = alembic(&dir, &["-c", "with_locations.ini"]);
    assert!(
        theirs[0].stderr.contains("version_path_separator")
            || theirs[0].stderr.contains("Use os.pathsep"),
        "{}",
        theirs[0].stderr
    );
    let message = both_refuse(&dir, &["-c", "with_locations.ini"]);
    assert!(
        message.contains("[alembic] version_path_separator: \"os  # Use os.pathsep\"")
            && message.contains("line of its own"),
        "{message}"
    );
}

#[test]
fn an_ini_in_a_subfolder_resolves_paths_from_the_current_directory() {
    // `alembic -c db/alembic.ini` from backend/: script_location = db/migrations, two locations.
    let backend = fixture("subfolder/backend");
    agree(&backend, &["-c", "db/alembic.ini"]);
    // An ini written for its own folder: from backend/ alembic finds nothing, and we say where
    // we looked and what would work.
    let message = both_refuse(&backend, &["-c", "db/here.ini"]);
    assert!(
        message.contains("script_location")
            && message.contains("the current directory")
            && message.contains("write %(here)s/migrations"),
        "{message}"
    );
    // From its own folder it opens.
    agree(&backend.join("db"), &["-c", "here.ini"]);
}

#[test]
fn pyproject_toml_combines_with_alembic_ini_as_alembic_combines_them() {
    // The ini's script_location wins; version_locations (a TOML list), recursion and
    // prepend_sys_path come from [tool.alembic].
    let dir = fixture("pyproject");
    let warnings = agree(&dir, &[]);
    assert!(warnings.is_empty(), "{warnings}");
    agree(&dir, &["-c", "alembic.ini"]);
    // pyproject.toml alone, found without -c and named with -c.
    let only = fixture("pyproject_only");
    agree(&only, &[]);
    agree(&only, &["-c", "pyproject.toml"]);
}

#[test]
fn a_missing_version_location_is_a_warning_naming_it() {
    let dir = fixture("missing_location");
    let warnings = agree(&dir, &[]);
    assert!(
        warnings.starts_with("warning: ") && warnings.contains("gone\" is skipped"),
        "{warnings}"
    );
}

#[test]
fn separators_split_only_where_and_as_alembic_splits() {
    let dir = fixture("separators");
    for ini in ["newline.ini", "legacy.ini", "prepend_only.ini"] {
        agree(&dir, &["-c", ini]);
    }
}

#[test]
fn a_parent_named_twice_is_printed_as_alembic_prints_it() {
    let dir = fixture("duplicate_parent");
    agree(&dir, &[]);
    // alembic's `show -1` refuses the ambiguous walk down a merge; so do we.
    let out = ours_cmd(&dir).args(["show", "-1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let runs = common::alembic_batch(&dir, &[vec!["show".into(), "-1".into()]]);
    assert_ne!(runs[0].code, 0, "{}", runs[0].stdout);
}

#[test]
fn a_revision_id_declared_twice_is_refused_naming_both_files() {
    let dir = fixture("duplicate_id");
    // alembic loads both, warns, and keeps the first one as a phantom head.
    let theirs = alembic(&dir, &[]);
    assert!(
        theirs[0].stderr.contains("present more than once"),
        "{}",
        theirs[0].stderr
    );
    let mine = ours(&dir, &[]);
    let message = &mine[0].stderr;
    assert!(mine[0].ids.is_none(), "{:?}", mine[0].ids);
    assert!(
        message.contains("revision c3")
            && message.contains("c3_first.py")
            && message.contains("c3_second.py"),
        "{message}"
    );
}

/// A copy of `rel` in a temp dir, for fixtures that need what git cannot hold.
fn copy_of(rel: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    common::copy_dir(&fixture(rel), tmp.path());
    tmp
}

#[cfg(unix)]
#[test]
fn recursive_walks_do_not_follow_symlinked_directories() {
    // pyproject: recursive_version_locations = true. A symlinked directory holding a revision
    // that would become the new head: alembic does not descend into it.
    let tmp = copy_of("pyproject");
    let extra = tmp.path().join("elsewhere");
    std::fs::create_dir(&extra).unwrap();
    std::fs::write(
        extra.join("p4_linked.py"),
        "revision = 'p4'\ndown_revision = 'p3'\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&extra, tmp.path().join("features/linked")).unwrap();
    agree(tmp.path(), &[]);
    let mine = ours(tmp.path(), &[]);
    assert_eq!(mine[0].ids.as_deref(), Some(&["p3".to_owned()][..]));
}

#[cfg(unix)]
#[test]
fn fifos_and_devices_named_like_revisions_are_skipped_with_a_warning() {
    // alembic would block reading these; they are not run through it.
    let tmp = copy_of("pyproject");
    let versions = tmp.path().join("migrations/versions");
    let made = Command::new("mkfifo")
        .arg(versions.join("p9_pipe.py"))
        .status()
        .expect("mkfifo");
    assert!(made.success());
    std::os::unix::fs::symlink("/dev/zero", versions.join("p8_zero.py")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/x.py", versions.join("p7_dangling.py")).unwrap();
    let mut child = ours_cmd(tmp.path())
        .args(["--json", "heads"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A hang is the failure this guards against: give up on it rather than wait forever.
    let mut waited = 0;
    while child.try_wait().unwrap().is_none() {
        assert!(waited < 600, "alembic-tui heads hung on a FIFO or device");
        std::thread::sleep(std::time::Duration::from_millis(100));
        waited += 1;
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("p9_pipe.py: not read: a named pipe (FIFO)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("p8_zero.py: not read: a character device"),
        "{stderr}"
    );
    assert!(
        stderr.contains("p7_dangling.py: not read: a symlink to nothing"),
        "{stderr}"
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["revision"], "p3");
}
