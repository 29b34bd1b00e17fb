//! `lint` through the binary: the JSON contract, exit codes, config severities, suppression,
//! ranges, the GitHub format, `edited-after-apply` from a journal, and `--pending` against a real
//! PostgreSQL migrated by real alembic.

use crate::common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::gen::{write_project, GenRev};
use common::pg;
use serde_json::Value;

fn rev(id: &str, down: &[&str], upgrade: &[&str], downgrade: &[&str]) -> GenRev {
    GenRev {
        id: id.to_owned(),
        down_revisions: down.iter().map(|s| s.to_string()).collect(),
        message: format!("revision {id}"),
        upgrade: upgrade.iter().map(|s| s.to_string()).collect(),
        downgrade: downgrade.iter().map(|s| s.to_string()).collect(),
        ..GenRev::default()
    }
}

/// r1 creates a table (its downgrade drops it: an error), r2 adds a nullable column (its
/// downgrade drops it: an error), r3 adds an index without CONCURRENTLY (a warning).
fn project() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    write_project(
        dir.path(),
        &[
            rev(
                "r1",
                &[],
                &["op.create_table('t', sa.Column('id', sa.Integer(), primary_key=True))"],
                &["op.drop_table('t')"],
            ),
            rev(
                "r2",
                &["r1"],
                &["op.add_column('t', sa.Column('note', sa.Text()))"],
                &["op.drop_column('t', 'note')"],
            ),
            rev(
                "r3",
                &["r2"],
                &["op.create_index('ix_t_note', 't', ['note'])"],
                &["op.drop_index('ix_t_note', table_name='t')"],
            ),
        ],
    )
    .unwrap();
    let ini = dir.path().join("alembic.ini");
    (dir, ini)
}

