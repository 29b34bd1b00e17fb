//! Lock and activity queries: who blocks a backend (`pg_blocking_pids`), who holds the migration
//! advisory lock, which relation locks a backend holds, which sessions hold or wait for locks
//! that conflict with a mode we are about to take, and whether this role may see them at all.

use serde::Serialize;
use tokio_postgres::Client;

use crate::db::version_table::VersionTable;
use crate::db::{describe, DbError};

/// A query's text is cut to this many characters wherever another session's query is shown.
pub const QUERY_CHARS: usize = 120;

/// Another session, as a lock report names it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocker {
    pub pid: i32,
    pub user: String,
    pub application: String,
    /// `active`, `idle in transaction`, … (empty when this role may not see it).
    pub state: String,
    /// Seconds since its transaction began (None: not in a transaction, or not visible).
    pub xact_age_s: Option<f64>,
    /// Its current or last query, on one line and truncated to [`QUERY_CHARS`].
    pub query: String,
    /// This role may cancel its statement (`pg_cancel_backend`).
    pub may_cancel: bool,
}

impl std::fmt::Display for Blocker {
    /// "pid 8861 (psql, idle in transaction 12 s: select …)".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let app = if self.application.is_empty() {
            "no application name"
        } else {
            &self.application
        };
        let state = if self.state.is_empty() {
            "state hidden"
        } else {
            &self.state
        };
        let age = self
            .xact_age_s
            .map(|s| format!(" {} s", s.round()))
            .unwrap_or_default();
        write!(f, "pid {} ({app}, {state}{age}: {})", self.pid, self.query)
    }
}

/// "waiting for AccessExclusiveLock on products — blocked by pid 8861 (psql, idle in transaction
/// 12 s: select …)", or that the wait is over.
pub fn waiting_text(waiting_for: Option<&Wait>, blocked_by: &[Blocker]) -> String {
    if blocked_by.is_empty() {
        return "no longer waiting for a lock".to_owned();
    }
    let what = waiting_for.map_or_else(
        || "waiting for a lock".to_owned(),
        |w| format!("waiting for {} on {}", w.mode, w.relation),
    );
    let who: Vec<String> = blocked_by.iter().map(Blocker::to_string).collect();
    format!("{what} — blocked by {}", who.join("; "))
}

/// What a waiting backend waits for: a lock mode on a relation (or another lock type).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Wait {
    pub mode: String,
    pub relation: String,
}

/// A session holding the migration advisory lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InProgress {
    pub pid: i32,
    pub user: String,
    /// The client address, or `local` for a unix socket.
    pub host: String,
    /// When its session started (the executor opens one per plan).
    pub since: String,
    /// The step it runs, from its application_name (`alembic-tui: upgrade abc (2/5)`).
    pub step: Option<String>,
}

impl std::fmt::Display for InProgress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "migration in progress by pid {} ({}, {}, since {}, step {})",
            self.pid,
            self.user,
            self.host,
            self.since,
            self.step.as_deref().unwrap_or("unknown")
        )
    }
}

/// The application_name the executor sets while it runs a step; `step_of` reads it back.
pub const APPLICATION: &str = "alembic-tui";

/// `alembic-tui: upgrade abc (2/5)`.
pub fn step_application(direction: &str, revision: &str, index: usize, of: usize) -> String {
    // application_name keeps 63 bytes: the step is cut first.
    let mut name = format!("{APPLICATION}: {direction} {revision} ({}/{of})", index + 1);
    while name.len() > 63 {
        name.pop();
    }
    name
}

fn step_of(application: &str) -> Option<String> {
    application
        .strip_prefix(APPLICATION)
        .and_then(|rest| rest.strip_prefix(": "))
        .map(str::to_owned)
}

/// The key text of the migration advisory lock: database + version table. The lock itself is
/// `hashtextextended(current_database() || ':' || key, 0)`.
pub fn migration_key(vt: &VersionTable) -> String {
    format!("{APPLICATION}:{}", vt.qualified())
}

fn query_error(e: &tokio_postgres::Error, url: &str) -> DbError {
    DbError::Query {
        target: crate::config::redact(url),
        message: describe(e, url),
    }
}

