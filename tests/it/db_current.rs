//! `current` against a real PostgreSQL: the version table read as alembic leaves it, missing
//! tables, unknown rows, custom table locations from a profile, read-only connections, and
//! passwords kept out of errors.

use crate::common;

use std::path::Path;

use common::pg;
use serde_json::Value;

fn current(ini: &Path, url: &str, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec!["--url", url, "current"];
    args.extend_from_slice(extra);
    common::json_cli(ini, &args)
}

fn revisions(value: &Value) -> Vec<(String, bool)> {
    let mut rows: Vec<(String, bool)> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["revision"].as_str().unwrap().to_owned(),
                r["on_disk"].as_bool().unwrap(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn a_database_without_a_version_table_is_at_base() {
    let (_dir, ini) = common::demo_copy();
    let url = pg::fresh_db("base");
    let (code, value, stderr) = current(&ini, &url, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(value, Value::Array(vec![]));
}

#[test]
fn rows_written_by_real_alembic_are_read_back() {
    let (dir, ini) = common::demo_copy();
    let url = pg::fresh_db("alembic");
    common::alembic_online(dir.path(), &url, &["upgrade", "heads"]);
    let (code, value, stderr) = current(&ini, &url, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        revisions(&value),
        [
            ("b1e6ad2f9315".to_owned(), true),
            ("c2f7be3a0426".to_owned(), true)
        ]
    );
    let reporting = value
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["revision"] == "b1e6ad2f9315")
        .unwrap();
    assert_eq!(reporting["branch_labels"], serde_json::json!(["reporting"]));
}

#[test]
fn a_row_no_file_defines_is_diagnosed_not_fatal() {
    let (_dir, ini) = common::demo_copy();
    let url = pg::fresh_db("unknown");
    pg::psql(
        &url,
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY);\
         INSERT INTO alembic_version VALUES ('c2f7be3a0426'), ('feedface0001');",
    )
    .unwrap();
    let (code, value, stderr) = current(&ini, &url, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        revisions(&value),
        [
            ("c2f7be3a0426".to_owned(), true),
            ("feedface0001".to_owned(), false)
        ]
    );
    assert!(
        stderr.contains("database is at feedface0001, which no file in versions/ defines"),
        "{stderr}"
    );
}

#[test]
fn a_profile_can_move_the_version_table_and_make_connections_read_only() {
    let (dir, ini) = common::demo_copy();
    let url = pg::fresh_db("profile");
    pg::psql(
        &url,
        "CREATE SCHEMA meta; CREATE TABLE meta.\"Versions\" (version_num varchar(32) PRIMARY KEY);\
         INSERT INTO meta.\"Versions\" VALUES ('9c4eb0d71f3a');",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("alembic-tui.yaml"),
        format!(
            "profiles:\n  ro:\n    url: \"{url}\"\n    read_only: true\n    version_table: Versions\n    version_table_schema: meta\n"
        ),
    )
    .unwrap();
    let out = common::bin()
        .arg("-c")
        .arg(&ini)
        .args(["--profile", "ro", "--json", "current"])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    let value: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(revisions(&value), [("9c4eb0d71f3a".to_owned(), true)]);

    // The same read-only setting, through the library: the server refuses writes.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let resolved = alembic_tui::config::resolve_url(Some(&url), None, |_| None, None).unwrap();
    let err = runtime.block_on(async {
        let client = alembic_tui::db::connect(
            &resolved,
            alembic_tui::db::ConnectOptions { read_only: true },
        )
        .await
        .unwrap();
        client
            .batch_execute("CREATE TABLE t (x int)")
            .await
            .unwrap_err()
    });
    assert_eq!(err.as_db_error().unwrap().code().code(), "25006");
}

#[test]
fn connection_errors_never_show_the_password() {
    let (_dir, ini) = common::demo_copy();
    // Nothing listens on port 1: the connection fails before authentication.
    let (code, _, stderr) = current(
        &ini,
        "postgresql://app:s3cretpw@127.0.0.1:1/app?sslmode=disable",
        &[],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cannot connect to postgresql://app:***@127.0.0.1:1/app"),
        "{stderr}"
    );
    assert!(!stderr.contains("s3cretpw"), "{stderr}");
}

#[test]
fn a_wrong_password_is_reported_without_echoing_it() {
    let (_dir, ini) = common::demo_copy();
    let url = pg::fresh_db("auth");
    // The test cluster trusts local connections, so ask for a user that does not exist instead:
    // the server's message must come through, the password must not.
    let bad = url.replacen(
        "postgresql://postgres@",
        "postgresql://nobody:hunter2pw@",
        1,
    );
    let (code, _, stderr) = current(&ini, &bad, &[]);
    assert_eq!(code, 2);
    assert!(stderr.contains("nobody"), "{stderr}");
    assert!(!stderr.contains("hunter2pw"), "{stderr}");
}

#[test]
fn status_check_gates_on_pending_steps_in_alembics_order() {
    let (dir, ini) = common::demo_copy();
    let url = pg::fresh_db("status");
    common::alembic_online(dir.path(), &url, &["upgrade", "9c4eb0d71f3a"]);
    let status = |extra: &[&str]| {
        let out = common::bin()
            .arg("-c")
            .arg(&ini)
            .args(["--url", &url, "--json", "status"])
            .args(extra)
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        let value: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code().unwrap_or(-1), value)
    };
    let (code, value) = status(&["--check"]);
    assert_eq!(code, 1, "pending steps must fail the gate");
    assert_eq!(value["current"], serde_json::json!(["9c4eb0d71f3a"]));
    let ours: Vec<&str> = value["pending"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["revision"].as_str().unwrap())
        .collect();
    // alembic's own order for the same move, from its offline output.
    let sql = common::alembic_online(
        dir.path(),
        &url,
        &["upgrade", "9c4eb0d71f3a:heads", "--sql"],
    );
    let theirs: Vec<&str> = sql
        .lines()
        .filter_map(|l| l.strip_prefix("-- Running upgrade "))
        .filter_map(|l| l.split(" -> ").nth(1))
        .collect();
    assert_eq!(ours, theirs);
    assert_eq!(
        status(&[]).0,
        0,
        "without --check, pending is not a failure"
    );

    common::alembic_online(dir.path(), &url, &["upgrade", "heads"]);
    let (code, value) = status(&["--check"]);
    assert_eq!(code, 0);
    assert_eq!(value["pending"], serde_json::json!([]));
}

