//! Loading real-world header styles from fixture projects (tests/fixtures/projects): load order,
//! every header form, names resolved through imports, and problems that never stop the rest.

use crate::common;

use std::path::{Path, PathBuf};

use alembic_tui::project::ops::Value;
use alembic_tui::project::{self, Project};
use alembic_tui::workspace::Workspace;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/projects")
        .join(name)
}

fn load(name: &str) -> Project {
    let config = project::discover(&fixture(name), None, "alembic").unwrap();
    project::load(&config).unwrap()
}

#[test]
fn every_header_style_loads_in_alembics_order() {
    let p = load("styles");
    let ids: Vec<&str> = p.revisions.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "1975ea83b712",
            "django_0001",
            "kilo",
            "Lima",
            "2026_02_09_1500",
            "m2"
        ]
    );
    let by_id = |id: &str| p.revisions.iter().find(|r| r.id == id).unwrap();

    // Annotated modern header; the docstring's "Revises:" line is not what counts.
    let first = by_id("1975ea83b712");
    assert!(first.down_revisions.is_empty());
    assert!(
        first.depends_on.is_empty(),
        "depends_on = () is no dependency"
    );
    assert_eq!(first.doc, "create account table");
    assert_eq!(
        first.create_date.as_deref(),
        Some("2026-01-02 03:04:05.000000")
    );
    let up = first.upgrade.as_ref().unwrap();
    assert_eq!((up.def_line, up.end_line), (19, 24));
    assert_eq!(up.ops[0].name, "create_table");
    assert_eq!(up.ops[0].args[0], Value::Str("account".into()));

    // u'' strings, a file name without the id, missing optional variables.
    let seed = by_id("django_0001");
    assert_eq!(seed.down_revisions, ["1975ea83b712"]);
    assert!(seed.branch_labels.is_empty());
    assert_eq!(seed.doc, "seed data");

    // Labels from an imported module, and from a constant built from another import.
    assert_eq!(by_id("kilo").branch_labels, ["expand"]);
    let kilo_up = by_id("kilo").upgrade.as_ref().unwrap();
    assert_eq!(kilo_up.ops[1].name, "batch_op.add_column");
    assert_eq!(by_id("Lima").branch_labels, ["contract"]);
    assert!(by_id("Lima").downgrade.as_ref().unwrap().is_empty);

    // A three-parent merge written as a list over several lines, in a nested directory.
    assert_eq!(
        by_id("2026_02_09_1500").down_revisions,
        ["kilo", "Lima", "django_0001"]
    );
    // No functions at all is allowed (alembic would fail only when running it).
    assert!(by_id("m2").upgrade.is_none());

    let problems: Vec<String> = p.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(problems.len(), 3, "{problems:#?}");
    assert!(problems[0].contains("helpers.py") && problems[0].contains("not a revision file"));
    assert!(
        problems[1].contains("zz_broken.py:6: syntax error"),
        "{}",
        problems[1]
    );
    assert!(
        problems[2]
            .contains("m1_unresolved.py:4: branch_labels: cannot resolve name 'SOMEWHERE_ELSE'"),
        "{}",
        problems[2]
    );

    // The loaded revisions form a valid graph with the label inherited along its branch.
    let (ws, _) = Workspace::new(p).unwrap();
    assert_eq!(ws.map.heads(), ["m2"]);
}

#[test]
fn new_revision_paths_follow_file_template_and_slug_rules() {
    let p = load("styles");
    let path = p
        .config
        .new_revision_path("ab12cd34", "Add e-mail to accounts!");
    let name = path.file_name().unwrap().to_str().unwrap();
    // truncate_slug_length = 12: "add_e_mail_to_accounts" cut at 12 and back to the last "_".
    assert!(name.ends_with("_ab12cd34_add_e_mail_.py"), "{name}");
    assert!(path.starts_with(fixture("styles").join("migrations/versions")));
}

#[test]
fn package_script_locations_resolve_through_prepend_sys_path() {
    let p = load("package_location");
    assert_eq!(p.revisions.len(), 1);
    assert!(p.config.script_location.ends_with("src/shop/db/migrations"));
}

#[test]
fn the_cli_reports_unreadable_files_and_still_answers() {
    // Run where alembic would run for this ini: its `prepend_sys_path = .` (where the imported
    // labels live) is taken from the current directory.
    let out = common::bin()
        .current_dir(fixture("styles"))
        .arg("-c")
        .arg(fixture("styles").join("alembic.ini"))
        .arg("heads")
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("m2 (contract, expand) (head)"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("zz_broken.py:6: syntax error"), "{stderr}");
}

#[test]
fn config_errors_name_the_file_and_key() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("alembic.ini"),
        "[alembic]\nsqlalchemy.url = x\n",
    )
    .unwrap();
    let out = common::bin()
        .current_dir(dir.path())
        .arg("heads")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("alembic.ini: no 'script_location' key in section [alembic]"),
        "{stderr}"
    );
}
