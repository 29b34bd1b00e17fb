//! `drift` and `verify` end to end against a real PostgreSQL and real alembic: a database
//! migrated by alembic itself shows no drift, hand-made changes are each reported once, a
//! downgrade that forgets an index is caught by name, a generated history verifies clean, and
//! the shadow database never outlives the command.

use crate::common;

use std::path::{Path, PathBuf};

use common::pg;
use serde_json::Value;

/// A copy of the demo project with a profile that runs the venv's alembic.
fn demo(extra_profile: &str) -> (tempfile::TempDir, PathBuf) {
    let (dir, ini) = common::demo_copy();
    write_profile(dir.path(), extra_profile);
    (dir, ini)
}

fn write_profile(dir: &Path, extra: &str) {
    std::fs::write(
        dir.join("alembic-tui.yaml"),
        format!(
            "default_profile: test\nprofiles:\n  test:\n    alembic: \"{} -m alembic\"\n{extra}",
            common::python().display()
        ),
    )
    .unwrap();
}

/// `alembic-tui -c INI --url URL --json ARGS` with its own data dir (render cache):
/// (exit code, stdout as JSON, stderr).
fn cli(ini: &Path, url: &str, args: &[&str]) -> (i32, Value, String) {
    let data = ini.parent().unwrap().join(".data");
    let out = common::bin()
        .arg("-c")
        .arg(ini)
        .args(["--url", url, "--json"])
        .args(args)
        .env_remove("DATABASE_URL")
        .env("ALEMBIC_TUI_DATA_DIR", &data)
        .env("ALEMBIC_TUI_STATE_DIR", &data)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        if out.status.code() != Some(2) {
            panic!(
                "not JSON: {}\nstderr: {stderr}",
                String::from_utf8_lossy(&out.stdout)
            )
        }
        Value::Null
    });
    (out.status.code().unwrap_or(-1), json, stderr)
}

fn assert_dropped(url: &str, shadow: &Value) {
    let name = shadow
        .as_str()
        .expect("the report names its shadow database");
    assert!(name.starts_with("alembic_tui_shadow_"), "{name}");
    let left = pg::psql(
        url,
        &format!("SELECT count(*)::text FROM pg_database WHERE datname = '{name}'"),
    )
    .unwrap();
    assert_eq!(left, vec![Some("0".to_owned())], "{name} was not dropped");
}

