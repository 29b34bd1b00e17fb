//! Locks against real PostgreSQL: the live monitor names the session that blocks a step, another
//! CLI sees a migration in progress, the lock trace measures the modes the documentation
//! promises for each kind of DDL, and the pre-flight lists the sessions in the way.

use std::process::Stdio;

use crate::common::gen::ProjectOpts;
use crate::common::pg;
use crate::db_exec::{one_table, revs, table_exists, text, version_rows, LockHolder, Sandbox};

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
        by["query"]
            .as_str()
            .unwrap()
            .contains("SELECT count(*) FROM t1"),
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
    let history = one_table();
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
        String::from_utf8_lossy(&out.stdout)
            .contains(&format!("migration in progress by pid {} (", first.pid)),
        "{}",
        text(&out)
    );
    // upgrade says so before it plans; the executor then refuses to start.
    let out = sb.run(&url, &["upgrade", "heads", "--sql"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains(&format!("migration in progress by pid {} (", first.pid))
            && String::from_utf8_lossy(&out.stderr).contains("step upgrade a1 (1/1))"),
        "{}",
        text(&out)
    );
    drop(first);
    assert!(!table_exists(&url, "t1"));
}

/// One revision per DDL kind whose lock the PostgreSQL documentation names.
fn ddl_history() -> Vec<crate::common::gen::GenRev> {
    revs(&[
        (
            "a1",
            &[
                "op.create_table(\"t1\", sa.Column(\"id\", sa.Integer(), primary_key=True))",
                "op.create_table(\"t2\", sa.Column(\"id\", sa.Integer()), sa.Column(\"t1_id\", sa.Integer()))",
            ],
            &["op.drop_table(\"t2\")", "op.drop_table(\"t1\")"],
        ),
        (
            "b2",
            &["op.add_column(\"t1\", sa.Column(\"note\", sa.Text()))"],
            &["op.drop_column(\"t1\", \"note\")"],
        ),
        (
            "c3",
            &["op.create_index(\"ix_t1_note\", \"t1\", [\"note\"])"],
            &["op.drop_index(\"ix_t1_note\", table_name=\"t1\")"],
        ),
        (
            "d4",
            &[
                "with op.get_context().autocommit_block():",
                "    op.create_index(\"ix_t2_id\", \"t2\", [\"id\"], postgresql_concurrently=True)",
            ],
            &["op.drop_index(\"ix_t2_id\", table_name=\"t2\")"],
        ),
        (
            "e5",
            &["op.create_foreign_key(\"fk_t2_t1\", \"t2\", \"t1\", [\"t1_id\"], [\"id\"])"],
            &["op.drop_constraint(\"fk_t2_t1\", \"t2\", type_=\"foreignkey\")"],
        ),
        (
            "f6",
            &["op.execute(\"ALTER TABLE t2 ADD CONSTRAINT ck_t2_id CHECK (id > 0) NOT VALID\")"],
            &["op.drop_constraint(\"ck_t2_id\", \"t2\", type_=\"check\")"],
        ),
        (
            "g7",
            &["op.execute(\"ALTER TABLE t2 VALIDATE CONSTRAINT ck_t2_id\")"],
            &["pass"],
        ),
    ])
}

/// `relation mode` of every lock statement `index` of step `step` takes.
fn locks_of(plan: &serde_json::Value, step: usize, index: usize) -> Vec<String> {
    let st = &plan["steps"][step]["statements"][index];
    st["locks"]
        .as_array()
        .unwrap_or_else(|| panic!("no locks on step {step} statement {index}: {st}"))
        .iter()
        .map(|l| {
            format!(
                "{} {}{}",
                l["relation"].as_str().unwrap(),
                l["mode"].as_str().unwrap(),
                if l["held_until_commit"] == true {
                    ""
                } else {
                    " (while it runs)"
                }
            )
        })
        .collect()
}

