//! alembic's version table: reading the current rows, and naming rows no revision file defines.

use std::fmt;

use tokio_postgres::Client;

use crate::db::{describe, DbError};

/// Where alembic keeps its rows (`context.configure(version_table=…, version_table_schema=…)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionTable {
    pub table: String,
    /// None: the first schema on the search path that has the table.
    pub schema: Option<String>,
}

impl Default for VersionTable {
    fn default() -> VersionTable {
        VersionTable {
            table: "alembic_version".to_owned(),
            schema: None,
        }
    }
}

impl fmt::Display for VersionTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.schema {
            Some(schema) => write!(f, "{schema}.{}", self.table),
            None => write!(f, "{}", self.table),
        }
    }
}

/// An identifier quoted for SQL.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A string quoted as an SQL literal.
pub fn quote_literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl VersionTable {
    /// Where the profile says alembic keeps its rows.
    pub fn of(settings: &crate::config::Settings) -> VersionTable {
        VersionTable {
            table: settings.version_table.clone(),
            schema: settings.version_table_schema.clone(),
        }
    }

    /// The table as SQL names it.
    pub fn qualified(&self) -> String {
        match &self.schema {
            Some(schema) => format!("{}.{}", quote_ident(schema), quote_ident(&self.table)),
            None => quote_ident(&self.table),
        }
    }

    /// The current rows in database order; a missing table (or schema) means nothing applied.
    /// `url` is the connection's URL: errors show it redacted.
    pub async fn read(&self, client: &Client, url: &str) -> Result<Vec<String>, DbError> {
        let query_error = |e: tokio_postgres::Error| DbError::Query {
            target: crate::config::redact(url),
            message: format!("reading {self}: {}", describe(&e, url)),
        };
        // to_regclass resolves like the query would (search path, quoting) without failing.
        let exists: Option<String> = client
            .query_one("SELECT to_regclass($1)::text", &[&self.qualified()])
            .await
            .map_err(query_error)?
            .get(0);
        if exists.is_none() {
            return Ok(Vec::new());
        }
        let rows = client
            .query(
                &format!("SELECT version_num::text FROM {}", self.qualified()),
                &[],
            )
            .await
            .map_err(query_error)?;
        Ok(rows.iter().map(|r| r.get::<_, String>(0)).collect())
    }
}

/// A version-table row that names no revision on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRow {
    pub revision: String,
}

impl fmt::Display for UnknownRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "database is at {}, which no file in versions/ defines (another branch's revision, or a deleted file?)",
            self.revision
        )
    }
}

/// The rows that `known` does not recognise.
pub fn diagnose_rows(rows: &[String], known: impl Fn(&str) -> bool) -> Vec<UnknownRow> {
    rows.iter()
        .filter(|r| !known(r))
        .map(|r| UnknownRow {
            revision: r.clone(),
        })
        .collect()
}
