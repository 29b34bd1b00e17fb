//! Lock traces and the pre-flight. A trace runs a plan's statements on a shadow database (built
//! up to the plan's starting rows, as `drift` builds one) and reads `pg_locks` for that backend
//! after each statement: the relation locks the statement took that the step did not hold yet,
//! the strongest mode per relation. Statements that run outside a transaction (CREATE INDEX
//! CONCURRENTLY) are watched from a second session that makes them wait for it. Traces are
//! cached by the step's rendered SQL. The pre-flight asks the target which sessions hold or wait
//! for locks that conflict with the traced ones.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::{ResolvedUrl, Settings};
use crate::db::locks::{self as db_locks, Blocker, HeldLock, Planned};
use crate::db::{self, ConnectOptions, Session};
use crate::engine::checks;
use crate::engine::exec::Cancel;
use crate::engine::render::sha256_hex;
use crate::engine::script::{ScriptStatement, StepBody, StepScript};
use crate::engine::EngineError;
use crate::workspace::Workspace;

type Result<T> = std::result::Result<T, EngineError>;

/// One relation lock a statement takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockTaken {
    /// As `regclass` prints it on the shadow (schema-qualified when not on the search path).
    pub relation: String,
    /// PostgreSQL's name of the mode, e.g. `AccessExclusiveLock`.
    pub mode: String,
    /// Held until the step's transaction ends (false: only while the statement runs, for
    /// statements that run outside a transaction).
    pub held_until_commit: bool,
}

/// What the trace knows about one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepLocks {
    /// One list per statement of the step's script, in order.
    Traced(Vec<Vec<LockTaken>>),
    /// Why this step has no trace (online-only, or the shadow run stopped before it).
    NotTraced(String),
}

/// A plan's lock trace, step by step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trace {
    pub steps: Vec<StepLocks>,
    /// How many steps came from the cache.
    pub cached: usize,
}

impl Trace {
    /// Every (relation, mode) the plan takes, once each.
    pub fn planned(&self) -> Vec<Planned> {
        let mut out: Vec<Planned> = Vec::new();
        for step in &self.steps {
            if let StepLocks::Traced(statements) = step {
                for lock in statements.iter().flatten() {
                    let p = Planned {
                        relation: lock.relation.clone(),
                        mode: lock.mode.clone(),
                    };
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
            }
        }
        out
    }
}

/// Where traces are cached (None: no data dir, no cache).
pub fn trace_cache() -> Option<PathBuf> {
    crate::paths::data_dir().ok().map(|d| d.join("lock-trace"))
}

/// The cache key of a step: its statements exactly as they run.
fn key(statements: &[ScriptStatement]) -> String {
    let mut text = String::from("lock-trace v1\n");
    for st in statements {
        text.push(if st.autocommit { 'A' } else { 'T' });
        text.push('\0');
        text.push_str(&st.text);
        text.push('\0');
    }
    sha256_hex(text.as_bytes())
}

fn load(cache: Option<&Path>, key: &str) -> Option<Vec<Vec<LockTaken>>> {
    let text = std::fs::read_to_string(cache?.join(format!("{key}.json"))).ok()?;
    serde_json::from_str(&text).ok()
}

fn save(cache: Option<&Path>, key: &str, locks: &[Vec<LockTaken>]) {
    // A cache that cannot be written only costs the next trace its time.
    let Some(dir) = cache else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    if let Ok(text) = serde_json::to_string(locks) {
        let tmp = dir.join(format!("{key}.json.tmp{}", std::process::id()));
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, dir.join(format!("{key}.json")));
        }
    }
}

