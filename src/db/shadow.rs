//! Throwaway ("shadow") databases for `drift` and `verify`: created with CREATE DATABASE through
//! a connection to a server's database, reached by the same URL with the database name swapped,
//! and dropped afterwards (forcibly, so a connection left behind by alembic cannot keep it).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::config::{redact, ResolvedUrl};
use crate::db::version_table::quote_ident;
use crate::db::{self, describe, ConnectOptions, DbError};

/// A shadow database: named by [`Shadow::plan`], made by [`Shadow::create`], gone after
/// [`Shadow::drop_database`].
#[derive(Debug)]
pub struct Shadow {
    /// The shadow database itself.
    pub url: ResolvedUrl,
    pub name: String,
    /// Where CREATE and DROP DATABASE run.
    admin: ResolvedUrl,
}

/// A name no other run uses: our prefix (so an abandoned one is recognisable), the process id,
/// the time and a counter. Well under PostgreSQL's 63-byte limit.
pub fn fresh_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "alembic_tui_shadow_{}_{nanos}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// The URL with its database replaced by `name`: the path is rewritten and any `dbname=`
/// option removed; host, user, password and other options stay.
pub fn with_database(url: &str, name: &str) -> Result<String, String> {
    let Some(parts) = crate::dburl::split(url) else {
        return Err(format!("{} is not a postgresql:// URL", redact(url)));
    };
    let credentials = parts.userinfo.map(|i| format!("{i}@")).unwrap_or_default();
    let mut out = format!(
        "{}://{credentials}{}/{}",
        parts.scheme,
        parts.authority(),
        encode_path(name)
    );
    if parts.query.is_some() {
        let kept: Vec<&str> = parts
            .options()
            .filter(|kv| !kv.starts_with("dbname="))
            .collect();
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
    }
    Ok(out)
}

/// Percent-encodes what a URL path segment cannot hold as is.
fn encode_path(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Shadow {
    /// Chooses a fresh name beside the database `admin` names; nothing is created yet, so the
    /// URL can be handed out (to the renderer) before the database exists.
    pub fn plan(admin: &ResolvedUrl) -> Result<Shadow, DbError> {
        let name = fresh_name();
        let url = with_database(&admin.url, &name).map_err(|message| DbError::Config {
            target: redact(&admin.url),
            message,
        })?;
        Ok(Shadow {
            url: ResolvedUrl {
                url,
                source: admin.source.clone(),
            },
            name,
            admin: admin.clone(),
        })
    }

    /// Creates the (empty) database, and in it the schema of the version table when the profile
    /// names one: on the real database a DBA made that schema, not the history, and the
    /// version table cannot be created without it.
    pub async fn create(&self, version_table_schema: Option<&str>) -> Result<(), DbError> {
        let client = db::connect(&self.admin, ConnectOptions { read_only: false }).await?;
        client
            .batch_execute(&format!("CREATE DATABASE {}", quote_ident(&self.name)))
            .await
            .map_err(|e| DbError::Query {
                target: redact(&self.admin.url),
                message: format!(
                    "creating the shadow database {}: {}",
                    self.name,
                    describe(&e, &self.admin.url)
                ),
            })?;
        let Some(schema) = version_table_schema else {
            return Ok(());
        };
        let shadow = db::connect(&self.url, ConnectOptions { read_only: false }).await?;
        shadow
            .batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {}",
                quote_ident(schema)
            ))
            .await
            .map_err(|e| DbError::Query {
                target: redact(&self.url.url),
                message: format!(
                    "creating the version table's schema {schema} in the shadow database: {}",
                    describe(&e, &self.url.url)
                ),
            })
    }

    /// Drops the database, ending any session still connected to it.
    pub async fn drop_database(&self) -> Result<(), DbError> {
        let target = redact(&self.admin.url);
        let client = db::connect(&self.admin, ConnectOptions { read_only: false }).await?;
        let name = quote_ident(&self.name);
        let forced = client
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await;
        let result = match forced {
            // Before PostgreSQL 13 there is no FORCE: try the plain form.
            Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::SYNTAX_ERROR) => client
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
                .await
                .map_err(|e| describe(&e, &self.admin.url)),
            other => other.map_err(|e| describe(&e, &self.admin.url)),
        };
        result.map_err(|message| DbError::Query {
            target,
            message: format!("dropping the shadow database {}: {message}", self.name),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_swapped_and_the_rest_kept() {
        assert_eq!(
            with_database("postgresql://u:pw@db.example:6432/app?sslmode=require", "s").unwrap(),
            "postgresql://u:pw@db.example:6432/s?sslmode=require"
        );
        assert_eq!(
            with_database("postgresql://u@h", "s").unwrap(),
            "postgresql://u@h/s"
        );
        assert_eq!(
            with_database(
                "postgresql://postgres@/app?host=/tmp/x&port=5432&dbname=app",
                "s"
            )
            .unwrap(),
            "postgresql://postgres@/s?host=/tmp/x&port=5432"
        );
        assert_eq!(
            with_database("postgresql://h/a", "x y").unwrap(),
            "postgresql://h/x%20y"
        );
        assert!(with_database("nonsense", "s").is_err());
    }

    #[test]
    fn names_are_fresh_and_short() {
        let (a, b) = (fresh_name(), fresh_name());
        assert_ne!(a, b);
        assert!(a.len() < 63, "{a}");
        assert!(a.starts_with("alembic_tui_shadow_"));
    }
}
