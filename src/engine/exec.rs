//! The step executor: runs rendered steps on its own connection under the safety invariants of
//! design.md decision 3 — a session advisory lock keeps two migrators apart, each step runs in a
//! transaction with `SET LOCAL lock_timeout`/`statement_timeout`, the version table is locked
//! and must hold exactly the rows the plan expects before and after, every version-table
//! statement must touch exactly one row, and a running statement can be cancelled. Progress
//! streams to the caller as [`Event`]s; every step is journaled.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::Notify;
use tokio_postgres::SimpleQueryMessage;

use crate::config::{redact, ResolvedUrl, Settings, TransactionMode};
use crate::db::locks::{self as db_locks, Blocker, Wait};
use crate::db::version_table::{quote_literal, VersionTable};
use crate::db::{self, ConnectOptions, Session};
use crate::engine::alembic::AlembicCommand;
use crate::engine::journal::{self, Journal};
use crate::engine::script::{direction_word, StatementKind, StepBody, StepScript};
use crate::graph::Step;

/// What the executor reports while it works, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The advisory lock is held; `steps` will run.
    PlanStarted {
        steps: usize,
    },
    /// Step `index` (0-based) of `of` begins.
    StepStarted {
        index: usize,
        of: usize,
        step: Step,
    },
    /// Statement `index` (0-based) of `of` in step `step` is sent.
    Statement {
        step: usize,
        index: usize,
        of: usize,
        text: String,
        autocommit: bool,
    },
    StatementDone {
        step: usize,
        index: usize,
        elapsed: Duration,
    },
    /// A NOTICE/WARNING the server sent.
    Notice {
        severity: String,
        message: String,
    },
    /// A line alembic printed while running an online-only step.
    Output {
        line: String,
    },
    /// The running statement waits for a lock (`waiting_for`) held or queued for by
    /// `blocked_by`; sent once per change, and with an empty `blocked_by` when it waits no more.
    Blocked {
        waiting_for: Option<Wait>,
        blocked_by: Vec<Blocker>,
    },
    StepDone {
        index: usize,
        elapsed: Duration,
    },
    /// The plan stopped on this failure; its message says what was rolled back and what stays
    /// committed.
    Failed(ExecFailure),
    /// The plan stopped because it was cancelled; `step` was rolled back.
    Cancelled {
        step: Option<usize>,
    },
    PlanDone {
        elapsed: Duration,
    },
}

/// Why a plan stopped: the server's own words where it gave them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecFailure {
    /// The step that failed (None: before any step, e.g. the lock or the connection).
    pub step: Option<usize>,
    pub revision: Option<String>,
    pub sqlstate: Option<String>,
    pub message: String,
    pub detail: Option<String>,
    pub hint: Option<String>,
    pub statement: Option<String>,
    /// True when the failure is a cancellation the user asked for.
    pub cancelled: bool,
}

impl fmt::Display for ExecFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(rev) = &self.revision {
            write!(f, "step {rev}: ")?;
        }
        write!(f, "{}", self.message)?;
        if let Some(code) = &self.sqlstate {
            write!(f, " (SQLSTATE {code})")?;
        }
        if let Some(detail) = &self.detail {
            write!(f, "; detail: {detail}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "; hint: {hint}")?;
        }
        if let Some(statement) = &self.statement {
            write!(f, "; statement: {}", one_line(statement, 200))?;
        }
        Ok(())
    }
}

impl std::error::Error for ExecFailure {}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > max {
        let cut: String = flat.chars().take(max).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// A cancel request shared between the caller and the executor.
#[derive(Clone, Default)]
pub struct Cancel {
    inner: Arc<(AtomicBool, Notify)>,
}

impl Cancel {
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Cancels the running statement (rolled back) and stops the plan.
    pub fn cancel(&self) {
        self.inner.0.store(true, Ordering::SeqCst);
        self.inner.1.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.inner.0.load(Ordering::SeqCst)
    }