/// (kind, relation.name, change) of each difference.
fn differences(list: &Value) -> Vec<(String, String, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let object = match d["relation"].as_str() {
                Some(rel) => format!("{rel}.{}", d["name"].as_str().unwrap()),
                None => d["name"].as_str().unwrap().to_owned(),
            };
            (
                d["kind"].as_str().unwrap().to_owned(),
                object,
                d["change"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn t(kind: &str, object: &str, change: &str) -> (String, String, String) {
    (kind.to_owned(), object.to_owned(), change.to_owned())
}

#[test]
fn a_database_migrated_by_alembic_has_no_drift() {
    let (dir, ini) = demo("");
    let url = pg::fresh_db("nodrift");
    common::alembic_online(dir.path(), &url, &["upgrade", "heads"]);
    let (code, report, stderr) = cli(&ini, &url, &["drift"]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_eq!(report["differences"], Value::Array(vec![]));
    assert_eq!(report["steps"], 12);
    assert_eq!(report["revisions"].as_array().map(Vec::len), Some(2));
    assert_dropped(&url, &report["shadow"]);
}

#[test]
fn hand_made_changes_are_each_reported_once_as_drift() {
    let (dir, ini) = demo("");
    let url = pg::fresh_db("drift");
    common::alembic_online(dir.path(), &url, &["upgrade", "heads"]);
    pg::psql(
        &url,
        "ALTER TABLE customers DROP COLUMN loyalty_points;
         CREATE INDEX customers_family ON customers (family_name);
         ALTER TABLE orders ALTER COLUMN created_at SET DEFAULT '2020-01-01';
         ALTER TABLE orders DROP CONSTRAINT orders_customer_id_fkey",
    )
    .unwrap();
    let (code, report, stderr) = cli(&ini, &url, &["drift"]);
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    assert_eq!(
        differences(&report["differences"]),
        vec![
            t("column", "public.customers.loyalty_points", "missing"),
            t("index", "public.customers.customers_family", "extra"),
            t("column", "public.orders.created_at", "changed"),
            t(
                "constraint",
                "public.orders.orders_customer_id_fkey",
                "missing"
            ),
        ],
        "{report:#}"
    );
    let changed = &report["differences"][2];
    assert_eq!(changed["fields"], serde_json::json!(["default"]));
    assert!(changed["expected"]
        .as_str()
        .unwrap()
        .ends_with("DEFAULT now()"));
    assert_dropped(&url, &report["shadow"]);

    // The same in text, grouped by table.
    let out = common::bin()
        .arg("-c")
        .arg(&ini)
        .args(["--url", &url, "drift"])
        .env("ALEMBIC_TUI_DATA_DIR", dir.path().join(".data"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "\npublic.customers\n  - missing column loyalty_points: integer NOT NULL DEFAULT 0\n"
        ),
        "{text}"
    );
    assert!(text.ends_with("4 differences\n"), "{text}");
}

#[test]
fn a_read_only_profile_needs_a_shadow_url() {
    let url = pg::fresh_db("readonly");
    let (dir, ini) = demo("    read_only: true\n");
    common::alembic_online(dir.path(), &url, &["upgrade", "heads"]);
    let (code, _, stderr) = cli(&ini, &url, &["drift"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("shadow_url"), "{stderr}");
    // With a shadow server configured, the read-only target is only read.
    write_profile(
        dir.path(),
        &format!(
            "    read_only: true\n    shadow_url: \"{}\"\n",
            pg::cluster().url("postgres")
        ),
    );
    let (code, report, stderr) = cli(&ini, &url, &["drift"]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    assert_dropped(&url, &report["shadow"]);
}

#[test]
fn a_downgrade_that_forgets_an_index_is_named() {
    let (dir, ini) = demo("");
    let file = dir
        .path()
        .join("migrations/versions/2026_01_20_3c8e5a71b9d4_index_orders_by_customer.py");
    let text = std::fs::read_to_string(&file).unwrap();
    let broken = text.replace(
        "    op.drop_index(\"ix_orders_customer_id\", table_name=\"orders\")",
        "    pass",
    );
    assert_ne!(text, broken);
    std::fs::write(&file, broken).unwrap();
    let url = pg::fresh_db("forgets");
    let (code, report, stderr) = cli(&ini, &url, &["verify"]);
    assert_eq!(code, 1, "{report:#}\n{stderr}");
    let checks = report["revisions"].as_array().unwrap();
    let bad: Vec<&Value> = checks
        .iter()
        .filter(|c| c["revision"] == "3c8e5a71b9d4")
        .collect();
    assert_eq!(bad.len(), 1, "{report:#}");
    assert_eq!(
        differences(&bad[0]["not_undone"]),
        vec![t("index", "public.orders.ix_orders_customer_id", "extra")],
        "{report:#}"
    );
    // The second upgrade then fails (the index is still there): the run stops and says what it
    // left unchecked.
    assert!(
        bad[0]["error"]
            .as_str()
            .unwrap()
            .contains("ix_orders_customer_id"),
        "{report:#}"
    );
    assert_eq!(
        report["not_verified"].as_array().map(Vec::len),
        Some(12 - checks.len()),
        "{report:#}"
    );
    // The revisions before it round-trip cleanly.
    for check in checks
        .iter()
        .take_while(|c| c["revision"] != "3c8e5a71b9d4")
    {
        assert_eq!(check["not_undone"], Value::Array(vec![]), "{check:#}");
        assert!(check.get("error").is_none(), "{check:#}");
    }
    assert_dropped(&url, &report["shadow"]);
}

#[test]
fn a_generated_history_verifies_clean() {
    let dir = tempfile::tempdir().unwrap();
    let revs = common::gen::big_project(30);
    common::gen::write_project(dir.path(), &revs).unwrap();
    write_profile(dir.path(), "");
    let ini = dir.path().join("alembic.ini");
    let url = pg::fresh_db("generated");
    let (code, report, stderr) = cli(&ini, &url, &["verify"]);
    assert_eq!(code, 0, "{report:#}\n{stderr}");
    let checks = report["revisions"].as_array().unwrap();
    assert_eq!(checks.len(), revs.len());
    for check in checks {
        assert_eq!(check["not_undone"], Value::Array(vec![]), "{check:#}");
        assert_eq!(check["not_repeatable"], Value::Array(vec![]), "{check:#}");
    }
    assert_dropped(&url, &report["shadow"]);

    // A range verifies only its own steps; one identifier only that revision.
    let last = &revs[revs.len() - 1].id;
    let (code, report, stderr) = cli(&ini, &url, &["verify", last]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(report["revisions"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        report["revisions"][0]["revision"],
        Value::String(last.clone())
    );
}

#[test]
fn the_shadow_is_dropped_when_the_history_fails_to_build() {
    let (dir, ini) = demo("");
    let file = dir
        .path()
        .join("migrations/versions/2026_01_12_2b7d4f60a8c3_orders.py");
    let text = std::fs::read_to_string(&file).unwrap();
    let broken = text.replace(
        "def upgrade() -> None:\n",
        "def upgrade() -> None:\n    op.execute(\"SELECT 1/0\")\n",
    );
    assert_ne!(text, broken);
    std::fs::write(&file, broken).unwrap();
    // A database that says it is at the broken revision: replaying it on the shadow fails.
    let url = pg::fresh_db("broken");
    pg::psql(
        &url,
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);
         INSERT INTO alembic_version VALUES ('2b7d4f60a8c3')",
    )
    .unwrap();
    let (code, _, stderr) = cli(&ini, &url, &["drift"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("division by zero"), "{stderr}");
    let name = stderr
        .split("shadow database ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no shadow named in {stderr}"));
    assert_dropped(&url, &Value::String(name.to_owned()));
}