fn sql_locks(sb: &Sandbox, url: &str) -> serde_json::Value {
    let out = sb.run(url, &["--json", "upgrade", "heads", "--sql", "--locks"]);
    assert!(out.status.success(), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn the_trace_measures_the_documented_lock_of_each_kind_of_ddl() {
    let url = pg::fresh_db("locktrace");
    let sb = Sandbox::new(&ddl_history(), &ProjectOpts::default(), "");
    let plan = sql_locks(&sb, &url);
    let has = |step: usize, index: usize, want: &str| {
        let got = locks_of(&plan, step, index);
        assert!(
            got.iter().any(|g| g == want),
            "step {step} statement {index} ({}): want {want}, got {got:?}",
            plan["steps"][step]["statements"][index]["sql"]
        );
    };
    // ADD COLUMN
    has(1, 0, "t1 AccessExclusiveLock");
    // CREATE INDEX
    has(2, 0, "t1 ShareLock");
    // CREATE INDEX CONCURRENTLY, watched from a second session: only while it runs.
    assert_eq!(plan["steps"][3]["statements"][0]["autocommit"], true);
    has(3, 0, "t2 ShareUpdateExclusiveLock (while it runs)");
    // ADD FOREIGN KEY: both tables.
    has(4, 0, "t2 ShareRowExclusiveLock");
    has(4, 0, "t1 ShareRowExclusiveLock");
    // VALIDATE CONSTRAINT
    has(6, 0, "t2 ShareUpdateExclusiveLock");
    // The strongest mode per relation only: CREATE INDEX's ShareLock, not also AccessShare.
    assert!(
        !locks_of(&plan, 2, 0)
            .iter()
            .any(|l| l == "t1 AccessShareLock"),
        "{:?}",
        locks_of(&plan, 2, 0)
    );
    // The target was not touched: the trace ran on a shadow database.
    assert!(!table_exists(&url, "t1"));
    assert!(version_rows(&url).is_empty());
    // The second time, every step comes from the cache and says the same.
    assert_eq!(sql_locks(&sb, &url)["steps"], plan["steps"]);
    let text_out = sb.run(&url, &["upgrade", "heads", "--sql", "--locks"]);
    let stdout = String::from_utf8_lossy(&text_out.stdout);
    assert!(
        stdout
            .contains("-- locks: AccessExclusiveLock on t1\nALTER TABLE t1 ADD COLUMN note TEXT;"),
        "{stdout}"
    );
}

#[test]
fn the_preflight_lists_a_long_transaction_on_a_relation_the_plan_locks() {
    let url = pg::fresh_db("preflight");
    let sb = Sandbox::new(&ddl_history(), &ProjectOpts::default(), "");
    let out = sb.run(&url, &["upgrade", "a1", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let plan = sql_locks(&sb, &url);
    assert_eq!(plan["blockers"], serde_json::json!([]), "{plan}");
    assert!(plan["blockers_missing"].is_null(), "{plan}");
    // A transaction left open after reading t1 holds ACCESS SHARE: ADD COLUMN would queue.
    let holder = LockHolder::holding(&url, "BEGIN; SELECT count(*) FROM t1");
    let plan = sql_locks(&sb, &url);
    let blockers = plan["blockers"].as_array().unwrap();
    assert_eq!(blockers.len(), 1, "{plan}");
    assert_eq!(blockers[0]["pid"], holder.pid);
    assert_eq!(blockers[0]["state"], "idle in transaction");
    assert!(blockers[0]["xact_age_s"].is_number(), "{plan}");
    let out = sb.run(&url, &["upgrade", "heads", "--sql", "--locks"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("in the way: pid {} (", holder.pid)),
        "{stdout}"
    );
    drop(holder);
}

#[test]
fn blockers_are_read_with_what_this_role_may_do_and_an_active_one_can_be_cancelled() {
    let url = pg::fresh_db("cancelblocker");
    pg::psql(&url, "CREATE TABLE t1 (id int)").unwrap();
    // A session that holds t1 and runs a long statement: active, blocking.
    let holder = LockHolder::holding(&url, "BEGIN; LOCK TABLE t1 IN ACCESS EXCLUSIVE MODE");
    let url2 = url.clone();
    let blocked = std::thread::spawn(move || pg::psql(&url2, "SELECT count(*) FROM t1"));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let resolved = alembic_tui::config::ResolvedUrl {
        url: url.clone(),
        source: alembic_tui::config::UrlSource::Flag,
    };
    runtime.block_on(async {
        let client = alembic_tui::db::connect(&resolved, Default::default())
            .await
            .unwrap();
        // The blocked psql session, found through pg_locks (no clock involved).
        let waiter: i32 = loop {
            let row = client
                .query_opt(
                    "SELECT pid FROM pg_locks WHERE NOT granted AND relation = 't1'::regclass",
                    &[],
                )
                .await
                .unwrap();
            if let Some(row) = row {
                break row.get(0);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        let (wait, blockers) = alembic_tui::db::locks::blocked_by(&client, &url, waiter)
            .await
            .unwrap();
        assert_eq!(wait.unwrap().mode, "AccessShareLock");
        assert_eq!(blockers.len(), 1, "{blockers:?}");
        assert_eq!(blockers[0].pid, holder.pid);
        assert_eq!(blockers[0].state, "idle in transaction");
        assert!(blockers[0].may_cancel, "the tests run as a superuser");
        // Cancelling the waiting statement itself ends the wait: pg_cancel_backend reached it.
        assert!(
            alembic_tui::db::locks::cancel_backend(&client, &url, waiter)
                .await
                .unwrap()
        );
    });
    let out = blocked.join().unwrap();
    assert!(
        out.as_ref()
            .is_err_and(|e| e.contains("canceling statement")),
        "{out:?}"
    );
    drop(holder);
}
