//! Locks against real PostgreSQL: the live monitor names the session that blocks a step, another
//! CLI sees a migration in progress, the lock trace measures the modes the documentation
//! promises for each kind of DDL, and the pre-flight lists the sessions in the way.

use std::process::Stdio;

use crate::common::gen::ProjectOpts;
use crate::common::pg;
use crate::db_exec::{revs, table_exists, text, version_rows, LockHolder, Sandbox};

fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[test]
fn an_idle_transaction_that_blocks_a_step_is_named_and_the_step_fails_on_lock_timeout() {
    let history = revs(&[
        (
            "a1",
            &["op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))"],
            &["op.drop_table(\"t1\")"],
        ),
        (
            "b2",
            &["op.add_column(\"t1\", sa.Column(\"note\", sa.Text()))"],
            &["op.drop_column(\"t1\", \"note\")"],
        ),
    ]);
    let url = pg::fresh_db("blockedby");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "    lock_timeout: 4s\n");
    let out = sb.run(&url, &["upgrade", "a1", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    // An idle-in-transaction session that read t1: its ACCESS SHARE lock blocks ALTER TABLE.
    let holder = LockHolder::holding(&url, "BEGIN; SELECT count(*) FROM t1");
    let holder_pid = i64::from(holder.pid);
    let out = sb
        .cmd(&url, &["--json", "upgrade", "heads", "--yes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    drop(holder);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let events = json_lines(&out.stdout);
    let blocked = events
        .iter()
        .find(|e| e["event"] == "blocked")
        .unwrap_or_else(|| panic!("no blocked event: {}", text(&out)));
    let by = &blocked["blocked_by"][0];
    assert_eq!(by["state"], "idle in transaction", "{blocked}");
    assert!(
        by["query"].as_str().unwrap().contains("SELECT count(*) FROM t1"),
        "{blocked}"
    );
    assert_eq!(blocked["waiting_for"]["mode"], "AccessExclusiveLock");
    assert_eq!(blocked["waiting_for"]["relation"], "t1");
    let pids: Vec<i64> = blocked["blocked_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["pid"].as_i64().unwrap())
        .collect();
    assert!(pids.contains(&holder_pid), "{blocked}");
    // … and the step gives up on lock_timeout, rolled back.
    let failed = events.iter().find(|e| e["event"] == "failed").unwrap();
    assert_eq!(failed["sqlstate"], "55P03", "{failed}");
    assert!(!column_exists(&url, "t1", "note"));
    assert_eq!(version_rows(&url), ["a1"]);
}

fn column_exists(url: &str, table: &str, column: &str) -> bool {
    !pg::psql(
        url,
        &format!(
            "SELECT 1 FROM information_schema.columns WHERE table_name = '{table}' \
             AND column_name = '{column}'"
        ),
    )
    .unwrap()
    .is_empty()
}

#[test]
fn a_second_cli_sees_the_migration_in_progress_before_planning() {
    let history = revs(&[(
        "a1",
        &["op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))"],
        &["op.drop_table(\"t1\")"],
    )]);
    let url = pg::fresh_db("inprogress");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "");
    let out = sb.run(&url, &["--json", "status"]);
    assert!(out.status.success(), "{}", text(&out));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(status["migration_in_progress"].is_null(), "{status}");
    // The test is the running migrator: it holds the migration lock under a step's name.
    let key = format!(
        "alembic-tui:{}",
        alembic_tui::db::version_table::VersionTable::default().qualified()
    );
    let first = LockHolder::holding(
        &url,
        &format!(
            "SET application_name = 'alembic-tui: upgrade a1 (1/1)'; \
             SELECT pg_advisory_lock(hashtextextended(current_database() || ':' || {}, 0))",
            alembic_tui::db::version_table::quote_literal(&key)
        ),
    );
    let out = sb.run(&url, &["--json", "status"]);
    assert!(out.status.success(), "{}", text(&out));
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let running = &status["migration_in_progress"];
    assert_eq!(running["pid"], first.pid, "{status}");
    assert_eq!(running["step"], "upgrade a1 (1/1)", "{status}");
    let out = sb.run(&url, &["status"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!(
            "migration in progress by pid {} (",
            first.pid
        )),
        "{}",
        text(&out)
    );
    // upgrade says so before it plans; the executor then refuses to start.
    let out = sb.run(&url, &["upgrade", "heads", "--sql"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!(
            "migration in progress by pid {} (",
            first.pid
        )) && String::from_utf8_lossy(&out.stderr).contains("step upgrade a1 (1/1))"),
        "{}",
        text(&out)
    );
    drop(first);
    assert!(!table_exists(&url, "t1"));
}