/// Traces `scripts` (a plan, in order) on a shadow database; steps whose SQL is in `cache` are
/// not run again, and when every step is, no shadow is made at all.
pub fn trace(
    ws: &Workspace,
    settings: &Settings,
    url: &ResolvedUrl,
    scripts: &[StepScript],
    cache: Option<&Path>,
    cancel: &Cancel,
) -> Result<Trace> {
    let keys: Vec<Option<String>> = scripts
        .iter()
        .map(|s| match &s.body {
            StepBody::Sql(statements) => Some(key(statements)),
            StepBody::OnlineOnly { .. } => None,
        })
        .collect();
    let found: Vec<Option<Vec<Vec<LockTaken>>>> = keys
        .iter()
        .map(|k| k.as_deref().and_then(|k| load(cache, k)))
        .collect();
    let all_cached = keys
        .iter()
        .zip(&found)
        .all(|(k, f)| k.is_none() || f.is_some());
    if all_cached || scripts.is_empty() {
        let cached = found.iter().filter(|f| f.is_some()).count();
        let steps = found
            .into_iter()
            .map(|f| {
                f.map_or_else(
                    || StepLocks::NotTraced(ONLINE.to_owned()),
                    StepLocks::Traced,
                )
            })
            .collect();
        return Ok(Trace { steps, cached });
    }
    let shadow = checks::shadow_for(settings, url)?;
    let setup = checks::plan_to_rows(&ws.map, &scripts[0].step.heads_before)?;
    let setup_scripts = checks::render(ws, settings, &shadow.url, &setup)?;
    let target = checks::shadow_target(ws, settings, &shadow.url);
    let rt = checks::runtime()?;
    let steps = rt.block_on(checks::with_shadow(&shadow, settings, async {
        checks::run_scripts(&target, &setup_scripts, cancel)
            .await
            .map_err(|e| {
                EngineError::Check(format!(
                    "building the shadow database for the lock trace: {e}"
                ))
            })?;
        let tracer = db::open(&shadow.url, ConnectOptions { read_only: false }).await?;
        let observer = db::connect(&shadow.url, ConnectOptions { read_only: false }).await?;
        let pid: i32 = tracer
            .client
            .query_one("SELECT pg_backend_pid()", &[])
            .await
            .map_err(|e| EngineError::Check(db::describe(&e, &shadow.url.url)))?
            .get(0);
        // Nothing else runs on the shadow; this only keeps a surprise from hanging the trace.
        let _ = tracer
            .client
            .batch_execute("SET lock_timeout = '60s'")
            .await;
        let mut out = Vec::new();
        let mut stopped: Option<String> = None;
        for (script, key) in scripts.iter().zip(&keys) {
            if cancel.is_cancelled() {
                return Err(EngineError::Check("cancelled".to_owned()));
            }
            if let Some(why) = &stopped {
                out.push(StepLocks::NotTraced(why.clone()));
                continue;
            }
            match &script.body {
                StepBody::OnlineOnly { .. } => {
                    out.push(StepLocks::NotTraced(ONLINE.to_owned()));
                    // The shadow must follow the plan for the steps after it.
                    if let Err(e) =
                        checks::run_scripts(&target, std::slice::from_ref(script), cancel).await
                    {
                        stopped = Some(format!("not traced: an earlier step failed there ({e})"));
                    }
                }
                StepBody::Sql(statements) => {
                    match trace_step(&tracer, pid, &observer, &shadow.url.url, statements).await {
                        Ok(locks) => {
                            if let Some(k) = key {
                                save(cache, k, &locks);
                            }
                            out.push(StepLocks::Traced(locks));
                        }
                        Err(e) => {
                            let why = format!("the step failed on the shadow database: {e}");
                            out.push(StepLocks::NotTraced(why));
                            stopped = Some(format!(
                                "not traced: step {} {} failed on the shadow database",
                                crate::engine::script::direction_word(script.step.direction),
                                script.step.revision
                            ));
                        }
                    }
                }
            }
        }
        Ok(out)
    }))?;
    Ok(Trace { steps, cached: 0 })
}

const ONLINE: &str =
    "not traced: alembic runs this step online, its statements are unknown beforehand";

/// Runs one step's statements in a transaction (autocommit ones alone, watched) and returns the
/// locks each took; the transaction commits so that the next step finds the schema it expects.
async fn trace_step(
    tracer: &Session,
    pid: i32,
    observer: &tokio_postgres::Client,
    url: &str,
    statements: &[ScriptStatement],
) -> std::result::Result<Vec<Vec<LockTaken>>, String> {
    let c = &tracer.client;
    let err = |e: tokio_postgres::Error| db::describe(&e, url);
    let derr = |e: db::DbError| e.to_string();
    // Names of relations a statement drops: after the drop, regclass prints only their oid.
    let names: HashMap<u32, String> = db_locks::relation_names(c, url)
        .await
        .map_err(derr)?
        .into_iter()
        .collect();
    c.batch_execute("BEGIN").await.map_err(err)?;
    let mut held = lock_set(&db_locks::relation_locks(c, url, pid).await.map_err(derr)?);
    let mut out = Vec::new();
    for st in statements {
        if st.autocommit {
            c.batch_execute("COMMIT").await.map_err(err)?;
            let seen = observe(tracer, pid, observer, url, &st.text).await?;
            out.push(strongest(&seen, &HashSet::new(), &names, false));
            c.batch_execute("BEGIN").await.map_err(err)?;
            held = lock_set(&db_locks::relation_locks(c, url, pid).await.map_err(derr)?);
            continue;
        }
        if let Err(e) = c.batch_execute(&st.text).await {
            let _ = c.batch_execute("ROLLBACK").await;
            return Err(format!("{}; statement: {}", err(e), st.text));
        }
        let now = db_locks::relation_locks(c, url, pid).await.map_err(derr)?;
        out.push(strongest(&now, &held, &names, true));
        held = lock_set(&now);
    }
    c.batch_execute("COMMIT").await.map_err(err)?;
    Ok(out)
}

