//! Hostile and unlucky project files (issue 13): deeply nested Python, enormous SQL strings,
//! revision ids that are not safe to quote, docstrings with terminal escapes. Each must end as
//! one problem naming its file, or print safely, while the rest of the project loads.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::bin;

/// A project in a temp dir: alembic.ini and a versions directory holding `files`.
fn project(files: &[(&str, String)]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("alembic.ini"),
        "[alembic]\nscript_location = %(here)s/migrations\n",
    )
    .unwrap();
    let versions = dir.path().join("migrations/versions");
    std::fs::create_dir_all(&versions).unwrap();
    for (name, text) in files {
        std::fs::write(versions.join(name), text).unwrap();
    }
    let ini = dir.path().join("alembic.ini");
    (dir, ini)
}

fn revision(id: &str, down: Option<&str>, doc: &str, upgrade: &str) -> String {
    let down = down.map_or("None".to_owned(), |d| format!("{d:?}"));
    format!(
        "\"\"\"{doc}\"\"\"\nfrom alembic import op\n\nrevision = {id:?}\ndown_revision = {down}\n\n\
         def upgrade():\n    {upgrade}\n\n\ndef downgrade():\n    pass\n"
    )
}

fn run(ini: &Path, args: &[&str]) -> Output {
    bin()
        .arg("-c")
        .arg(ini)
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .unwrap()
}

