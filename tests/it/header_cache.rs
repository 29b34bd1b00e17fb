//! The header cache (heads, history, show, plans): answers from the cache are the answers of a
//! fresh parse — a syntax error anywhere in a file is reported on every run, an edited file is
//! read again, and a header taken from an imported module follows that module.

use crate::common;

use std::path::Path;

use serde_json::Value;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn rev(id: &str, down: &str) -> String {
    format!("revision = '{id}'\ndown_revision = {down}\n\n\ndef upgrade():\n    pass\n\n\ndef downgrade():\n    pass\n")
}

/// `alembic-tui --json heads` in `project` with the data dir in `data`: (head ids, stderr).
fn heads(project: &Path, data: &Path) -> (Vec<String>, String) {
    let out = common::bin()
        .current_dir(project)
        .env("ALEMBIC_TUI_DATA_DIR", data)
        .env_remove("DATABASE_URL")
        .args(["--json", "heads"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids = v
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["revision"].as_str().unwrap().to_owned())
        .collect();
    (ids, stderr)
}

fn cache_files(data: &Path) -> usize {
    std::fs::read_dir(data.join("parse-cache"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn cached_answers_equal_fresh_ones_and_errors_are_reported_every_time() {
    let project = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let p = project.path();
    write(
        &p.join("alembic.ini"),
        "[alembic]\nscript_location = %(here)s/migrations\nprepend_sys_path = .\n",
    );
    let versions = p.join("migrations/versions");
    write(&versions.join("a1.py"), &rev("a1", "None"));
    write(&versions.join("b2.py"), &rev("b2", "'a1'"));
    // A syntax error deep in a body, far from the header.
    write(
        &versions.join("c3.py"),
        &format!("{}\n\ndef helper(:\n    pass\n", rev("c3", "'b2'")),
    );
    // A label from another module: never cached, follows that module.
    write(&p.join("labels.py"), "NAME = 'first'\n");
    write(
        &versions.join("d4.py"),
        "from labels import NAME\nrevision = 'd4'\ndown_revision = 'b2'\nbranch_labels = (NAME,)\n",
    );

    let (cold, cold_err) = heads(p, data.path());
    assert_eq!(cold, ["d4"]);
    assert!(cold_err.contains("c3.py:13: syntax error"), "{cold_err}");
    assert_eq!(cache_files(data.path()), 1);
    let (warm, warm_err) = heads(p, data.path());
    assert_eq!(warm, cold);
    assert_eq!(
        warm_err, cold_err,
        "the cached run reports the same problems"
    );

    // Once the files are older than the racy window (2 s), unchanged files go unread: the run
    // answers the same and finds nothing to write back.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let (_, _) = heads(p, data.path());
    let cache_file = std::fs::read_dir(data.path().join("parse-cache"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let written = std::fs::metadata(&cache_file).unwrap().modified().unwrap();
    let (settled, settled_err) = heads(p, data.path());
    assert_eq!(settled, cold);
    assert_eq!(settled_err, cold_err);
    assert_eq!(
        std::fs::metadata(&cache_file).unwrap().modified().unwrap(),
        written,
        "every file was answered from its unchanged stamp"
    );

    // Fix the syntax error and move c3 onto d4: the edited file is parsed again.
    write(&versions.join("c3.py"), &rev("c3", "'d4'"));
    let (edited, edited_err) = heads(p, data.path());
    assert_eq!(edited, ["c3"]);
    assert!(edited_err.is_empty(), "{edited_err}");

    // The label comes from labels.py each time.
    let show = |data: &Path| {
        let out = common::bin()
            .current_dir(p)
            .env("ALEMBIC_TUI_DATA_DIR", data)
            .args(["--json", "show", "d4"])
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v[0]["branch_labels"].clone()
    };
    assert_eq!(show(data.path()), serde_json::json!(["first"]));
    write(&p.join("labels.py"), "NAME = 'second'\n");
    assert_eq!(show(data.path()), serde_json::json!(["second"]));
}