fn lock_set(locks: &[HeldLock]) -> HashSet<(u32, String)> {
    locks.iter().map(|l| (l.oid, l.mode.clone())).collect()
}

/// The locks in `now` that are not in `held`, the strongest mode per relation, strongest first.
fn strongest(
    now: &[HeldLock],
    held: &HashSet<(u32, String)>,
    names: &HashMap<u32, String>,
    held_until_commit: bool,
) -> Vec<LockTaken> {
    let mut best: BTreeMap<u32, &HeldLock> = BTreeMap::new();
    for l in now
        .iter()
        .filter(|l| !held.contains(&(l.oid, l.mode.clone())))
    {
        let e = best.entry(l.oid).or_insert(l);
        if db_locks::strength(&l.mode) > db_locks::strength(&e.mode) {
            *e = l;
        }
    }
    let mut out: Vec<LockTaken> = best
        .values()
        .map(|l| {
            let relation = if l.relation.chars().all(|c| c.is_ascii_digit()) {
                names
                    .get(&l.oid)
                    .cloned()
                    .unwrap_or_else(|| format!("relation {} (made and dropped here)", l.oid))
            } else {
                l.relation.clone()
            };
            LockTaken {
                relation,
                mode: l.mode.clone(),
                held_until_commit,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        db_locks::strength(&b.mode)
            .cmp(&db_locks::strength(&a.mode))
            .then_with(|| a.relation.cmp(&b.relation))
    });
    out
}

/// Runs an autocommit statement while the observer holds a snapshot and ACCESS SHARE on every
/// table: CREATE INDEX CONCURRENTLY waits for the snapshot, DROP INDEX CONCURRENTLY for the
/// table locks. While it waits its locks are read; then the observer lets go.
async fn observe(
    tracer: &Session,
    pid: i32,
    observer: &tokio_postgres::Client,
    url: &str,
    sql: &str,
) -> std::result::Result<Vec<HeldLock>, String> {
    let err = |e: tokio_postgres::Error| db::describe(&e, url);
    observer
        .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT 1")
        .await
        .map_err(err)?;
    let tables: Vec<String> = observer
        .query(
            "SELECT c.oid::regclass::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
               AND n.nspname NOT LIKE 'pg_toast%'",
            &[],
        )
        .await
        .map_err(err)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if !tables.is_empty() {
        observer
            .batch_execute(&format!(
                "LOCK TABLE {} IN ACCESS SHARE MODE",
                tables.join(", ")
            ))
            .await
            .map_err(err)?;
    }
    let mut seen: Vec<HeldLock> = Vec::new();
    let run = tracer.client.batch_execute(sql);
    tokio::pin!(run);
    let mut released = false;
    let result = loop {
        tokio::select! {
            r = &mut run => break r,
            _ = tokio::time::sleep(Duration::from_millis(10)), if !released => {
                let locks = db_locks::relation_locks(observer, url, pid).await.map_err(|e| e.to_string())?;
                merge(&mut seen, locks);
                let waiting: bool = observer
                    .query_one("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted)", &[&pid])
                    .await
                    .map_err(err)?
                    .get(0);
                if waiting {
                    let locks = db_locks::relation_locks(observer, url, pid).await.map_err(|e| e.to_string())?;
                    merge(&mut seen, locks);
                    observer.batch_execute("ROLLBACK").await.map_err(err)?;
                    released = true;
                }
            }
        }
    };
    if !released {
        observer.batch_execute("ROLLBACK").await.map_err(err)?;
    }
    result.map_err(|e| format!("{}; statement: {sql}", err(e)))?;
    Ok(seen)
}

fn merge(seen: &mut Vec<HeldLock>, locks: Vec<HeldLock>) {
    for l in locks {
        if !seen.contains(&l) {
            seen.push(l);
        }
    }
}

/// Sessions on the target that stand in the way of the traced locks.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Preflight {
    /// Holding or waiting for a conflicting lock, or in a long transaction on those relations.
    pub blockers: Vec<Blocker>,
    /// What this role cannot see (None: it sees every session).
    pub missing: Option<String>,
}