    async fn cancelled(&self) {
        loop {
            let notified = self.inner.1.notified();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// Where and how a plan runs.
pub struct Target {
    pub url: ResolvedUrl,
    pub settings: Settings,
    /// How to run alembic for online-only steps.
    pub alembic: AlembicCommand,
    /// Where executed steps are journaled (None: not journaled, for tests that say so).
    pub journal: Option<Journal>,
}

impl Target {
    fn version_table(&self) -> VersionTable {
        VersionTable::of(&self.settings)
    }
}

/// Runs `scripts` in order. Returns when the plan is done, failed or was cancelled; the same
/// outcome is also the last event sent.
pub async fn execute(
    target: &Target,
    scripts: &[StepScript],
    events: &UnboundedSender<Event>,
    cancel: &Cancel,
) -> Result<(), ExecFailure> {
    let result = run(target, scripts, events, cancel).await;
    match &result {
        Ok(elapsed) => {
            let _ = events.send(Event::PlanDone { elapsed: *elapsed });
        }
        Err(f) if f.cancelled => {
            let _ = events.send(Event::Cancelled { step: f.step });
        }
        Err(f) => {
            let _ = events.send(Event::Failed(f.clone()));
        }
    }
    result.map(|_| ())
}

async fn run(
    target: &Target,
    scripts: &[StepScript],
    events: &UnboundedSender<Event>,
    cancel: &Cancel,
) -> Result<Duration, ExecFailure> {
    let started = Instant::now();
    if target.settings.read_only {
        return Err(ExecFailure {
            message: format!(
                "profile {} is read_only: migrations cannot run through it",
                target.settings.profile.as_deref().unwrap_or("(none)")
            ),
            ..ExecFailure::default()
        });
    }
    let session = db::open(&target.url, ConnectOptions { read_only: false })
        .await
        .map_err(|e| ExecFailure {
            message: e.to_string(),
            ..ExecFailure::default()
        })?;
    let mut exec = Executor {
        target,
        session,
        events,
        cancel,
        vt: target.version_table(),
        vt_seen: false,
        in_tx: false,
        scripts,
        finished_uncommitted: Vec::new(),
        committed_steps: 0,
        committed_in_step: 0,
    };
    // A killed migrator's running statement then stops within a second (PostgreSQL 14+ checks
    // the client socket), instead of holding its locks until the statement ends by itself.
    let _ = exec
        .session
        .client
        .simple_query("SET client_connection_check_interval = '1s'")
        .await;
    exec.lock().await?;
    // Dropped (and so stopped) whenever the plan ends, also on an early return.
    let _monitor = Monitor::start(target, &exec.session, events).await;
    let _ = events.send(Event::PlanStarted {
        steps: scripts.len(),
    });
    let per_plan = target.settings.transaction == TransactionMode::Plan;
    for (index, script) in scripts.iter().enumerate() {
        let step_started = Instant::now();
        exec.committed_in_step = 0;
        // The intent line comes first: a killed run leaves a record of the step it was in, and
        // a journal that cannot be written stops the plan before the step, not after its commit.
        let outcome = match record(target, script, Duration::ZERO, "started", None) {
            Err(e) => Err(e),
            Ok(()) => {
                exec.name_step(index, scripts.len(), script).await;
                let _ = events.send(Event::StepStarted {
                    index,
                    of: scripts.len(),
                    step: script.step.clone(),
                });
                exec.run_step(index, script).await
            }
        };
        let elapsed = step_started.elapsed();
        let outcome = match outcome {
            Ok(Ran::InTransaction) => {
                exec.finished_uncommitted
                    .push((index, elapsed, exec.committed_in_step));
                if per_plan && index + 1 < scripts.len() {
                    Ok(())
                } else {
                    exec.commit().await
                }
            }
            // alembic committed it on its own connection.
            Ok(Ran::Committed) => {
                exec.committed_steps += 1;
                record(target, script, elapsed, "applied", None)
            }
            Err(failure) => Err(failure),
        };
        if let Err(failure) = outcome {
            return Err(exec.fail(index, script, elapsed, failure).await);
        }
        let _ = events.send(Event::StepDone { index, elapsed });
    }
    exec.unlock().await;
    Ok(started.elapsed())
}

/// How often the monitor asks whom the executor's backend waits for.
const MONITOR_EVERY: Duration = Duration::from_millis(500);

/// Watches the executor's backend from a second connection while the plan runs and reports
/// every change in who blocks it ([`Event::Blocked`]). Stops when dropped.
struct Monitor(Option<tokio::task::JoinHandle<()>>);

impl Monitor {
    async fn start(target: &Target, session: &Session, events: &UnboundedSender<Event>) -> Monitor {
        // Nobody listens (shadow runs of drift/verify): no second connection for them.
        if events.is_closed() {
            return Monitor(None);
        }
        let url = target.url.url.clone();
        let Ok(row) = session
            .client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
        else {
            return Monitor(None);
        };
        let pid: i32 = row.get(0);
        let watcher = match db::connect(&target.url, ConnectOptions { read_only: true }).await {
            Ok(client) => client,
            Err(e) => {
                // The plan runs all the same; it only goes unwatched.
                let _ = events.send(Event::Notice {
                    severity: "WARNING".to_owned(),
                    message: format!("no lock monitor (a second connection failed: {e})"),
                });
                return Monitor(None);
            }
        };
        let events = events.clone();
        Monitor(Some(tokio::spawn(async move {
            let mut last: Vec<i32> = Vec::new();
            loop {
                tokio::time::sleep(MONITOR_EVERY).await;
                let Ok((wait, blockers)) = db_locks::blocked_by(&watcher, &url, pid).await else {
                    return;
                };
                let pids: Vec<i32> = blockers.iter().map(|b| b.pid).collect();
                if pids != last {
                    last = pids;
                    let _ = events.send(Event::Blocked {
                        waiting_for: wait,
                        blocked_by: blockers,
                    });
                }
            }
        })))
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.abort();
        }
    }
}

/// How a step that succeeded left its work.
enum Ran {
    /// In the open transaction: committed with it.
    InTransaction,
    /// Already committed (alembic ran it on its own connection).
    Committed,
}

/// `alembic stamp REVISION` under the migration lock and journaled like a step: the version table
/// must still hold `rows_before` (what the user decided on), then alembic sets it without running
/// any migration. Returns the rows afterwards.
pub async fn stamp(
    target: &Target,
    revision: &str,
    rows_before: &[String],
    events: &UnboundedSender<Event>,
    cancel: &Cancel,
) -> Result<Vec<String>, ExecFailure> {
    if target.settings.read_only {
        return Err(ExecFailure {
            message: "the profile is read_only: stamp writes the version table".to_owned(),
            ..ExecFailure::default()
        });
    }
    let session = db::open(&target.url, ConnectOptions { read_only: false })
        .await
        .map_err(|e| ExecFailure {
            message: e.to_string(),
            ..ExecFailure::default()
        })?;
    let mut exec = Executor {
        target,
        session,
        events,
        cancel,
        vt: target.version_table(),
        vt_seen: false,
        in_tx: false,
        scripts: &[],
        finished_uncommitted: Vec::new(),
        committed_steps: 0,
        committed_in_step: 0,
    };
    exec.lock().await?;
    // Another console's "migration in progress" then names what this session does.
    let name = db_locks::step_application("stamp", revision, 0, 1);
    let _ = exec
        .session
        .client
        .simple_query(&format!("SET application_name = {}", quote_literal(&name)))
        .await;
    exec.check_rows(rows_before, "before the stamp").await?;
    // The executor's one error type (see `record`).
    #[allow(clippy::result_large_err)]
    let journal = |outcome: &str, error: Option<String>| -> Result<(), ExecFailure> {
        let Some(journal) = &target.journal else {
            return Ok(());
        };
        let entry = journal::Entry::for_stamp(
            target.settings.profile.as_deref(),
            &redact(&target.url.url),
            revision,
            outcome,
            error,
        );
        journal.append(&entry).map_err(|e| ExecFailure {
            message: format!("cannot write the journal: {e}"),
            ..ExecFailure::default()
        })
    };
    journal("started", None)?;
    let ran = exec
        .run_alembic(0, &["stamp".to_owned(), revision.to_owned()])
        .await;
    let rows = exec.rows().await;
    let after = match &rows {
        Ok(rows) => format!("the version table holds [{}]", rows.join(", ")),
        Err(e) => format!("the version table could not be read: {e}"),
    };
    match ran {
        Ok(()) => {
            journal("applied", Some(after))?;
            exec.unlock().await;
            rows
        }
        Err(mut failure) => {
            failure.message.push_str(&format!("; {after}"));
            let _ = journal("failed", Some(failure.to_string()));
            Err(failure)
        }
    }
}

/// Appends one step to the journal (when the target keeps one).
// The executor's one error type; a failure ends the plan, so its size costs nothing.
#[allow(clippy::result_large_err)]
fn record(
    target: &Target,
    script: &StepScript,
    elapsed: Duration,
    outcome: &str,
    error: Option<String>,
) -> Result<(), ExecFailure> {
    let Some(journal) = &target.journal else {
        return Ok(());
    };
    let entry = journal::Entry::for_step(
        target.settings.profile.as_deref(),
        &redact(&target.url.url),
        script,
        elapsed,
        outcome,
        error,
    );
    // The step is done either way; losing its record must still stop the plan.
    journal.append(&entry).map_err(|e| ExecFailure {
        revision: Some(script.step.revision.clone()),
        message: format!("cannot write the journal: {e:#}"),
        ..ExecFailure::default()
    })
}

struct Executor<'a> {
    target: &'a Target,
    session: Session,
    events: &'a UnboundedSender<Event>,
    cancel: &'a Cancel,
    vt: VersionTable,
    /// The version table is known to exist (saves a catalog lookup per check).
    vt_seen: bool,
    in_tx: bool,
    scripts: &'a [StepScript],
    /// Steps finished inside the open transaction: journaled `applied` when it commits, or
    /// `rolled-back` when it does not.
    /// With each step: how many of its statements had committed before its end (autocommit).
    finished_uncommitted: Vec<(usize, Duration, usize)>,
    /// Steps of this plan that are committed.
    committed_steps: usize,
    /// Statements of the running step that are already committed (an autocommit statement
    /// commits everything before it): a failure after them leaves the step partly applied.
    committed_in_step: usize,
}

/// The server's error as an [`ExecFailure`].
fn failure(err: &tokio_postgres::Error, url: &str, statement: Option<&str>) -> ExecFailure {
    match err.as_db_error() {
        Some(dbe) => ExecFailure {
            sqlstate: Some(dbe.code().code().to_owned()),
            message: dbe.message().to_owned(),
            detail: dbe.detail().map(str::to_owned),
            hint: dbe.hint().map(str::to_owned),
            statement: statement.map(str::to_owned),
            cancelled: dbe.code() == &tokio_postgres::error::SqlState::QUERY_CANCELED,
            ..ExecFailure::default()
        },
        None => ExecFailure {
            message: db::describe(err, url),
            statement: statement.map(str::to_owned),
            ..ExecFailure::default()
        },
    }
}

fn millis(d: Duration) -> u128 {
    d.as_millis().max(1)
}

impl Executor<'_> {
    fn forward_notices(&mut self) {
        while let Ok(n) = self.session.notices.try_recv() {
            let _ = self.events.send(Event::Notice {
                severity: n.severity,
                message: n.message,
            });
        }
    }