/// The process ended by itself with one of our exit codes (no signal, no abort).
fn exited_normally(out: &Output) -> i32 {
    let code = out.status.code();
    assert!(
        matches!(code, Some(0..=2)),
        "killed or aborted ({:?}); stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    code.unwrap_or(-1)
}

#[test]
fn deeply_nested_python_is_one_problem_and_the_rest_loads() {
    let levels = 8_000;
    let sum = format!("x = 1{}", " + 1".repeat(levels));
    let lists = format!("x = {}1{}", "[".repeat(levels), "]".repeat(levels));
    let nots = format!("x = {}True", "not ".repeat(levels));
    let attrs = format!("x = a{}", ".b".repeat(levels));
    let (_dir, ini) = project(&[
        ("a1_base.py", revision("a1", None, "base", "pass")),
        ("b2_next.py", revision("b2", Some("a1"), "next", "pass")),
        ("deep_sum.py", revision("d1", Some("b2"), "sum", &sum)),
        ("deep_lists.py", revision("d2", Some("b2"), "lists", &lists)),
        ("deep_nots.py", revision("d3", Some("b2"), "nots", &nots)),
        ("deep_attrs.py", revision("d4", Some("b2"), "attrs", &attrs)),
    ]);
    for args in [&["heads"][..], &["lint"], &["history"]] {
        let out = run(&ini, args);
        exited_normally(&out);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        for file in [
            "deep_sum.py",
            "deep_lists.py",
            "deep_nots.py",
            "deep_attrs.py",
        ] {
            assert!(
                stderr.contains(&format!("{file}:8: too deeply nested")),
                "{args:?}: {file} not reported with its line: {stderr}"
            );
        }
        if args == ["heads"] {
            assert!(stdout.contains("b2"), "{stdout}");
        }
    }
}

#[test]
fn a_file_just_under_the_nesting_limit_loads_and_lints() {
    // 990 nested calls in an op's argument: every walk over the values it becomes (lint
    // messages, comparisons, drops) stays on the stack, in a debug build too.
    let calls = format!(
        "op.add_column('t', {}sa.Column('c', sa.Integer(), nullable=False){})",
        "f(".repeat(990),
        ")".repeat(990)
    );
    let sum = format!("x = 1{}", " + 1".repeat(990));
    let (_dir, ini) = project(&[
        ("a1_base.py", revision("a1", None, "base", &calls)),
        ("b2_sum.py", revision("b2", Some("a1"), "sum", &sum)),
    ]);
    for args in [&["heads"][..], &["lint"], &["--json", "show", "a1"]] {
        let out = run(&ini, args);
        exited_normally(&out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("too deeply nested"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_shallow_file_of_the_same_size_still_loads() {
    // Many terms, little depth: a long list literal is not nesting.
    let long = format!("x = [{}]", vec!["1"; 50_000].join(", "));
    let (_dir, ini) = project(&[("a1_base.py", revision("a1", None, "base", &long))]);
    let out = run(&ini, &["heads"]);
    assert_eq!(exited_normally(&out), 0);
    assert!(String::from_utf8_lossy(&out.stdout).contains("a1"));
}

#[test]
fn an_enormous_where_clause_is_reviewed_without_overflowing() {
    let terms: Vec<String> = (0..32_000).map(|i| format!("id = {i}")).collect();
    let sql = format!(
        "DROP TABLE old_stuff; DELETE FROM t WHERE {}",
        terms.join(" OR ")
    );
    let (_dir, ini) = project(&[
        (
            "a1_base.py",
            revision("a1", None, "base", &format!("op.execute({sql:?})")),
        ),
        (
            "b2_next.py",
            revision("b2", Some("a1"), "next", "op.drop_column('t', 'c')"),
        ),
    ]);
    let out = run(&ini, &["lint", "--format", "json"]);
    exited_normally(&out);
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules: Vec<(&str, &str)> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["revision"].as_str().unwrap(), f["rule"].as_str().unwrap()))
        .collect();
    assert!(rules.contains(&("a1", "drop-table")), "{rules:?}");
    assert!(rules.contains(&("b2", "drop-column")), "{rules:?}");
}

#[test]
fn unsafe_revision_ids_and_labels_are_refused_with_the_file_named() {
    let bad_label =
        "\"\"\"l\"\"\"\nrevision = 'c3'\ndown_revision = 'b2'\nbranch_labels = ('x y',)\n"
            .to_owned();
    let (_dir, ini) = project(&[
        ("a1_base.py", revision("a1", None, "base", "pass")),
        // Hand-written ids alembic accepts, and alembic-tui too.
        (
            "b2_users.py",
            revision("add_users.table_2", Some("a1"), "users", "pass"),
        ),
        (
            "q_quote.py",
            revision(
                "q'; DROP TABLE t; --",
                Some("add_users.table_2"),
                "q",
                "pass",
            ),
        ),
        (
            "w_space.py",
            revision("w x", Some("add_users.table_2"), "w", "pass"),
        ),
        (
            "e_escape.py",
            "revision = 'e\\x1b]0;pwned\\x07'\ndown_revision = 'add_users.table_2'\n".to_owned(),
        ),
        (
            "s_slash.py",
            revision("s\\x", Some("add_users.table_2"), "s", "pass"),
        ),
        // Letters of any script are letters (alembic accepts them); a bidi override is not.
        (
            "u_umlaut.py",
            revision("größe_2", Some("add_users.table_2"), "umlaut", "pass"),
        ),
        (
            "r_bidi.py",
            "revision = 'r\u{202e}2b'\ndown_revision = 'add_users.table_2'\n".to_owned(),
        ),
        ("l_label.py", bad_label),
    ]);
    let out = run(&ini, &["heads"]);
    assert_eq!(exited_normally(&out), 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The one head is the umlaut revision, on top of `add_users.table_2`: both accepted.
    assert!(stdout.contains("größe_2 (head)"), "{stdout}");
    for file in [
        "q_quote.py",
        "w_space.py",
        "e_escape.py",
        "s_slash.py",
        "l_label.py",
        "r_bidi.py",
    ] {
        assert!(
            stderr
                .lines()
                .any(|l| l.contains(file) && l.contains("not safe")),
            "{file} not refused: {stderr}"
        );
    }
    assert!(
        !stderr.contains('\u{1b}'),
        "raw escape on stderr: {stderr:?}"
    );
    assert!(!stdout.contains("DROP"), "{stdout}");
}

#[test]
fn docstrings_with_terminal_escapes_print_escaped_and_json_stays_exact() {
    let doc = "clear\u{1b}[2J\u{1b}]0;title\u{7} and \u{9b}31m c1\r over";
    let (_dir, ini) = project(&[("a1_base.py", revision("a1", None, doc, "pass"))]);
    for args in [
        &["heads"][..],
        &["history"],
        &["show", "a1"],
        &["history", "--verbose"],
    ] {
        let out = run(&ini, args);
        if exited_normally(&out) != 0 {
            // `history --verbose` may not exist; the others must work.
            assert_eq!(args, ["history", "--verbose"], "{out:?}");
            continue;
        }
        let stdout = String::from_utf8_lossy(&out.stdout);
        for raw in ['\u{1b}', '\u{7}', '\u{9b}', '\r'] {
            assert!(!stdout.contains(raw), "{args:?}: raw {raw:?} in {stdout:?}");
        }
        assert!(stdout.contains("\\x1b[2J"), "{args:?}: {stdout:?}");
    }
    let out = run(&ini, &["--json", "heads"]);
    assert_eq!(exited_normally(&out), 0);
    let heads: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(heads[0]["message"].as_str(), Some(doc));
}
