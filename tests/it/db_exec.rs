//! The executor against real PostgreSQL and real alembic: a 200-revision history stepped up and
//! down by alembic-tui and by `alembic` online on a second database must leave the same schema and
//! version table; and the guards: a tampered version table, lock_timeout, two migrators, kill -9
//! mid-statement, a row no file defines, online-only steps.

use crate::common;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::gen::{self, GenRev, ProjectOpts};
use common::pg;

/// A project in a temp dir with an alembic-tui.yaml whose profile runs the venv's alembic.
pub(crate) struct Sandbox {
    dir: tempfile::TempDir,
    data: tempfile::TempDir,
}

impl Sandbox {
    pub(crate) fn new(revs: &[GenRev], opts: &ProjectOpts, profile_extra: &str) -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        gen::write_project_with(dir.path(), revs, opts).unwrap();
        std::fs::write(
            dir.path().join("alembic-tui.yaml"),
            format!(
                "default_profile: t\nprofiles:\n  t:\n    alembic: \"'{}' -m alembic\"\n{profile_extra}",
                common::python().display()
            ),
        )
        .unwrap();
        Sandbox {
            dir,
            data: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn ini(&self) -> PathBuf {
        self.dir.path().join("alembic.ini")
    }

    pub(crate) fn cmd(&self, url: &str, args: &[&str]) -> Command {
        let mut cmd = common::bin();
        cmd.arg("-c")
            .arg(self.ini())
            .arg("--url")
            .arg(url)
            .args(args)
            .env_remove("DATABASE_URL")
            .env("ALEMBIC_TUI_DATA_DIR", self.data.path());
        cmd
    }

    pub(crate) fn run(&self, url: &str, args: &[&str]) -> Output {
        self.cmd(url, args).output().unwrap()
    }

    /// What the console would hold for this sandbox: the loaded project, the profile's settings,
    /// and `url` as if given with --url.
    pub(crate) fn library(
        &self,
        url: &str,
    ) -> (
        alembic_tui::workspace::Workspace,
        alembic_tui::config::Settings,
        alembic_tui::config::ResolvedUrl,
    ) {
        use alembic_tui::config::{ProfileFile, ResolvedUrl, Settings, UrlSource};
        let config = alembic_tui::project::discover(self.dir.path(), None, "alembic").unwrap();
        let (ws, _) =
            alembic_tui::workspace::Workspace::new(alembic_tui::project::load(&config).unwrap())
                .unwrap();
        let profile = ProfileFile {
            alembic: Some(format!("'{}' -m alembic", common::python().display())),
            ..ProfileFile::default()
        };
        let settings = Settings::from_profile(Some("t"), &profile, "test").unwrap();
        let resolved = ResolvedUrl {
            url: url.to_owned(),
            source: UrlSource::Flag,
        };
        (ws, settings, resolved)
    }

    /// The journal's outcome lines (without the intent lines written before each step).
    fn journal(&self) -> Vec<serde_json::Value> {
        self.journal_all()
            .into_iter()
            .filter(|e| e["outcome"] != "started")
            .collect()
    }

    pub(crate) fn journal_all(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.data.path().join("journal.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// `revision outcome` for every journal line, intent lines included.
    fn journal_lines(&self) -> Vec<String> {
        self.journal_all()
            .iter()
            .map(|e| {
                format!(
                    "{} {}",
                    e["revision"].as_str().unwrap(),
                    e["outcome"].as_str().unwrap()
                )
            })
            .collect()
    }
}

pub(crate) fn text(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The URL SQLAlchemy needs for the same database (psycopg 3 driver).
fn sqlalchemy_url(url: &str) -> String {
    url.replacen("postgresql://", "postgresql+psycopg://", 1)
        .replace("&sslmode=disable", "")
}

/// Everything about a database's schema that migrations change, one sorted line per object,
/// excluding nothing but the system catalogs.
fn schema(url: &str) -> Vec<String> {
    let sql = "SELECT x FROM ( \
        SELECT 'column ' || table_schema || '.' || table_name || '.' || column_name || ' ' || data_type \
               || coalesce('(' || character_maximum_length || ')', '') || ' null=' || is_nullable \
               || ' default=' || coalesce(column_default, '') AS x \
        FROM information_schema.columns WHERE table_schema NOT IN ('pg_catalog', 'information_schema') \
        UNION ALL SELECT 'index ' || indexdef FROM pg_indexes \
        WHERE schemaname NOT IN ('pg_catalog', 'information_schema') \
        UNION ALL SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(c.oid) \
        FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace \
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
        UNION ALL SELECT 'view ' || schemaname || '.' || viewname || ' ' || definition FROM pg_views \
        WHERE schemaname NOT IN ('pg_catalog', 'information_schema') \
        UNION ALL SELECT 'schema ' || nspname FROM pg_namespace \
        WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' \
      ) s ORDER BY x";
    pg::psql(url, sql)
        .unwrap()
        .into_iter()
        .map(|r| r.unwrap_or_default())
        .collect()
}

pub(crate) fn version_rows(url: &str) -> Vec<String> {
    let exists = pg::psql(url, "SELECT to_regclass('alembic_version')::text").unwrap();
    if exists[0].is_none() {
        return Vec::new();
    }
    let mut rows: Vec<String> = pg::psql(url, "SELECT version_num FROM alembic_version")
        .unwrap()
        .into_iter()
        .flatten()
        .collect();
    rows.sort();
    rows
}

fn assert_same_database(ours: &str, theirs: &str, what: &str) {
    let (a, b) = (schema(ours), schema(theirs));
    if a != b {
        let only_ours: Vec<_> = a.iter().filter(|l| !b.contains(l)).collect();
        let only_theirs: Vec<_> = b.iter().filter(|l| !a.contains(l)).collect();
        panic!("{what}: schemas differ\nonly alembic-tui: {only_ours:#?}\nonly alembic: {only_theirs:#?}");
    }
    assert_eq!(
        version_rows(ours),
        version_rows(theirs),
        "{what}: version tables differ"
    );
}

#[test]
fn two_hundred_revisions_up_and_down_match_alembic() {
    let revs = gen::executable_project(200);
    assert!(
        revs.iter().any(|r| r.down_revisions.len() > 1),
        "history has merges"
    );
    let ours = pg::fresh_db("exec_ours");
    let theirs = pg::fresh_db("exec_alembic");
    let opts = ProjectOpts {
        url: sqlalchemy_url(&theirs),
        ..ProjectOpts::default()
    };
    let sb = Sandbox::new(&revs, &opts, "");

    let out = sb.run(&ours, &["upgrade", "heads", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let alembic = common::alembic(sb.dir.path(), &["upgrade", "heads"]);
    assert!(alembic.status.success(), "{}", text(&alembic));
    assert!(!version_rows(&ours).is_empty());
    assert_same_database(&ours, &theirs, "after upgrade heads");
    // Every step is journaled with its file's hash.
    let journal = sb.journal();
    assert_eq!(journal.len(), 200);
    assert!(journal
        .iter()
        .all(|e| e["outcome"] == "applied" && e["file_sha256"].as_str().unwrap().len() == 64));

    // Down part of the way (a revision in the middle of the history), then all the way.
    let middle = &revs[120].id;
    for target in [middle.as_str(), "base"] {
        let out = sb.run(&ours, &["downgrade", target, "--yes"]);
        assert!(out.status.success(), "{}", text(&out));
        let alembic = common::alembic(sb.dir.path(), &["downgrade", target]);
        assert!(alembic.status.success(), "{}", text(&alembic));
        assert_same_database(&ours, &theirs, &format!("after downgrade {target}"));
    }
    assert!(version_rows(&ours).is_empty());
}

/// A short history whose revisions we write by hand.
/// One revision, `a1`, creating table `t1` (its downgrade drops it): the smallest history that
/// runs a statement each way.
pub(crate) fn one_table() -> Vec<GenRev> {
    revs(&[(
        "a1",
        &["op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))"],
        &["op.drop_table(\"t1\")"],
    )])
}

pub(crate) fn revs(bodies: &[(&str, &[&str], &[&str])]) -> Vec<GenRev> {
    let mut out: Vec<GenRev> = Vec::new();
    for (i, (id, up, down)) in bodies.iter().enumerate() {
        out.push(GenRev {
            id: (*id).to_owned(),
            down_revisions: out.last().map(|p| vec![p.id.clone()]).unwrap_or_default(),
            message: format!("step {i}"),
            upgrade: up.iter().map(|s| (*s).to_owned()).collect(),
            downgrade: down.iter().map(|s| (*s).to_owned()).collect(),
            ..GenRev::default()
        });
    }
    out
}

pub(crate) fn table_exists(url: &str, table: &str) -> bool {
    pg::psql(url, &format!("SELECT to_regclass('{table}')::text")).unwrap()[0].is_some()
}

#[test]
fn a_step_that_moves_the_version_table_behind_our_back_is_rolled_back() {
    let history = revs(&[
        (
            "a1",
            &["op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))"],
            &["op.drop_table(\"t1\")"],
        ),
        (
            "b2",
            &[
                "op.create_table(\"t2\", sa.Column(\"id\", sa.Integer()))",
                "op.execute(\"INSERT INTO alembic_version VALUES ('intruder')\")",
            ],
            &["op.drop_table(\"t2\")"],
        ),
    ]);
    let url = pg::fresh_db("tamper");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "");
    let out = sb.run(&url, &["upgrade", "heads", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("intruder") && stderr.contains("rolled back"),
        "{stderr}"
    );
    // Step a1 committed on its own; b2 left nothing behind.
    assert_eq!(version_rows(&url), ["a1"]);
    assert!(table_exists(&url, "t1"));
    assert!(!table_exists(&url, "t2"));
    let journal = sb.journal();
    assert_eq!(journal.len(), 2);
    assert_eq!(journal[1]["outcome"], "failed");
}

#[test]
fn a_plan_whose_rows_changed_since_it_was_made_does_not_start() {
    use alembic_tui::engine::alembic::AlembicCommand;
    use alembic_tui::engine::exec::{self, Cancel, Target};

    let history = revs(&[
        (
            "a1",
            &["op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))"],
            &["op.drop_table(\"t1\")"],
        ),
        (
            "b2",
            &["op.create_table(\"t2\", sa.Column(\"id\", sa.Integer()))"],
            &["op.drop_table(\"t2\")"],
        ),
    ]);
    let url = pg::fresh_db("stale");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "");
    let out = sb.run(&url, &["upgrade", "a1", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));

    let (ws, settings, resolved) = sb.library(&url);
    let scripts = render_plan(
        &ws,
        &settings,
        &resolved,
        &["a1".to_owned()],
        "heads",
        Some(sb.data.path().join("render-cache")),
    );
    // Someone else moves the database on between review and execution.
    pg::psql(&url, "UPDATE alembic_version SET version_num = 'b2'").unwrap();
    let target = Target {
        alembic: AlembicCommand::new(&ws, &settings, &resolved),
        url: resolved,
        settings,
        journal: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let err = runtime
        .block_on(exec::execute(&target, &scripts, &tx, &Cancel::new()))
        .unwrap_err();
    assert!(
        err.message.contains("[b2]") && err.message.contains("[a1]"),
        "{err}"
    );
    assert!(!table_exists(&url, "t2"));
    assert_eq!(version_rows(&url), ["b2"]);
}

/// Holds `LOCK TABLE … IN ACCESS EXCLUSIVE MODE` on another connection until dropped.
pub(crate) struct LockHolder {
    release: Option<std::sync::mpsc::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The holding session's backend pid.
    pub(crate) pid: i32,
}

impl LockHolder {
    /// Holds an ACCESS EXCLUSIVE lock on `table` in an open transaction until dropped.
    fn new(url: &str, table: &str) -> LockHolder {
        LockHolder::holding(
            url,
            &format!("BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"),
        )
    }

    /// Runs `sql` on a session of its own and keeps the session (and what it took) until dropped.
    pub(crate) fn holding(url: &str, sql: &str) -> LockHolder {
        let (locked_tx, locked_rx) = std::sync::mpsc::channel();
        let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
        let (url, sql) = (url.to_owned(), sql.to_owned());
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                    .await
                    .unwrap();
                tokio::spawn(conn);
                let pid: i32 = client
                    .query_one("SELECT pg_backend_pid()", &[])
                    .await
                    .unwrap()
                    .get(0);
                client.batch_execute(&sql).await.unwrap();
                locked_tx.send(pid).unwrap();
                let _ = tokio::task::spawn_blocking(move || release_rx.recv()).await;
                let _ = client.batch_execute("ROLLBACK").await;
            });
        });
        let pid = locked_rx.recv_timeout(Duration::from_secs(30)).unwrap();
        LockHolder {
            release: Some(release_tx),
            thread: Some(thread),
            pid,
        }
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        drop(self.release.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn a_held_lock_fails_the_step_after_lock_timeout_and_rolls_it_back() {
    let history = revs(&[
        (
            "a1",
            &["op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))"],
            &["op.drop_table(\"t1\")"],
        ),
        (
            "b2",
            &[
                "op.create_table(\"t2\", sa.Column(\"id\", sa.Integer()))",
                "op.add_column(\"t1\", sa.Column(\"note\", sa.Text()))",
            ],
            &["op.drop_column(\"t1\", \"note\")", "op.drop_table(\"t2\")"],
        ),
    ]);
    let url = pg::fresh_db("locktimeout");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "    lock_timeout: 2s\n");
    let out = sb.run(&url, &["upgrade", "a1", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));

    let holder = LockHolder::new(&url, "t1");
    let migrator = sb
        .cmd(&url, &["upgrade", "heads", "--yes"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The step waits for the lock (seen in pg_locks, not guessed from a clock) …
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let waiting = pg::psql(
            &url,
            "SELECT l.pid::text FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE NOT l.granted AND a.application_name LIKE 'alembic-tui%' \
               AND l.relation = 't1'::regclass",
        )
        .unwrap();
        if !waiting.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the step never waited for t1's lock"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // … and gives up with lock_timeout's SQLSTATE while the lock is still held.
    let out = migrator.wait_with_output().unwrap();
    drop(holder);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("(SQLSTATE 55P03)") && stderr.contains("ALTER TABLE t1"),
        "{stderr}"
    );
    assert!(
        !table_exists(&url, "t2"),
        "the step's first statement was rolled back"
    );
    assert_eq!(version_rows(&url), ["a1"]);
}

/// Waits until a backend of ours runs a statement containing `needle`.
pub(crate) fn wait_for_statement(url: &str, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let rows = pg::psql(
            url,
            &format!(
                "SELECT pid::text FROM pg_stat_activity WHERE application_name LIKE 'alembic-tui%' \
                 AND state = 'active' AND query LIKE '%{needle}%'"
            ),
        )
        .unwrap();
        if !rows.is_empty() {
            return;
        }
        assert!(Instant::now() < deadline, "no backend ran {needle}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sleepy_history(seconds: u32) -> Vec<GenRev> {
    let sleep = format!("op.execute(\"SELECT pg_sleep({seconds})\")");
    let history = revs(&[
        (
            "a1",
            &["op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))"],
            &["op.drop_table(\"t1\")"],
        ),
        (
            "b2",
            &[
                "op.create_table(\"t2\", sa.Column(\"id\", sa.Integer()))",
                "SLEEP",
            ],
            &["op.drop_table(\"t2\")"],
        ),
    ]);
    history
        .into_iter()
        .map(|mut r| {
            for line in &mut r.upgrade {
                if line == "SLEEP" {
                    *line = sleep.clone();
                }
            }
            r
        })
        .collect()
}

#[test]
fn a_second_migrator_is_turned_away_while_the_first_runs() {
    let history = one_table();
    let url = pg::fresh_db("twomigrators");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "");
    // The test is the first migrator: it holds the migration lock itself, so nothing races.
    let key = format!(
        "alembic-tui:{}",
        alembic_tui::db::version_table::VersionTable::default().qualified()
    );
    let first = LockHolder::holding(
        &url,
        &format!(
            "SELECT pg_advisory_lock(hashtextextended(current_database() || ':' || {}, 0))",
            alembic_tui::db::version_table::quote_literal(&key)
        ),
    );
    let second = sb.run(&url, &["upgrade", "heads", "--yes"]);
    assert_eq!(second.status.code(), Some(2), "{}", text(&second));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains(&format!("another migration is running (pid {},", first.pid)),
        "{stderr}"
    );
    assert!(!table_exists(&url, "t1"));
    assert!(version_rows(&url).is_empty());
    // Turned away before any step: nothing journaled.
    assert!(sb.journal_all().is_empty(), "{:?}", sb.journal_all());
    drop(first);
    let out = sb.run(&url, &["upgrade", "heads", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(version_rows(&url), ["a1"]);
}

#[test]
fn kill_9_mid_statement_leaves_the_database_as_it_was() {
    let url = pg::fresh_db("kill9");
    let sb = Sandbox::new(&sleepy_history(60), &ProjectOpts::default(), "");
    let out = sb.run(&url, &["upgrade", "a1", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let before = schema(&url);

    let mut child = sb
        .cmd(&url, &["upgrade", "heads", "--yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_statement(&url, "pg_sleep");
    // SIGKILL: no handler, no cleanup of ours runs.
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !pg::psql(
        &url,
        "SELECT pid::text FROM pg_stat_activity WHERE application_name LIKE 'alembic-tui%'",
    )
    .unwrap()
    .is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "the killed migrator's backend lingers"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(schema(&url), before);
    assert_eq!(version_rows(&url), ["a1"]);
}

#[test]
fn kill_9_during_a_step_alembic_runs_takes_alembic_down_too() {
    // Issue 13: the alembic child dies with its parent, so its connection drops and the server
    // rolls its step back; the journal's intent line records the step that was interrupted.
    let history = revs(&[
        (
            "a1",
            &["op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))"],
            &["op.drop_table(\"t1\")"],
        ),
        (
            "b2",
            &[
                "op.create_table(\"t2\", sa.Column(\"id\", sa.Integer()))",
                "op.execute(\"SELECT pg_sleep(20)\")",
            ],
            &["op.drop_table(\"t2\")"],
        ),
    ]);
    let url = pg::fresh_db("kill9online");
    let opts = ProjectOpts {
        url: sqlalchemy_url(&url),
        ..ProjectOpts::default()
    };
    let sb = Sandbox::new(&history, &opts, "    executor: alembic\n");
    let out = sb.run(&url, &["upgrade", "a1", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let mut child = sb
        .cmd(&url, &["upgrade", "heads", "--yes"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let sleeping = "SELECT pid::text FROM pg_stat_activity \
                    WHERE query LIKE 'SELECT pg_sleep(20)%' AND pid <> pg_backend_pid()";
    let deadline = Instant::now() + Duration::from_secs(60);
    while pg::psql(&url, sleeping).unwrap().is_empty() {
        assert!(Instant::now() < deadline, "alembic never reached the sleep");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The server finishes the sleep on a connection whose client is gone (alembic does not ask
    // it to check), then rolls back; an alembic that outlived us would commit the step instead.
    let deadline = Instant::now() + Duration::from_secs(120);
    while !pg::psql(&url, sleeping).unwrap().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the sleeping backend never ended"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(!table_exists(&url, "t2"));
    assert_eq!(version_rows(&url), ["a1"]);
    assert_eq!(
        sb.journal_lines().last().map(String::as_str),
        Some("b2 started"),
        "the interrupted step has its intent line"
    );
}

#[test]
fn a_row_no_file_defines_stops_everything_with_its_name() {
    let history = one_table();
    let url = pg::fresh_db("unknownrow");
    pg::psql(
        &url,
        "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); \
         INSERT INTO alembic_version VALUES ('feedc0ffee99')",
    )
    .unwrap();
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "");
    for args in [["upgrade", "heads"], ["downgrade", "base"]] {
        let out = sb.run(&url, &[args[0], args[1], "--yes"]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("feedc0ffee99"), "{stderr}");
    }
    assert!(!table_exists(&url, "t1"));
    assert_eq!(version_rows(&url), ["feedc0ffee99"]);
}

#[test]
fn autocommit_blocks_run_alone_and_are_shown_as_such() {
    let history = revs(&[
        (
            "a1",
            &["op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))"],
            &["op.drop_table(\"t1\")"],
        ),
        (
            "b2",
            &[
                "with op.get_context().autocommit_block():",
                "    op.create_index(\"ix_t1_id\", \"t1\", [\"id\"], postgresql_concurrently=True)",
            ],
            &["op.drop_index(\"ix_t1_id\", table_name=\"t1\")"],
        ),
    ]);
    let url = pg::fresh_db("autocommit");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "");
    let (code, plan, stderr) = {
        let out = sb.run(&url, &["--json", "upgrade", "heads", "--sql"]);
        (
            out.status.code(),
            serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap_or_default(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    assert_eq!(code, Some(0), "{stderr}");
    let b2 = &plan["steps"][1]["statements"];
    assert_eq!(
        b2[0]["sql"],
        "CREATE INDEX CONCURRENTLY ix_t1_id ON t1 (id)"
    );
    assert_eq!(b2[0]["autocommit"], true);
    assert_eq!(b2[1]["version_table"], true);
    let out = sb.run(&url, &["upgrade", "heads", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("(autocommit) CREATE INDEX CONCURRENTLY"));
    assert_eq!(version_rows(&url), ["b2"]);
    assert!(schema(&url).iter().any(|l| l.contains("ix_t1_id")));
}

#[test]
fn a_step_that_needs_a_connection_runs_online_through_alembic() {
    let history = revs(&[
        (
            "a1",
            &["op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))"],
            &["op.drop_table(\"t1\")"],
        ),
        (
            "b2",
            &[
                // Reading data needs a live connection: offline, execute() returns nothing.
                "n = op.get_bind().execute(sa.text(\"SELECT count(*) FROM t1\")).scalar()",
                "op.execute(f\"INSERT INTO t1 (id) VALUES ({n} + 42)\")",
            ],
            &["op.execute(\"DELETE FROM t1 WHERE id = 42\")"],
        ),
    ]);
    let url = pg::fresh_db("online");
    let opts = ProjectOpts {
        url: sqlalchemy_url(&url),
        ..ProjectOpts::default()
    };
    let sb = Sandbox::new(&history, &opts, "");
    let out = sb.run(&url, &["upgrade", "heads", "--sql"]);
    assert!(out.status.success(), "{}", text(&out));
    let preview = String::from_utf8_lossy(&out.stdout);
    assert!(
        preview.contains("-- online-only") && preview.contains("runs as: alembic upgrade b2"),
        "{preview}"
    );
    let out = sb.run(&url, &["--json", "upgrade", "heads", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        events.iter().any(|e| e["event"] == "statement"
            && e["sql"]
                .as_str()
                .unwrap()
                .ends_with("-m alembic upgrade b2")),
        "the online step is reported as the alembic command it runs: {events:#?}"
    );
    assert_eq!(events.last().unwrap()["event"], "plan_done");
    assert_eq!(version_rows(&url), ["b2"]);
    assert_eq!(
        pg::psql(&url, "SELECT id::text FROM t1").unwrap(),
        [Some("42".to_owned())]
    );
    // And back down: b2's downgrade renders offline again.
    let out = sb.run(&url, &["downgrade", "-1", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(version_rows(&url), ["a1"]);
}

#[test]
fn without_yes_and_without_a_terminal_nothing_runs() {
    let history = one_table();
    let url = pg::fresh_db("noyes");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "    protected: true\n");
    let out = sb
        .cmd(&url, &["upgrade", "heads"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let db_name = url
        .split('/')
        .nth(3)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    let out = sb.run(&url, &["upgrade", "heads", "--yes"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "protected needs the name: {}",
        text(&out)
    );
    let out = sb.run(
        &url,
        &["upgrade", "heads", "--yes", "--confirm-database", "wrong"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(!table_exists(&url, "t1"));
    let out = sb.run(
        &url,
        &["upgrade", "heads", "--yes", "--confirm-database", &db_name],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(version_rows(&url), ["a1"]);
}

/// The library path the console uses: events in order, NOTICEs forwarded, and a cancel during a
/// running statement rolls the step back.
#[test]
fn events_stream_notices_and_a_cancel_rolls_the_running_step_back() {
    use alembic_tui::engine::alembic::AlembicCommand;
    use alembic_tui::engine::exec::{self, Cancel, Event, Target};

    let history = revs(&[
        (
            "a1",
            &[
                "op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))",
                "op.execute(\"DO $$ BEGIN RAISE NOTICE 'hello from a1'; END $$\")",
            ],
            &["op.drop_table(\"t1\")"],
        ),
        (
            "b2",
            &[
                "op.create_table(\"t2\", sa.Column(\"id\", sa.Integer()))",
                "op.execute(\"SELECT pg_sleep(60)\")",
            ],
            &["op.drop_table(\"t2\")"],
        ),
    ]);
    let url = pg::fresh_db("cancel");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "");
    let (ws, settings, resolved) = sb.library(&url);
    let scripts = render_plan(&ws, &settings, &resolved, &[], "heads", None);
    let target = Target {
        alembic: AlembicCommand::new(&ws, &settings, &resolved),
        url: resolved,
        settings,
        journal: Some(alembic_tui::engine::journal::Journal::at(
            sb.data.path().join("j.jsonl"),
        )),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let events = runtime.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let cancel = Cancel::new();
        let run = exec::execute(&target, &scripts, &tx, &cancel);
        tokio::pin!(run);
        let mut seen = Vec::new();
        let outcome = loop {
            tokio::select! {
                outcome = &mut run => break outcome,
                Some(event) = rx.recv() => {
                    if matches!(&event, Event::Statement { text, .. } if text.contains("pg_sleep")) {
                        // Let the statement reach the server, then ask for the cancel.
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        cancel.cancel();
                    }
                    seen.push(event);
                }
            }
        };
        while let Ok(event) = rx.try_recv() {
            seen.push(event);
        }
        let failure = outcome.unwrap_err();
        assert!(failure.cancelled, "{failure}");
        assert_eq!(failure.sqlstate.as_deref(), Some("57014"), "{failure}");
        seen
    });
    assert!(
        matches!(events[0], Event::PlanStarted { steps: 2 }),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Notice { message, .. } if message == "hello from a1")),
        "{events:?}"
    );
    assert!(events
        .iter()
        .any(|e| matches!(e, Event::StepDone { index: 0, .. })));
    assert!(
        matches!(events.last(), Some(Event::Cancelled { step: Some(1) })),
        "{events:?}"
    );
    assert_eq!(version_rows(&url), ["a1"]);
    assert!(table_exists(&url, "t1") && !table_exists(&url, "t2"));
    let journal = alembic_tui::engine::journal::Journal::at(sb.data.path().join("j.jsonl"))
        .read_all()
        .unwrap();
    let outcomes: Vec<&str> = journal.iter().map(|e| e.outcome.as_str()).collect();
    assert_eq!(outcomes, ["started", "applied", "started", "cancelled"]);
}

#[test]
fn read_only_profiles_databases_and_unreachable_servers_change_nothing() {
    let history = one_table();
    // A read-only profile refuses before connecting for writes.
    let url = pg::fresh_db("readonly");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "    read_only: true\n");
    let out = sb.run(&url, &["upgrade", "heads", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("read_only"),
        "{}",
        text(&out)
    );
    assert!(!table_exists(&url, "t1"));

    // A database that refuses writes (a standby, or default_transaction_read_only): the step
    // fails with the server's words and leaves nothing behind.
    let url = pg::fresh_db("rodb");
    let name = url
        .split('/')
        .nth(3)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    pg::psql(
        &url,
        &format!("ALTER DATABASE \"{name}\" SET default_transaction_read_only = on"),
    )
    .unwrap();
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "");
    let out = sb.run(&url, &["upgrade", "heads", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("25006") && stderr.contains("read-only transaction"),
        "{stderr}"
    );
    assert!(!table_exists(&url, "t1"));
    assert!(version_rows(&url).is_empty());

    // Nobody listens on port 1: one line naming the (redacted) target.
    let out = sb.run(
        "postgresql://app:s3cret@127.0.0.1:1/app?connect_timeout=3",
        &["upgrade", "heads", "--yes"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("127.0.0.1") && !stderr.contains("s3cret"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

#[test]
fn transaction_plan_rolls_the_whole_plan_back_when_a_late_step_fails() {
    let history = revs(&[
        (
            "a1",
            &["op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))"],
            &["op.drop_table(\"t1\")"],
        ),
        (
            "b2",
            &["op.create_table(\"t2\", sa.Column(\"id\", sa.Integer()))"],
            &["op.drop_table(\"t2\")"],
        ),
        (
            "c3",
            &["op.execute(\"SELECT no_such_function()\")"],
            &["pass"],
        ),
    ]);
    let url = pg::fresh_db("perplan");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "    transaction: plan\n");
    let out = sb.run(&url, &["upgrade", "heads", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("42883") && stderr.contains("whole plan was rolled back"),
        "{stderr}"
    );
    assert!(!table_exists(&url, "t1") && !table_exists(&url, "t2"));
    assert!(version_rows(&url).is_empty());
    let outcomes: Vec<String> = sb
        .journal()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["revision"].as_str().unwrap(),
                e["outcome"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(outcomes, ["c3 failed", "a1 rolled-back", "b2 rolled-back"]);
    // Each step's intent was journaled before it began.
    assert_eq!(
        sb.journal_lines()[..3],
        ["a1 started", "b2 started", "c3 started"]
    );
    // The same plan per step keeps what succeeded before the failure.
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "");
    let out = sb.run(&url, &["upgrade", "heads", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(table_exists(&url, "t2"));
    assert_eq!(version_rows(&url), ["b2"]);
}

#[test]
fn transaction_plan_across_an_autocommit_block_commits_honestly_and_says_so() {
    // Issue 12a: the CONCURRENTLY statement forces a COMMIT in the middle of the plan; a later
    // failure must not be reported (or journaled) as a rollback of what that COMMIT kept.
    let history = revs(&[
        (
            "a1",
            &["op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))"],
            &["op.drop_table(\"t1\")"],
        ),
        (
            "b2",
            &[
                "op.create_table(\"t2\", sa.Column(\"id\", sa.Integer()))",
                "with op.get_context().autocommit_block():",
                "    op.create_index(\"ix_t2_id\", \"t2\", [\"id\"], postgresql_concurrently=True)",
            ],
            &["op.drop_table(\"t2\")"],
        ),
        (
            "c3",
            &["op.execute(\"SELECT no_such_function()\")"],
            &["pass"],
        ),
    ]);
    let url = pg::fresh_db("plan_autocommit");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "    transaction: plan\n");
    // The preview says before anything runs that one transaction cannot hold this plan.
    let out = sb.run(&url, &["upgrade", "heads", "--sql"]);
    let preview = String::from_utf8_lossy(&out.stdout);
    assert!(
        preview.contains(
            "-- NOTE: transaction: plan cannot hold this plan in one transaction: step 2"
        ),
        "{preview}"
    );
    let out = sb.run(&url, &["upgrade", "heads", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("42883"), "{stderr}");
    assert!(
        !stderr.contains("whole plan was rolled back"),
        "a rollback that did not happen is claimed: {stderr}"
    );
    assert!(
        stderr.contains("1 step(s) before them are committed"),
        "{stderr}"
    );
    // What the database holds: a1 committed (its row), b2's table and index committed by the
    // autocommit block, b2's row rolled back with c3.
    assert_eq!(version_rows(&url), ["a1"]);
    assert!(table_exists(&url, "t1") && table_exists(&url, "t2"));
    assert!(schema(&url).iter().any(|l| l.contains("ix_t2_id")));
    let outcomes: Vec<String> = sb
        .journal()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["revision"].as_str().unwrap(),
                e["outcome"].as_str().unwrap()
            )
        })
        .collect();
    // a1 is journaled applied when the COMMIT happened, before b2's index ran.
    assert_eq!(outcomes, ["a1 applied", "c3 failed", "b2 partial"]);
    let lines = sb.journal_lines();
    let applied = lines.iter().position(|l| l == "a1 applied").unwrap();
    let b2_started = lines.iter().position(|l| l == "b2 started").unwrap();
    assert!(applied > b2_started, "{lines:?}");
    let b2 = sb
        .journal()
        .into_iter()
        .find(|e| e["revision"] == "b2")
        .unwrap();
    assert!(
        b2["error"].as_str().unwrap().contains("stay committed"),
        "{b2}"
    );
}

#[test]
fn steps_run_by_alembic_are_unreviewable_and_carry_the_revisions_own_findings() {
    // Issue 12b: under `executor: alembic` nothing is rendered, so the step is unreviewable;
    // the drop its op.* calls make is its flag, and the reason names our policy, not alembic.
    let history = revs(&[
        (
            "a1",
            &["op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))"],
            &["op.drop_table(\"t1\")"],
        ),
        (
            "b2",
            &["op.drop_table(\"t1\")"],
            &["op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))"],
        ),
    ]);
    let url = pg::fresh_db("unreviewable");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "    executor: alembic\n");
    let out = sb.run(&url, &["--json", "upgrade", "heads", "--sql"]);
    assert!(out.status.success(), "{}", text(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let b2 = &plan["steps"][1];
    assert_eq!(b2["mode"], "online-only");
    assert_eq!(b2["decided_by"], "policy");
    let reason = b2["reason"].as_str().unwrap();
    assert!(reason.starts_with("our policy:"), "{reason}");
    assert!(!reason.contains("alembic said"), "{reason}");
    let rules: Vec<&str> = b2["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"drop-table"), "{b2}");
    let out = sb.run(&url, &["upgrade", "heads", "--sql"]);
    let preview = String::from_utf8_lossy(&out.stdout);
    assert!(
        preview.contains("-- online-only, UNREVIEWABLE: our policy:"),
        "{preview}"
    );
    assert!(preview.contains("drop-table (line"), "{preview}");
}

#[test]
fn a_downgrade_preview_shows_the_revisions_findings() {
    // Issue 12d: a DBA rolling back through a downgrade that forgets what its upgrade made sees
    // it in the preview, not only in `lint`.
    let history = revs(&[
        (
            "a1",
            &["op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))"],
            &["op.drop_table(\"t1\")"],
        ),
        (
            "b2",
            &["op.create_index(\"ix_t1_id\", \"t1\", [\"id\"])"],
            &["pass"],
        ),
    ]);
    let url = pg::fresh_db("revfindings");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "");
    let out = sb.run(&url, &["upgrade", "heads", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = sb.run(&url, &["--json", "downgrade", "-1", "--sql"]);
    assert!(out.status.success(), "{}", text(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = plan["steps"][0]["findings"].as_array().unwrap();
    assert!(
        !findings.is_empty(),
        "the downgrade's own findings are missing from the preview: {plan}"
    );
    let out = sb.run(&url, &["downgrade", "-1", "--sql"]);
    let preview = String::from_utf8_lossy(&out.stdout);
    assert!(preview.contains(" revision "), "{preview}");
}

#[test]
fn a_changed_project_module_is_rendered_again_not_served_from_the_cache() {
    // Issue 13: the render cache key covers the project modules a revision imports.
    let history = revs(&[(
        "a1",
        &[
            "from myconst import TABLE",
            "op.create_table(TABLE, sa.Column(\"id\", sa.Integer()))",
        ],
        &["op.drop_table(\"beta\")"],
    )]);
    let url = pg::fresh_db("importkey");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "");
    std::fs::write(sb.dir.path().join("myconst.py"), "TABLE = 'alpha'\n").unwrap();
    // Run from the project's directory, as alembic finds `myconst` there (its cwd on sys.path).
    let run = |args: &[&str]| {
        sb.cmd(&url, args)
            .current_dir(sb.dir.path())
            .output()
            .unwrap()
    };
    let out = run(&["upgrade", "heads", "--sql"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("CREATE TABLE alpha"));
    std::fs::write(sb.dir.path().join("myconst.py"), "TABLE = 'beta'\n").unwrap();
    let out = run(&["upgrade", "heads", "--sql"]);
    let preview = String::from_utf8_lossy(&out.stdout);
    assert!(
        preview.contains("CREATE TABLE beta"),
        "stale SQL shown: {preview}"
    );
    let out = run(&["upgrade", "heads", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(table_exists(&url, "beta") && !table_exists(&url, "alpha"));
}

#[test]
fn a_new_sqlalchemy_is_rendered_again_not_served_from_the_cache() {
    // The render cache is keyed by the versions of alembic, SQLAlchemy and Python the profile's
    // command runs: renderings of an older SQLAlchemy are never shown or run after an upgrade.
    let history = one_table();
    let url = pg::fresh_db("toolchainkey");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "");
    let (ws, settings, resolved) = sb.library(&url);
    let line =
        alembic_tui::engine::alembic::AlembicCommand::new(&ws, &settings, &resolved).toolchain();
    assert!(
        line.starts_with("alembic 1.")
            && line.contains(" sqlalchemy 2.")
            && line.contains(" python 3."),
        "{line}"
    );
    // The venv's `alembic` console script: its `#!` line names the same interpreter.
    let script = common::python().parent().unwrap().join("alembic");
    assert!(script.is_file(), "{}", script.display());
    let profile = alembic_tui::config::ProfileFile {
        alembic: Some(format!("'{}'", script.display())),
        ..alembic_tui::config::ProfileFile::default()
    };
    let by_script =
        alembic_tui::config::Settings::from_profile(Some("t"), &profile, "test").unwrap();
    assert_eq!(
        alembic_tui::engine::alembic::AlembicCommand::new(&ws, &by_script, &resolved).toolchain(),
        line
    );
    // The same interpreter, but Python's package metadata names another SQLAlchemy version (a
    // distribution's metadata found first on sys.path), as after `pip install -U sqlalchemy`.
    let fake = sb.dir.path().join("fake-site");
    let dist = fake.join("SQLAlchemy-1.0.0.dist-info");
    std::fs::create_dir_all(&dist).unwrap();
    let metadata = |version: &str| {
        std::fs::write(
            dist.join("METADATA"),
            format!("Metadata-Version: 2.1\nName: SQLAlchemy\nVersion: {version}\n"),
        )
        .unwrap();
    };
    metadata("2.0.0");
    let wrapper = sb.dir.path().join("py");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nPYTHONPATH='{}' exec '{}' \"$@\"\n",
            fake.display(),
            common::python().display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        sb.dir.path().join("alembic-tui.yaml"),
        format!(
            "default_profile: t\nprofiles:\n  t:\n    alembic: \"'{}' -m alembic\"\n",
            wrapper.display()
        ),
    )
    .unwrap();
    let cache = sb.data.path().join("render-cache");
    let entries = || std::fs::read_dir(&cache).map_or(0, |d| d.count());
    let preview = || {
        let out = sb.run(&url, &["upgrade", "heads", "--sql"]);
        assert!(out.status.success(), "{}", text(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("CREATE TABLE t1"));
    };
    preview();
    let first = entries();
    assert!(first >= 1, "nothing cached");
    preview();
    assert_eq!(entries(), first, "the same toolchain is a cache hit");
    metadata("2.9.9");
    preview();
    assert!(
        entries() > first,
        "a new SQLAlchemy was served the old rendering from the cache"
    );
}

#[test]
fn the_journal_command_shows_what_ran_newest_last() {
    let history = revs(&[
        (
            "a1",
            &["op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))"],
            &["op.drop_table(\"t1\")"],
        ),
        (
            "b2",
            &["op.create_table(\"t2\", sa.Column(\"id\", sa.Integer()))"],
            &["op.drop_table(\"t2\")"],
        ),
    ]);
    let url = pg::fresh_db("journalcmd");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "");
    let out = sb.run(&url, &["upgrade", "heads", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = sb.run(&url, &["--json", "journal"]);
    assert!(out.status.success(), "{}", text(&out));
    let entries: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    // The entries exactly as written: the file's lines, parsed.
    assert_eq!(entries, sb.journal_all());
    let last = entries.last().unwrap();
    assert_eq!(
        (last["revision"].as_str(), last["outcome"].as_str()),
        (Some("b2"), Some("applied"))
    );
    let out = sb.run(&url, &["journal", "-r", "a1", "--sql"]);
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        listing.contains("applied") && listing.contains("a1"),
        "{listing}"
    );
    assert!(!listing.contains("b2"), "{listing}");
    assert!(listing.contains("| CREATE TABLE t1"), "{listing}");
}

#[test]
fn the_preview_flags_destructive_and_lock_heavy_statements() {
    let history = revs(&[
        (
            "a1",
            &["op.create_table(\"t1\", sa.Column(\"id\", sa.BigInteger()))"],
            &["op.drop_table(\"t1\")"],
        ),
        (
            "b2",
            &["op.create_index(\"ix_t1_id\", \"t1\", [\"id\"])"],
            &["op.drop_index(\"ix_t1_id\", table_name=\"t1\")"],
        ),
    ]);
    let url = pg::fresh_db("flags");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "");
    let out = sb.run(&url, &["upgrade", "heads", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = sb.run(&url, &["--json", "downgrade", "base", "--sql"]);
    assert!(out.status.success(), "{}", text(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let flags = |step: usize| -> Vec<(String, String)> {
        plan["steps"][step]["statements"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|st| st["flags"].as_array().unwrap().clone())
            .map(|f| {
                (
                    f["rule"].as_str().unwrap().to_owned(),
                    f["severity"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(flags(0), [("drop-index".to_owned(), "error".to_owned())]);
    assert_eq!(flags(1), [("drop-table".to_owned(), "error".to_owned())]);
    let out = sb.run(&url, &["downgrade", "base", "--sql"]);
    let preview = String::from_utf8_lossy(&out.stdout);
    assert!(
        preview.contains("-- !! error drop-table: drops table t1\nDROP TABLE t1;"),
        "{preview}"
    );
    // Upgrading again: the index on an existing table is lock-heavy (a warning), creating the
    // table it is on is not flagged.
    sb.run(&url, &["downgrade", "base", "--yes"]);
    let out = sb.run(&url, &["--json", "upgrade", "heads", "--sql"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let all: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["statements"].as_array().unwrap())
        .flat_map(|st| st["flags"].as_array().unwrap())
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert_eq!(all, ["create-index-without-concurrently"]);
}

#[test]
fn the_profiles_alembic_env_reaches_the_alembic_command() {
    let history = one_table();
    let url = pg::fresh_db("alembicenv");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "");
    let marker = sb.dir.path().join("marker");
    std::fs::write(
        sb.dir.path().join("alembic-tui.yaml"),
        format!(
            "default_profile: t\nprofiles:\n  t:\n    alembic: \"sh -c 'echo \\\"$APP_MARK $DATABASE_URL\\\" > {}; exec \\\"$0\\\" -m alembic \\\"$@\\\"' '{}'\"\n    alembic_env:\n      APP_MARK: seen-by-alembic\n",
            marker.display(),
            common::python().display()
        ),
    )
    .unwrap();
    let out = sb.run(&url, &["upgrade", "heads", "--sql"]);
    assert!(out.status.success(), "{}", text(&out));
    let seen = std::fs::read_to_string(&marker).unwrap();
    assert_eq!(seen.trim(), format!("seen-by-alembic {url}"));
}

#[test]
fn preview_verdicts_use_the_connected_servers_version() {
    let history = revs(&[
        ("a1", &["op.create_table(\"t1\", sa.Column(\"id\", sa.Integer()))"], &["op.drop_table(\"t1\")"]),
        (
            "b2",
            &["op.add_column(\"t1\", sa.Column(\"n\", sa.Integer(), nullable=False, server_default=\"0\"))"],
            &["op.drop_column(\"t1\", \"n\")"],
        ),
    ]);
    let url = pg::fresh_db("pgversion");
    let sb = Sandbox::new(&history, &ProjectOpts::default(), "");
    // The config assumes PostgreSQL 10, where any column default rewrites the table.
    let yaml = std::fs::read_to_string(sb.dir.path().join("alembic-tui.yaml")).unwrap();
    std::fs::write(
        sb.dir.path().join("alembic-tui.yaml"),
        format!("{yaml}lint:\n  pg_version: 10\n"),
    )
    .unwrap();
    let out = sb.run(&url, &["upgrade", "a1", "--yes"]);
    assert!(out.status.success(), "{}", text(&out));
    let rules = |out: &Output| -> Vec<String> {
        let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        plan["steps"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["statements"].as_array().unwrap())
            .flat_map(|st| st["flags"].as_array().unwrap())
            .map(|f| f["rule"].as_str().unwrap().to_owned())
            .collect()
    };
    // Connected to this run's server (15 or newer): a constant default is cheap.
    let out = sb.run(&url, &["--json", "upgrade", "heads", "--sql"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        !rules(&out).contains(&"volatile-default".to_owned()),
        "{:?}",
        rules(&out)
    );
    // Without a server, lint keeps the configured version's verdict.
    let out = sb.cmd(&url, &["--json", "lint", "b2"]).output().unwrap();
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        findings
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["rule"] == "volatile-default"),
        "{findings:#}"
    );
}

/// The scripts `upgrade TARGET` would run from `rows`, through the engine's one path.
fn render_plan(
    ws: &alembic_tui::workspace::Workspace,
    settings: &alembic_tui::config::Settings,
    url: &alembic_tui::config::ResolvedUrl,
    rows: &[String],
    target: &str,
    cache: Option<PathBuf>,
) -> Vec<alembic_tui::engine::script::StepScript> {
    use alembic_tui::engine::{prepare, render::Renderer};
    let steps = prepare::plan(ws, rows, alembic_tui::graph::Direction::Upgrade, target).unwrap();
    let renderer = Renderer::new(ws, settings, url, cache);
    prepare::render(ws, settings, &renderer, &steps).unwrap()
}