/// A transaction this old on a relation the plan locks is listed even when its locks do not
/// conflict yet: it keeps the catalog and its snapshot, and may take more.
pub const LONG_TRANSACTION_S: f64 = 60.0;

/// The pre-flight: who on the target holds or waits for locks that conflict with `planned`.
pub async fn preflight_async(
    client: &tokio_postgres::Client,
    url: &str,
    planned: &[Planned],
) -> Result<Preflight> {
    let sees = db_locks::sees_all_activity(client).await;
    let blockers = db_locks::conflicting_sessions(client, url, planned, LONG_TRANSACTION_S).await?;
    let missing = match sees {
        Some(true) => None,
        Some(false) => Some(
            "this role sees other users' sessions without their state and query: grant it \
             pg_read_all_stats (or use a superuser) for a complete pre-flight"
                .to_owned(),
        ),
        None => {
            Some("the server would not say whether this role may see other sessions".to_owned())
        }
    };
    Ok(Preflight { blockers, missing })
}

/// A plan's lock trace and the pre-flight on its target.
#[derive(Debug, Clone, PartialEq)]
pub struct LockReport {
    pub trace: Trace,
    pub preflight: Preflight,
}

/// Traces `scripts` (see [`trace`]) and runs the pre-flight for what they lock.
pub fn report(
    ws: &Workspace,
    settings: &Settings,
    url: &ResolvedUrl,
    scripts: &[StepScript],
    cache: Option<&Path>,
    cancel: &Cancel,
) -> Result<LockReport> {
    let trace = trace(ws, settings, url, scripts, cache, cancel)?;
    let preflight = preflight(settings, url, &trace.planned())?;
    Ok(LockReport { trace, preflight })
}

/// [`preflight_async`] on a connection of its own, for blocking callers.
pub fn preflight(settings: &Settings, url: &ResolvedUrl, planned: &[Planned]) -> Result<Preflight> {
    crate::engine::runtime()?.block_on(async {
        let client = db::connect(
            url,
            ConnectOptions {
                read_only: settings.read_only,
            },
        )
        .await?;
        preflight_async(&client, &url.url, planned).await
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(oid: u32, relation: &str, mode: &str) -> HeldLock {
        HeldLock {
            oid,
            relation: relation.to_owned(),
            mode: mode.to_owned(),
        }
    }

    #[test]
    fn a_statement_is_charged_with_the_new_locks_only_the_strongest_per_relation() {
        let held_before: HashSet<(u32, String)> =
            [(1, "RowExclusiveLock".to_owned())].into_iter().collect();
        let now = [
            held(1, "t1", "RowExclusiveLock"),
            held(2, "t2", "ShareLock"),
            held(2, "t2", "AccessShareLock"),
            held(3, "3", "AccessExclusiveLock"),
        ];
        let names: HashMap<u32, String> = [(3, "gone".to_owned())].into_iter().collect();
        let got = strongest(&now, &held_before, &names, true);
        let pairs: Vec<(&str, &str)> = got
            .iter()
            .map(|l| (l.relation.as_str(), l.mode.as_str()))
            .collect();
        assert_eq!(
            pairs,
            [("gone", "AccessExclusiveLock"), ("t2", "ShareLock")]
        );
    }

    #[test]
    fn the_key_is_the_sql_as_it_runs() {
        let st = |text: &str, autocommit| ScriptStatement {
            text: text.to_owned(),
            autocommit,
            kind: crate::engine::script::StatementKind::Body,
        };
        assert_eq!(key(&[st("A", false)]), key(&[st("A", false)]));
        assert_ne!(key(&[st("A", false)]), key(&[st("A", true)]));
        assert_ne!(key(&[st("A", false)]), key(&[st("B", false)]));
    }
}