fn rule_set(value: &Value) -> BTreeSet<(String, String, String)> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {value}"))
        .iter()
        .map(|f| {
            (
                f["revision"].as_str().unwrap().to_owned(),
                f["rule"].as_str().unwrap().to_owned(),
                f["direction"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn set(items: &[(&str, &str, &str)]) -> BTreeSet<(String, String, String)> {
    items
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[test]
fn json_lists_findings_and_errors_exit_1() {
    let (_dir, ini) = project();
    let (code, value, stderr) = common::json_cli(&ini, &["lint"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(
        rule_set(&value),
        set(&[
            ("r1", "drop-table", "downgrade"),
            ("r2", "drop-column", "downgrade"),
            ("r3", "create-index-without-concurrently", "upgrade"),
            ("r3", "drop-index", "downgrade"),
        ])
    );
    let first = &value[0];
    let keys: BTreeSet<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from([
            "rule",
            "severity",
            "revision",
            "direction",
            "path",
            "line",
            "message",
            "suppressed"
        ])
    );
    let index = value
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule"] == "create-index-without-concurrently")
        .unwrap();
    assert_eq!(index["severity"], "warning");
    assert!(index["message"].as_str().unwrap().contains("ix_t_note"));
    assert!(index["path"].as_str().unwrap().ends_with("00002_r3.py"));
    assert!(index["line"].as_u64().unwrap() > 0);
}

#[test]
fn ranges_and_identifiers_choose_revisions() {
    let (_dir, ini) = project();
    let (code, value, _) = common::json_cli(&ini, &["lint", "r3:"]);
    assert_eq!(code, 1);
    let revs: BTreeSet<String> = rule_set(&value).into_iter().map(|r| r.0).collect();
    assert_eq!(revs, BTreeSet::from(["r3".to_owned()]));
    let (_, value, _) = common::json_cli(&ini, &["lint", ":r2"]);
    let revs: BTreeSet<String> = rule_set(&value).into_iter().map(|r| r.0).collect();
    assert_eq!(revs, BTreeSet::from(["r1".to_owned(), "r2".to_owned()]));
    let (_, value, _) = common::json_cli(&ini, &["lint", "r2"]);
    assert_eq!(rule_set(&value), set(&[("r2", "drop-column", "downgrade")]));
    let (code, _, stderr) = common::json_cli(&ini, &["lint", "nope"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("nope"), "{stderr}");
}

#[test]
fn warnings_alone_exit_0_and_config_can_lower_or_silence_rules() {
    let (dir, ini) = project();
    std::fs::write(
        dir.path().join("alembic-tui.yaml"),
        "lint:\n  severity:\n    drop-table: warning\n    drop-column: info\n    drop-index: off\n",
    )
    .unwrap();
    let (code, value, stderr) = common::json_cli(&ini, &["lint"]);
    assert_eq!(code, 0, "{stderr}");
    let severities: BTreeSet<(String, String)> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        severities,
        BTreeSet::from([
            ("drop-table".to_owned(), "warning".to_owned()),
            ("drop-column".to_owned(), "info".to_owned()),
            (
                "create-index-without-concurrently".to_owned(),
                "warning".to_owned()
            ),
        ])
    );
    // A misspelt rule is an error naming the file.
    std::fs::write(
        dir.path().join("alembic-tui.yaml"),
        "lint:\n  severity:\n    drop-tables: warning\n",
    )
    .unwrap();
    let (code, _, stderr) = common::json_cli(&ini, &["lint"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("alembic-tui.yaml: lint: severity.drop-tables: no such rule"),
        "{stderr}"
    );
}

#[test]
fn suppressed_findings_are_listed_with_their_reason_and_do_not_fail() {
    let dir = tempfile::tempdir().unwrap();
    write_project(
        dir.path(),
        &[rev(
            "r1",
            &[],
            &["op.create_table('t', sa.Column('id', sa.Integer()))"],
            &["op.drop_table('t')  # alembic-tui: allow drop-table -- rolling back loses only test data"],
        )],
    )
    .unwrap();
    let ini = dir.path().join("alembic.ini");
    let (code, value, stderr) = common::json_cli(&ini, &["lint"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(value[0]["rule"], "drop-table");
    assert_eq!(value[0]["suppressed"], "rolling back loses only test data");
    let out = common::bin()
        .arg("-c")
        .arg(&ini)
        .args(["lint", "--format", "text"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("error drop-table [r1 downgrade] drops table t (suppressed: rolling back loses only test data)"),
        "{text}"
    );
}

#[test]
fn github_format_writes_workflow_commands() {
    let (dir, ini) = project();
    let out = common::bin()
        .current_dir(dir.path())
        .arg("-c")
        .arg(&ini)
        .args(["lint", "--format", "github"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(
        lines.iter().any(
            |l| l.starts_with("::warning file=migrations/versions/00002_r3.py,line=")
                && l.contains(",title=create-index-without-concurrently::creates index ix_t_note")
        ),
        "{text}"
    );
    assert!(lines.iter().any(|l| l.starts_with("::error ")), "{text}");
}

#[test]
fn edited_after_apply_compares_with_the_journal_of_this_database() {
    let (dir, ini) = project();
    let data = tempfile::tempdir().unwrap();
    let r2 = dir.path().join("migrations/versions/00001_r2.py");
    let r2_hash = sha256_hex(&std::fs::read(&r2).unwrap());
    let url = "postgresql://app:s3cret@db.example/app";
    let target = "postgresql://app:***@db.example/app";
    let line = |rev: &str, hash: &str, target: &str, outcome: &str| {
        serde_json::json!({
            "ts": "2026-11-30T10:00:00.000Z", "os_user": "ci", "profile": null, "target": target,
            "direction": "upgrade", "revision": rev, "file_sha256": hash,
            "statements": ["SELECT 1"], "duration_ms": 5, "outcome": outcome
        })
        .to_string()
    };
    let journal = [
        line("r1", &"0".repeat(64), target, "applied"),
        line("r2", &r2_hash, target, "applied"),
        // A step that failed ran nothing; another database's history says nothing about this one.
        line("r3", &"1".repeat(64), target, "failed"),
        line(
            "r3",
            &"1".repeat(64),
            "postgresql://app@elsewhere/app",
            "applied",
        ),
    ]
    .join("\n");
    std::fs::write(data.path().join("journal.jsonl"), journal + "\n").unwrap();
    let out = common::bin()
        .arg("-c")
        .arg(&ini)
        .args(["--url", url, "--json", "lint"])
        .env("ALEMBIC_TUI_DATA_DIR", data.path())
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let value: Value = serde_json::from_slice(&out.stdout).unwrap();
    let edited: Vec<&str> = value
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule"] == "edited-after-apply")
        .map(|f| f["revision"].as_str().unwrap())
        .collect();
    assert_eq!(edited, ["r1"], "{value:#}");
    assert!(!String::from_utf8_lossy(&out.stdout).contains("s3cret"));
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn pending_lints_only_what_the_database_has_not_applied() {
    let (dir, ini) = common::demo_copy();
    let url = pg::fresh_db("lint_pending");
    common::alembic_online(dir.path(), &url, &["upgrade", "3c8e5a71b9d4"]);
    let (_, status, stderr) = common::json_cli(&ini, &["--url", &url, "status"]);
    let pending: BTreeSet<String> = status["pending"]
        .as_array()
        .unwrap_or_else(|| panic!("{status} {stderr}"))
        .iter()
        .map(|s| s["revision"].as_str().unwrap().to_owned())
        .collect();
    assert!(pending.contains("4d9f6b82cae5") && !pending.contains("3c8e5a71b9d4"));
    let (code, value, stderr) = common::json_cli(&ini, &["--url", &url, "lint", "--pending"]);
    assert_eq!(code, 1, "{stderr}");
    let linted: BTreeSet<String> = rule_set(&value).into_iter().map(|r| r.0).collect();
    assert!(!linted.is_empty());
    assert!(
        linted.is_subset(&pending),
        "{linted:?} not within {pending:?}"
    );
    assert!(linted.contains("5e0a7c93dbf6"));
    // Everything linted without --pending includes revisions already applied.
    let (_, all, _) = common::json_cli(&ini, &["--url", &url, "lint"]);
    let all_revs: BTreeSet<String> = rule_set(&all).into_iter().map(|r| r.0).collect();
    assert!(all_revs.contains("3c8e5a71b9d4") && all_revs.contains("1a0c3e5f7b21"));

    // 4d9f6b82cae5 adds a column with a constant default: a rewrite only before PostgreSQL 11.
    // Configured as 10, but the connected server (15) is what counts when there is one.
    std::fs::write(
        dir.path().join("alembic-tui.yaml"),
        "lint:\n  pg_version: 10\n",
    )
    .unwrap();
    let volatile = |v: &Value| {
        v.as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "volatile-default" && f["revision"] == "4d9f6b82cae5")
    };
    let (_, offline, _) = common::json_cli(&ini, &["--url", &url, "lint"]);
    assert!(volatile(&offline), "{offline:#}");
    let (_, connected, stderr) = common::json_cli(&ini, &["--url", &url, "lint", "--pending"]);
    assert!(!volatile(&connected), "{connected:#} {stderr}");
    assert!(!volatile(&all), "config default (15) without a server");
}