    /// Runs one statement through the simple protocol (as psql would), cancellable; returns the
    /// rows it touched.
    async fn query(&mut self, sql: &str) -> Result<u64, ExecFailure> {
        if self.cancel.is_cancelled() {
            return Err(self.cancelled());
        }
        let result = {
            let fut = self.session.client.simple_query(sql);
            tokio::pin!(fut);
            tokio::select! {
                r = &mut fut => r,
                _ = self.cancel.cancelled() => {
                    // A cancel request that reaches the server before the statement does is
                    // lost: ask again until the statement ends.
                    loop {
                        let _ = self.session.cancel_running().await;
                        if let Ok(r) = tokio::time::timeout(Duration::from_millis(500), &mut fut).await {
                            break r;
                        }
                    }
                }
            }
        };
        self.forward_notices();
        let messages = result.map_err(|e| {
            let mut f = failure(&e, &self.target.url.url, Some(sql));
            f.cancelled |= self.cancel.is_cancelled();
            f
        })?;
        Ok(messages
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::CommandComplete(n) => Some(*n),
                _ => None,
            })
            .sum())
    }

    fn cancelled(&self) -> ExecFailure {
        ExecFailure {
            message: "cancelled".to_owned(),
            cancelled: true,
            ..ExecFailure::default()
        }
    }

    /// Takes the session advisory lock that keeps two alembic-tui migrators apart, keyed on the
    /// database and the version table; says who holds it when it is taken.
    async fn lock(&mut self) -> Result<(), ExecFailure> {
        let key = db_locks::migration_key(&self.vt);
        let url = self.target.url.url.clone();
        let row = self
            .session
            .client
            .query_one(
                "SELECT pg_try_advisory_lock(hashtextextended(current_database() || ':' || $1, 0))",
                &[&key],
            )
            .await
            .map_err(|e| failure(&e, &url, None))?;
        if row.get::<_, bool>(0) {
            return Ok(());
        }
        let holder =
            db_locks::migration_in_progress(&self.session.client, &self.target.url.url, &self.vt)
                .await
                .ok()
                .flatten();
        let who = match holder {
            Some(h) => format!(
                "pid {}, since {}, user {}, from {}, step {}",
                h.pid,
                h.since,
                h.user,
                h.host,
                h.step.as_deref().unwrap_or("unknown")
            ),
            None => "holder unknown".to_owned(),
        };
        Err(ExecFailure {
            message: format!(
                "another migration is running ({who}) on this database's {}; nothing was changed",
                self.vt
            ),
            ..ExecFailure::default()
        })
    }

    async fn unlock(&mut self) {
        // The session ends right after; this only makes the release explicit.
        let key = db_locks::migration_key(&self.vt);
        let _ = self
            .session
            .client
            .query_one(
                "SELECT pg_advisory_unlock(hashtextextended(current_database() || ':' || $1, 0))",
                &[&key],
            )
            .await;
    }

    /// Names the running step in the session's application_name, so that another console or
    /// CLI can say which step a migration in progress is at. Best effort: a name is not a guard.
    async fn name_step(&mut self, index: usize, of: usize, script: &StepScript) {
        let name = db_locks::step_application(
            direction_word(script.step.direction),
            &script.step.revision,
            index,
            of,
        );
        let _ = self
            .session
            .client
            .simple_query(&format!("SET application_name = {}", quote_literal(&name)))
            .await;
    }

    fn timeouts(&self, scope: &str) -> String {
        let s = &self.target.settings;
        let statement = s.statement_timeout.map_or(0, millis);
        format!(
            "SET {scope} lock_timeout = '{}ms'; SET {scope} statement_timeout = '{statement}ms'",
            millis(s.lock_timeout)
        )
    }

    /// Opens a transaction with the profile's timeouts and the version table locked.
    async fn begin(&mut self) -> Result<(), ExecFailure> {
        if self.in_tx {
            return Ok(());
        }
        // One round trip: BEGIN and the timeouts travel together.
        let begin = format!("BEGIN; {}", self.timeouts("LOCAL"));
        self.in_tx = true;
        self.query(&begin).await?;
        if self.vt_exists().await? {
            // Writers wait here (up to lock_timeout); readers such as `alembic current` don't.
            let lock = format!("LOCK TABLE {} IN EXCLUSIVE MODE", self.vt.qualified());
            self.query(&lock).await?;
        }
        Ok(())
    }

    /// Commits the open transaction and journals, at that moment, the steps it held: the
    /// journal says what the database now holds.
    async fn commit(&mut self) -> Result<(), ExecFailure> {
        if self.in_tx {
            self.query("COMMIT").await?;
            self.in_tx = false;
        }
        for (i, elapsed, _) in std::mem::take(&mut self.finished_uncommitted) {
            self.committed_steps += 1;
            record(self.target, &self.scripts[i], elapsed, "applied", None).map_err(|mut e| {
                e.message
                    .push_str(" (the step IS committed: the version table says so)");
                e
            })?;
        }
        Ok(())
    }

    /// Runs one step: its statements in the open transaction, or alembic online.
    async fn run_step(&mut self, index: usize, script: &StepScript) -> Result<Ran, ExecFailure> {
        match &script.body {
            StepBody::Sql(_) => {
                self.sql_step(index, script).await?;
                Ok(Ran::InTransaction)
            }
            StepBody::OnlineOnly {
                target: alembic_target,
                ..
            } => {
                // alembic opens its own connection: our transaction must not hold the table.
                self.commit().await?;
                self.online_step(index, script, alembic_target.as_deref())
                    .await?;
                Ok(Ran::Committed)
            }
        }
    }

    /// Rolls back what is open, journals the failing step and the steps that went with the
    /// transaction, and words the failure after what really happened.
    async fn fail(
        &mut self,
        index: usize,
        script: &StepScript,
        elapsed: Duration,
        mut failure: ExecFailure,
    ) -> ExecFailure {
        self.rollback().await;
        failure.step.get_or_insert(index);
        failure
            .revision
            .get_or_insert_with(|| script.step.revision.clone());
        let rolled_back: Vec<(usize, Duration, usize)> =
            std::mem::take(&mut self.finished_uncommitted)
                .into_iter()
                .filter(|(i, _, _)| *i != index)
                .collect();
        if !rolled_back.is_empty() {
            let which = rolled_back
                .iter()
                .map(|(i, _, _)| (i + 1).to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let partly = rolled_back.iter().any(|(_, _, committed)| *committed > 0);
            if self.committed_steps == 0 && !partly {
                failure.message.push_str(&format!(
                    " (the whole plan was rolled back: steps {which} ran in its one transaction)"
                ));
            } else {
                failure.message.push_str(&format!(
                    " (the version-table changes of steps {which} were rolled back with it; {} \
                     step(s) before them are committed{})",
                    self.committed_steps,
                    if partly {
                        ", and so are the statements those steps ran outside a transaction: the \
                         journal marks them partial"
                    } else {
                        ""
                    }
                ));
            }
        }
        let word = if self.committed_in_step > 0 {
            failure.message.push_str(&format!(
                "; statements 1–{} of this step ran outside a transaction and stay committed, \
                 while the version table still says [{}]",
                self.committed_in_step,
                script.step.heads_before.join(", ")
            ));
            "partial"
        } else if failure.cancelled {
            "cancelled"
        } else {
            "failed"
        };
        let error = failure.to_string();
        // Best effort: the failure itself is what the caller must see.
        let _ = record(self.target, script, elapsed, word, Some(error.clone()));
        for (i, earlier, committed) in rolled_back {
            let (outcome, note) = if committed > 0 {
                (
                    "partial",
                    format!(
                        "statements 1–{committed} ran outside a transaction and stay committed; \
                         the rest was rolled back by a later failure: {error}"
                    ),
                )
            } else {
                ("rolled-back", error.clone())
            };
            let _ = record(self.target, &self.scripts[i], earlier, outcome, Some(note));
        }
        failure
    }

    async fn rollback(&mut self) {
        if self.in_tx {
            // A cancel flag must not stop the rollback itself.
            let _ = self.session.client.simple_query("ROLLBACK").await;
            self.in_tx = false;
        }
    }

    async fn vt_exists(&mut self) -> Result<bool, ExecFailure> {
        // Once seen, the table stays: we never drop it (a revision that does makes the next
        // LOCK or SELECT fail, which stops the plan).
        if self.vt_seen {
            return Ok(true);
        }
        let url = self.target.url.url.clone();
        let row = self
            .session
            .client
            .query_one(
                "SELECT to_regclass($1) IS NOT NULL",
                &[&self.vt.qualified()],
            )
            .await
            .map_err(|e| failure(&e, &url, None))?;
        self.vt_seen = row.get(0);
        Ok(self.vt_seen)
    }

    /// The version table's rows must be exactly `expected`, else the step stops.
    async fn check_rows(&mut self, expected: &[String], when: &str) -> Result<(), ExecFailure> {
        let rows = self.rows().await?;
        let mut want = expected.to_vec();
        want.sort();
        if rows == want {
            return Ok(());
        }
        Err(ExecFailure {
            message: format!(
                "the version table {} holds [{}] {when}, but the plan expects [{}]; someone else changed it — stopped and rolled back",
                self.vt,
                rows.join(", "),
                want.join(", ")
            ),
            ..ExecFailure::default()
        })
    }

    /// The version table's rows, sorted (none when it does not exist).
    async fn rows(&mut self) -> Result<Vec<String>, ExecFailure> {
        let mut rows = Vec::new();
        if self.vt_exists().await? {
            let select = format!("SELECT version_num FROM {}", self.vt.qualified());
            let url = self.target.url.url.clone();
            let messages = self
                .session
                .client
                .simple_query(&select)
                .await
                .map_err(|e| failure(&e, &url, Some(&select)))?;
            for m in messages {
                if let SimpleQueryMessage::Row(row) = m {
                    rows.push(row.get(0).unwrap_or_default().to_owned());
                }
            }
        }
        rows.sort();
        Ok(rows)
    }

    async fn sql_step(&mut self, index: usize, script: &StepScript) -> Result<(), ExecFailure> {
        let statements = script.statements();
        self.begin().await?;
        self.check_rows(&script.step.heads_before, "before the step")
            .await?;
        let of = statements.len();
        for (i, st) in statements.iter().enumerate() {
            let _ = self.events.send(Event::Statement {
                step: index,
                index: i,
                of,
                text: st.text.clone(),
                autocommit: st.autocommit,
            });
            let started = Instant::now();
            let touched = if st.autocommit {
                // PostgreSQL refuses these inside a transaction block: commit what came before,
                // run it alone under session-level timeouts, then carry on in a new transaction.
                self.commit().await?;
                self.committed_in_step = i;
                let timeouts = self.timeouts("SESSION");
                self.query(&timeouts).await?;
                let result = self.query(&st.text).await;
                let _ = self
                    .query("RESET lock_timeout; RESET statement_timeout")
                    .await;
                let touched = result?;
                self.committed_in_step = i + 1;
                touched
            } else {
                self.begin().await?;
                self.query(&st.text).await?
            };
            if let StatementKind::VersionTable {
                expect_rows: Some(n),
            } = st.kind
            {
                if touched != n {
                    return Err(ExecFailure {
                        message: format!(
                            "the version-table statement touched {touched} rows instead of {n}; rolled back"
                        ),
                        statement: Some(st.text.clone()),
                        ..ExecFailure::default()
                    });
                }
            }
            let _ = self.events.send(Event::StatementDone {
                step: index,
                index: i,
                elapsed: started.elapsed(),
            });
        }
        self.begin().await?;
        self.check_rows(&script.step.heads_after, "after the step")
            .await
    }

    /// Runs a step through alembic online, output streamed, then checks the version table.
    async fn online_step(
        &mut self,
        index: usize,
        script: &StepScript,
        alembic_target: Option<&str>,
    ) -> Result<(), ExecFailure> {
        let step = &script.step;
        let Some(alembic_target) = alembic_target else {
            return Err(ExecFailure {
                message: format!(
                    "{} {} cannot be rendered offline and no single alembic command runs just this step",
                    direction_word(step.direction),
                    step.revision
                ),
                ..ExecFailure::default()
            });
        };
        self.check_rows(&step.heads_before, "before the step")
            .await?;
        let args = vec![
            direction_word(step.direction).to_owned(),
            alembic_target.to_owned(),
        ];
        let started = Instant::now();
        self.run_alembic(index, &args).await?;
        self.check_rows(&step.heads_after, "after alembic ran the step")
            .await?;
        let _ = self.events.send(Event::StatementDone {
            step: index,
            index: 0,
            elapsed: started.elapsed(),
        });
        Ok(())
    }

    /// Runs the alembic command with `args` as step `index`'s one statement, its output
    /// streamed as events; a cancel stops it (and whatever it started).
    async fn run_alembic(&mut self, index: usize, args: &[String]) -> Result<(), ExecFailure> {
        let _ = self.events.send(Event::Statement {
            step: index,
            index: 0,
            of: 1,
            text: format!("{} {}", self.target.alembic.text(), args.join(" ")),
            autocommit: false,
        });
        let mut cmd = tokio::process::Command::from(self.target.alembic.command(args));
        cmd.stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|e| ExecFailure {
            message: format!(
                "cannot run the alembic command `{}`: {e}",
                self.target.alembic.text()
            ),
            ..ExecFailure::default()
        })?;
        let mut tail: Vec<String> = Vec::new();
        let status = {
            use tokio::io::AsyncBufReadExt;
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
            for reader in [
                child
                    .stdout
                    .take()
                    .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
                child
                    .stderr
                    .take()
                    .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            ]
            .into_iter()
            .flatten()
            {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut lines = tokio::io::BufReader::new(reader).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let _ = tx.send(line);
                    }
                });
            }
            drop(tx);
            let mut cancelled = false;
            loop {
                tokio::select! {
                    line = rx.recv() => match line {
                        Some(line) => {
                            // alembic or env.py may print the URL: no password goes further.
                            let line = crate::redact::text(&line, &self.target.url.url);
                            tail.push(line.clone());
                            if tail.len() > 5 { tail.remove(0); }
                            let _ = self.events.send(Event::Output { line });
                        }
                        None => break,
                    },
                    _ = self.cancel.cancelled(), if !cancelled => {
                        // alembic rolls its transaction back when it is interrupted.
                        cancelled = true;
                        if let Some(pid) = child.id() {
                            crate::engine::alembic::kill_group(pid);
                        }
                        let _ = child.start_kill();
                    }
                }
            }
            child.wait().await
        };
        let status = status.map_err(|e| ExecFailure {
            message: format!("waiting for alembic: {e}"),
            ..ExecFailure::default()
        })?;
        if !status.success() {
            let cancelled = self.cancel.is_cancelled();
            return Err(ExecFailure {
                message: if cancelled {
                    "cancelled (alembic was stopped)".to_owned()
                } else {
                    format!("alembic failed ({status}): {}", tail.join(" | "))
                },
                cancelled,
                ..ExecFailure::default()
            });
        }
        Ok(())
    }
}