/// The revision ids of `alembic history` text lines (`A, B -> C (head), message`).
fn alembic_history_ids(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.split_once("-> "))
        .map(|(_, rest)| rest.split([' ', ',']).next().unwrap_or_default().to_owned())
        .collect()
}

#[test]
fn history_from_or_to_current_is_what_alembic_shows() {
    let (dir, ini) = common::demo_copy();
    let url = pg::fresh_db("history_current");
    let alembic = |args: &[&str]| common::alembic_online(dir.path(), &url, args);
    let compare = |what: &str| {
        for range in ["current:", ":current"] {
            let theirs = alembic_history_ids(&alembic(&["history", "-r", range]));
            let (code, value, stderr) =
                common::json_cli(&ini, &["--url", &url, "history", "-r", range]);
            assert_eq!(code, 0, "{what}: {stderr}");
            let ours: Vec<String> = value
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["revision"].as_str().unwrap().to_owned())
                .collect();
            assert!(!ours.is_empty());
            assert_eq!(ours, theirs, "{what}: history -r {range}");
        }
    };
    alembic(&["upgrade", "6f1b8da4ec07"]);
    compare("one row");
    // Three rows on three branches: alembic takes the tuple of them as the range's end.
    alembic(&["upgrade", "4d9f6b82cae5"]);
    alembic(&["upgrade", "a0d5fc1e8204"]);
    let rows = alembic(&["current"]);
    assert_eq!(rows.lines().count(), 3, "{rows}");
    compare("three rows");
}