/// One line, at most [`QUERY_CHARS`] characters.
pub fn truncate_query(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > QUERY_CHARS {
        let cut: String = flat.chars().take(QUERY_CHARS).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

const SESSION_COLUMNS: &str = "a.pid, coalesce(a.usename::text, ''), \
     coalesce(a.application_name, ''), coalesce(a.state, ''), \
     extract(epoch FROM now() - a.xact_start)::float8, coalesce(a.query, ''), \
     coalesce(pg_has_role(current_user, a.usesysid, 'USAGE') \
              OR (pg_has_role(current_user, 'pg_signal_backend', 'USAGE') \
                  AND NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.oid = a.usesysid)), false)";

fn blocker(row: &tokio_postgres::Row) -> Blocker {
    Blocker {
        pid: row.get(0),
        user: row.get(1),
        application: row.get(2),
        state: row.get(3),
        xact_age_s: row
            .get::<_, Option<f64>>(4)
            .map(|s| (s * 10.0).round() / 10.0),
        query: truncate_query(&row.get::<_, String>(5)),
        may_cancel: row.get(6),
    }
}

/// The sessions `pid` waits for, and what it waits for (None when it waits for nothing).
pub async fn blocked_by(
    client: &Client,
    url: &str,
    pid: i32,
) -> Result<(Option<Wait>, Vec<Blocker>), DbError> {
    let rows = client
        .query(
            &format!(
                "SELECT {SESSION_COLUMNS} FROM pg_stat_activity a \
                 WHERE a.pid = ANY (pg_blocking_pids($1)) ORDER BY a.pid"
            ),
            &[&pid],
        )
        .await
        .map_err(|e| query_error(&e, url))?;
    if rows.is_empty() {
        return Ok((None, Vec::new()));
    }
    let wait = client
        .query_opt(
            "SELECT l.mode, coalesce(l.relation::regclass::text, l.locktype) FROM pg_locks l \
             WHERE l.pid = $1 AND NOT l.granted LIMIT 1",
            &[&pid],
        )
        .await
        .map_err(|e| query_error(&e, url))?
        .map(|r| Wait {
            mode: r.get(0),
            relation: r.get(1),
        });
    Ok((wait, rows.iter().map(blocker).collect()))
}

/// Who holds the migration advisory lock for `vt` on this database (None: nobody).
pub async fn migration_in_progress(
    client: &Client,
    url: &str,
    vt: &VersionTable,
) -> Result<Option<InProgress>, DbError> {
    // The lock's two 32-bit halves are classid and objid in pg_locks.
    let row = client
        .query_opt(
            "WITH k AS (SELECT hashtextextended(current_database() || ':' || $1, 0) AS key) \
             SELECT a.pid, to_char(a.backend_start, 'YYYY-MM-DD HH24:MI:SS TZ'), \
                    coalesce(a.usename::text, ''), coalesce(a.client_addr::text, 'local'), \
                    coalesce(a.application_name, '') \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid, k \
             WHERE l.locktype = 'advisory' AND l.granted AND l.database = \
                   (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND l.classid = ((k.key >> 32) & 4294967295)::bigint::oid \
               AND l.objid = (k.key & 4294967295)::bigint::oid AND l.objsubid = 1 \
               AND l.pid <> pg_backend_pid() LIMIT 1",
            &[&migration_key(vt)],
        )
        .await
        .map_err(|e| query_error(&e, url))?;
    Ok(row.map(|r| InProgress {
        pid: r.get(0),
        since: r.get::<_, Option<String>>(1).unwrap_or_default(),
        user: r.get(2),
        host: r.get(3),
        step: step_of(&r.get::<_, String>(4)),
    }))
}

/// A relation lock a backend holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldLock {
    pub oid: u32,
    /// The relation's name as `regclass` prints it (its oid when it no longer exists).
    pub relation: String,
    pub mode: String,
}

/// The granted relation locks of `pid` outside the system schemas.
pub async fn relation_locks(
    client: &Client,
    url: &str,
    pid: i32,
) -> Result<Vec<HeldLock>, DbError> {
    let rows = client
        .query(
            "SELECT l.relation::oid, l.relation::regclass::text, l.mode FROM pg_locks l \
             LEFT JOIN pg_class c ON c.oid = l.relation \
             LEFT JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE l.pid = $1 AND l.granted AND l.locktype = 'relation' \
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
               AND coalesce(n.nspname NOT IN ('pg_catalog', 'information_schema') \
                            AND n.nspname NOT LIKE 'pg_toast%', true)",
            &[&pid],
        )
        .await
        .map_err(|e| query_error(&e, url))?;
    Ok(rows
        .iter()
        .map(|r| HeldLock {
            oid: r.get(0),
            relation: r.get(1),
            mode: r.get(2),
        })
        .collect())
}

/// Asks the server to cancel `pid`'s running statement; false when it was not signalled.
pub async fn cancel_backend(client: &Client, url: &str, pid: i32) -> Result<bool, DbError> {
    let row = client
        .query_one("SELECT pg_cancel_backend($1)", &[&pid])
        .await
        .map_err(|e| query_error(&e, url))?;
    Ok(row.get(0))
}

/// Every user relation's oid and name (names for relations a statement drops).
pub async fn relation_names(client: &Client, url: &str) -> Result<Vec<(u32, String)>, DbError> {
    let rows = client
        .query(
            "SELECT c.oid, c.oid::regclass::text FROM pg_class c \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
               AND n.nspname NOT LIKE 'pg_toast%'",
            &[],
        )
        .await
        .map_err(|e| query_error(&e, url))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// PostgreSQL's table-level lock modes, weakest first.
pub const MODES: [&str; 8] = [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
];

/// A mode's rank in [`MODES`] (unknown modes rank below all).
pub fn strength(mode: &str) -> usize {
    MODES.iter().position(|m| *m == mode).map_or(0, |i| i + 1)
}

/// Whether two table-level lock modes conflict (PostgreSQL's conflict table).
pub fn conflicts(a: &str, b: &str) -> bool {
    // Each mode's conflicts as a bit set over MODES.
    const TABLE: [u8; 8] = [
        0b1000_0000,
        0b1100_0000,
        0b1111_0000,
        0b1111_1000,
        0b1110_1100,
        0b1111_1100,
        0b1111_1110,
        0b1111_1111,
    ];
    let (Some(i), Some(j)) = (
        MODES.iter().position(|m| *m == a),
        MODES.iter().position(|m| *m == b),
    ) else {
        return false;
    };
    TABLE[i] & (1 << j) != 0
}

/// Whether this role sees other sessions' activity (queries, states): superuser or a member of
/// `pg_read_all_stats`. None when the server will not say.
pub async fn sees_all_activity(client: &Client) -> Option<bool> {
    let row = client
        .query_one(
            "SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) \
                    OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE')",
            &[],
        )
        .await
        .ok()?;
    row.try_get(0).ok()
}

/// A relation the plan will lock, and the strongest mode it takes there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub relation: String,
    pub mode: String,
}

/// Sessions other than ours holding or waiting for a lock on one of `planned`'s relations that
/// conflicts with the mode we will take there, and sessions whose transaction on one of them is
/// older than `long_s` seconds. Relations that do not exist on the target yet are skipped.
pub async fn conflicting_sessions(
    client: &Client,
    url: &str,
    planned: &[Planned],
    long_s: f64,
) -> Result<Vec<Blocker>, DbError> {
    let names: Vec<String> = planned.iter().map(|p| p.relation.clone()).collect();
    let rows = client
        .query(
            &format!(
                "SELECT {SESSION_COLUMNS}, l.mode, p.name FROM pg_locks l \
                 JOIN unnest($1::text[]) AS p(name) ON l.relation = to_regclass(p.name) \
                 JOIN pg_stat_activity a ON a.pid = l.pid \
                 WHERE l.locktype = 'relation' AND l.pid <> pg_backend_pid() \
                   AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
                 ORDER BY a.pid"
            ),
            &[&names],
        )
        .await
        .map_err(|e| query_error(&e, url))?;
    let mut out: Vec<Blocker> = Vec::new();
    for row in &rows {
        let mode: String = row.get(7);
        let name: String = row.get(8);
        let ours = planned
            .iter()
            .filter(|p| p.relation == name)
            .any(|p| conflicts(&p.mode, &mode));
        let b = blocker(row);
        let long = b.xact_age_s.is_some_and(|s| s >= long_s);
        if (ours || long) && !out.iter().any(|o| o.pid == b.pid) {
            out.push(b);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_conflict_table_is_symmetric_and_matches_the_documentation() {
        for a in MODES {
            for b in MODES {
                assert_eq!(conflicts(a, b), conflicts(b, a), "{a} vs {b}");
            }
        }
        assert!(conflicts("AccessExclusiveLock", "AccessShareLock"));
        assert!(!conflicts("ShareUpdateExclusiveLock", "RowExclusiveLock"));
        assert!(conflicts(
            "ShareUpdateExclusiveLock",
            "ShareUpdateExclusiveLock"
        ));
        assert!(conflicts("ShareLock", "RowExclusiveLock"));
        assert!(!conflicts("ShareLock", "ShareLock"));
        assert!(conflicts("ShareRowExclusiveLock", "ShareRowExclusiveLock"));
        assert!(conflicts("RowShareLock", "ExclusiveLock"));
        assert!(!conflicts("AccessShareLock", "ExclusiveLock"));
    }

    #[test]
    fn step_names_fit_application_name_and_read_back() {
        let name = step_application("upgrade", "abc123", 1, 5);
        assert_eq!(name, "alembic-tui: upgrade abc123 (2/5)");
        assert_eq!(step_of(&name).as_deref(), Some("upgrade abc123 (2/5)"));
        assert_eq!(step_of("alembic-tui"), None);
        assert!(step_application("downgrade", &"x".repeat(100), 0, 1).len() <= 63);
    }
}
